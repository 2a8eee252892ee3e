//! A report from the capture widget or extension: its shape, its limits, and how it becomes an
//! issue. Everything is bounded (refused, never truncated) and scrubbed of secrets here.

use crate::DomainError;
use crate::captured::{
    CapturedJson, CapturedWriter, EntryFields, MAX_DEPTH, check_value, read_fields, too_many,
};
use crate::fingerprint::{Fingerprints, Signals, request_failed};
use crate::issue::{IssueDraftInput, NewIssue, ProjectRules};
use crate::redact::{redact_json, redact_secrets};
use crate::values::Email;
use crate::version::Version;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// How much one report may carry; each is a setting of the server.
#[derive(Debug, Clone)]
pub struct IntakeLimits {
    pub console_entries: usize,
    pub error_entries: usize,
    pub network_entries: usize,
    pub action_entries: usize,
    /// Longest single string (a console message, a stack, a URL), in characters.
    pub string_chars: usize,
    /// Most keys in `context.custom`.
    pub custom_keys: usize,
}

impl Default for IntakeLimits {
    fn default() -> Self {
        Self {
            console_entries: 1000,
            error_entries: 200,
            network_entries: 500,
            action_entries: 500,
            string_chars: 20_000,
            custom_keys: 50,
        }
    }
}

/// Who reported, as they told the widget.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct GuestInput {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The report JSON of CONTRACT.md, as sent; only `title` is required. The captured lists are
/// kept as the sender's text, each entry read once by [`IntakeReport::parse`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct IntakeReportInput<'a> {
    #[serde(rename = "type")]
    pub issue_type: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub severity: Option<String>,
    pub reporter: Option<GuestInput>,
    pub page_url: Option<String>,
    /// Steps the reporter reviewed in the widget; generated from `actions` when absent.
    pub steps_to_reproduce: Option<String>,
    #[schema(value_type = Object)]
    pub context: Option<Value>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub console: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub network: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<&'a RawValue>,
    /// What the capture could not include (a cross-origin image, a tainted frame...).
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub capture_health: Vec<&'a RawValue>,
    /// A random id the sender made for this report (a UUID), the same on every resend: a
    /// report whose id was seen already is answered as before instead of filed twice.
    pub idempotency_key: Option<String>,
}

/// The sender's id of one report, sent again with every retry of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Fewest characters: the key also unlocks the report's status link, so it must be
    /// unguessable (a random UUID has 36).
    pub const MIN_CHARS: usize = 16;
    /// Most characters.
    pub const MAX_CHARS: usize = 128;

    /// A key of 16 to 128 visible ASCII characters (a UUID, say).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let refuse = |why: &str| DomainError::field("idempotency_key", why.to_string());
        if !(Self::MIN_CHARS..=Self::MAX_CHARS).contains(&text.len()) {
            return Err(refuse(
                "idempotency_key must be 16 to 128 characters: send a random UUID",
            ));
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refuse(
                "idempotency_key may hold visible ASCII characters only: send a random UUID",
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The key as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A report that passed every limit, scrubbed, ready to be filed.
#[derive(Debug, Clone)]
pub struct IntakeReport {
    pub issue: NewIssue,
    pub reporter_name: Option<String>,
    pub reporter_email: Option<String>,
    pub page_url: Option<String>,
    pub app_version: Option<String>,
    pub build: Option<String>,
    /// Everything captured, as stored and shown to developers.
    pub context: CapturedJson,
    /// Its technical fingerprints, computed after secrets were scrubbed.
    pub fingerprints: Fingerprints,
    /// The sender's id of the report, when it sent one in the JSON.
    pub idempotency_key: Option<IdempotencyKey>,
}

/// What the widget sends to ask whether a report looks like a known one before sending it:
/// the report's technical parts (other fields of a report are ignored), under the same limits
/// and redaction as the report itself.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MatchProbeInput<'a> {
    pub page_url: Option<String>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub console: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub errors: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub network: Vec<&'a RawValue>,
    #[serde(default, borrow)]
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<&'a RawValue>,
}

impl MatchProbeInput<'_> {
    /// Checks the limits, scrubs secrets and fingerprints what is left.
    pub fn fingerprints(self, limits: &IntakeLimits) -> Result<Fingerprints, DomainError> {
        let console = read_fields("console", &self.console, limits.console_entries, limits)?;
        let errors = read_fields("errors", &self.errors, limits.error_entries, limits)?;
        let network = read_fields("network", &self.network, limits.network_entries, limits)?;
        let actions = read_fields("actions", &self.actions, limits.action_entries, limits)?;
        let page_url = self.page_url.map(|u| redact_secrets(u.trim()).into_owned());
        Ok(Fingerprints::of(Signals {
            page_url: page_url.as_deref(),
            errors: &errors,
            console: &console,
            network: &network,
            actions: &actions,
        }))
    }
}

fn text_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A person's one-line summary of the environment a report came from.
fn describe_environment(context: &Value) -> String {
    let mut parts = Vec::new();
    let named =
        |name: &[&str], version: &[&str]| match (text_at(context, name), text_at(context, version))
        {
            (Some(n), Some(v)) => Some(format!("{n} {v}")),
            (Some(n), None) => Some(n.to_string()),
            _ => None,
        };
    if let Some(browser) = named(&["browser", "name"], &["browser", "version"]) {
        parts.push(browser);
    }
    if let Some(os) = named(&["os", "name"], &["os", "version"]) {
        parts.push(format!("on {os}"));
    }
    if let Some(device) = text_at(context, &["device"]) {
        parts.push(format!("({device})"));
    }
    let mut line = parts.join(" ");
    let viewport = context.get("viewport");
    if let (Some(w), Some(h)) = (
        viewport.and_then(|v| v.get("width")),
        viewport.and_then(|v| v.get("height")),
    ) {
        let ratio = viewport
            .and_then(|v| v.get("device_pixel_ratio"))
            .and_then(Value::as_f64)
            .unwrap_or(1.0);
        line.push_str(&format!(", viewport {w}×{h} @{ratio}x"));
    }
    for (label, key) in [
        ("locale", "locale"),
        ("time zone", "timezone"),
        ("app", "app_version"),
        ("build", "build"),
    ] {
        if let Some(value) = text_at(context, &[key]) {
            line.push_str(&format!(", {label} {value}"));
        }
    }
    line.trim_start_matches(", ").to_string()
}

/// Numbered steps from what the reporter did and what failed, in the order it happened.
pub fn repro_steps(
    page_url: Option<&str>,
    actions: &[EntryFields],
    network: &[EntryFields],
) -> String {
    let mut steps: Vec<(&str, String)> = Vec::new();
    for action in actions {
        let at = EntryFields::text(&action.timestamp).unwrap_or("");
        let target = EntryFields::text(&action.target).unwrap_or("the page");
        let step = match EntryFields::text(&action.kind).unwrap_or("") {
            "click" => format!("Click {target}"),
            "input" => format!("Type into {target}"),
            "navigation" | "navigate" => {
                format!("Go to {}", EntryFields::text(&action.url).unwrap_or(target))
            }
            "key" | "keypress" => format!(
                "Press {} in {target}",
                EntryFields::text(&action.key).unwrap_or("a key")
            ),
            "submit" => format!("Submit {target}"),
            other if !other.is_empty() => format!("{other} {target}"),
            _ => continue,
        };
        steps.push((at, step));
    }
    for request in network.iter().filter(|r| request_failed(r)) {
        let at = EntryFields::text(&request.timestamp).unwrap_or("");
        let method = EntryFields::text(&request.method).unwrap_or("GET");
        let url = EntryFields::text(&request.url).unwrap_or("?");
        let outcome = match request.status.unwrap_or(0) {
            0 => "failed without an answer".to_string(),
            status => format!("failed with {status}"),
        };
        steps.push((at, format!("Request {method} {url} {outcome}")));
    }
    // A stable sort keeps each list's own order where timestamps are missing or equal.
    steps.sort_by(|a, b| a.0.cmp(b.0));
    let mut lines: Vec<String> = page_url
        .map(|url| vec![format!("Open {url}")])
        .unwrap_or_default();
    lines.extend(steps.into_iter().map(|(_, step)| step));
    lines
        .iter()
        .enumerate()
        .map(|(i, step)| format!("{}. {step}", i + 1))
        .collect::<Vec<_>>()
        .join("\n")
}

impl IntakeReport {
    /// Checks every limit, scrubs secrets, and shapes the report into an issue to file.
    pub fn parse(input: IntakeReportInput, limits: &IntakeLimits) -> Result<Self, DomainError> {
        let idempotency_key = input
            .idempotency_key
            .as_deref()
            .map(IdempotencyKey::parse)
            .transpose()?;
        let mut context = match input.context {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(Value::Object(map)) => Value::Object(map),
            Some(_) => return Err(DomainError::field("context", "context must be an object")),
        };
        check_value("context", &context, limits, MAX_DEPTH)?;
        if let Some(custom) = context.get("custom") {
            let keys = custom.as_object().map(Map::len).unwrap_or(0);
            if keys > limits.custom_keys {
                return Err(too_many("custom", keys, limits.custom_keys));
            }
        }
        let page_url = input
            .page_url
            .map(|u| redact_secrets(u.trim()).into_owned())
            .filter(|u| !u.is_empty());
        if page_url.as_ref().is_some_and(|u| u.chars().count() > 4096) {
            return Err(DomainError::field(
                "page_url",
                "page_url is longer than 4096 characters",
            ));
        }
        let lists = [
            &input.console,
            &input.errors,
            &input.network,
            &input.actions,
            &input.capture_health,
        ];
        let sent: usize = lists
            .iter()
            .flat_map(|l| l.iter())
            .map(|r| r.get().len())
            .sum();
        let mut captured = CapturedWriter::new(sent + 4096);
        captured.value("page_url", &page_url);
        let console = captured.list("console", &input.console, limits.console_entries, limits)?;
        let errors = captured.list("errors", &input.errors, limits.error_entries, limits)?;
        let network = captured.list("network", &input.network, limits.network_entries, limits)?;
        let actions = captured.list("actions", &input.actions, limits.action_entries, limits)?;
        captured.list("capture_health", &input.capture_health, 100, limits)?;
        let fingerprints = Fingerprints::of(Signals {
            page_url: page_url.as_deref(),
            errors: &errors,
            console: &console,
            network: &network,
            actions: &actions,
        });
        captured.value("fingerprints", &fingerprints.all());
        redact_json(&mut context);
        let environment = describe_environment(&context);
        let app_version = text_at(&context, &["app_version"]).map(str::to_string);
        let build = text_at(&context, &["build"]).map(str::to_string);
        let steps = match input
            .steps_to_reproduce
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(steps) => redact_secrets(steps).into_owned(),
            None => repro_steps(page_url.as_deref(), &actions, &network),
        };
        captured.value("environment", &context);
        let guest = input.reporter.unwrap_or_default();
        let reporter_email = match guest
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(email) => Some(
                Email::parse(email)
                    .map_err(|e| DomainError::field("reporter", e.message))?
                    .as_str()
                    .to_string(),
            ),
            None => None,
        };
        let reporter_name = guest
            .name
            .map(|n| n.trim().chars().take(100).collect::<String>())
            .filter(|n| !n.is_empty());
        let draft = IssueDraftInput {
            issue_type: input.issue_type.unwrap_or_else(|| "bug".into()),
            title: redact_secrets(&input.title).into_owned(),
            description: input.description.map(|d| redact_secrets(&d).into_owned()),
            severity: input.severity,
            steps_to_reproduce: Some(steps),
            environment: Some(environment),
            affects_version: app_version
                .as_deref()
                .filter(|v| Version::parse("affects_version", v).is_ok())
                .map(str::to_string),
            ..Default::default()
        };
        // Reporters cannot know a project's components, so none is asked of them.
        let issue = NewIssue::parse(&draft, &ProjectRules::default())?;
        Ok(Self {
            issue,
            reporter_name,
            reporter_email,
            page_url,
            app_version,
            build,
            context: captured.finish(),
            fingerprints,
            idempotency_key,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_are_long_visible_ascii() {
        let uuid = "0193a5f2-7c1e-7d3a-9b1f-2c4e5a6b7c8d";
        assert_eq!(IdempotencyKey::parse(uuid).unwrap().as_str(), uuid);
        for bad in [
            "",
            "short-key",
            "0193a5f2 7c1e 7d3a 9b1f",
            "0193a5f2-7c1e-7d3a-9b1f-2c4e5a6b7cé",
            &"k".repeat(129),
        ] {
            let error = IdempotencyKey::parse(bad).unwrap_err();
            assert_eq!(error.field, Some("idempotency_key"), "{bad:?}");
        }
        let text = serde_json::json!({"title": "x", "idempotency_key": uuid}).to_string();
        let input: IntakeReportInput = serde_json::from_str(&text).unwrap();
        let report = IntakeReport::parse(input, &IntakeLimits::default()).unwrap();
        assert_eq!(report.idempotency_key.unwrap().as_str(), uuid);
    }
    use serde_json::json;

    fn report(value: Value) -> Result<IntakeReport, DomainError> {
        let text = value.to_string();
        let input: IntakeReportInput = serde_json::from_str(&text).unwrap();
        IntakeReport::parse(input, &IntakeLimits::default())
    }

    fn stored(report: &IntakeReport) -> Value {
        serde_json::from_str(report.context.as_str()).unwrap()
    }

    fn contract_example() -> Value {
        json!({
            "type": "bug", "title": "Checkout button does nothing", "description": "Clicked Pay, nothing happened",
            "severity": "major", "reporter": {"name": "Ana", "email": "ana@example.com"},
            "page_url": "https://shop.example.com/checkout?session=abc123",
            "context": {
                "user_agent": "Mozilla/5.0", "browser": {"name": "Chrome", "version": "131.0"},
                "os": {"name": "Windows", "version": "11"}, "device": "desktop",
                "viewport": {"width": 1440, "height": 900, "device_pixel_ratio": 2},
                "locale": "de-DE", "timezone": "Europe/Berlin", "app_version": "2.3.0", "build": "2.3.0+481",
                "user_id": "u-1934", "custom": {"plan": "pro"}
            },
            "console": [{"level": "error", "message": "TypeError: x is undefined", "timestamp": "2026-11-25T10:00:02Z", "stack": "at pay (app.js:10:4)"}],
            "errors": [{"message": "TypeError: x is undefined", "stack": "at pay", "source": "app.js", "line": 10, "column": 4}],
            "network": [
                {"method": "GET", "url": "https://shop.example.com/api/cart", "status": 200, "duration_ms": 40, "timestamp": "2026-11-25T10:00:00Z"},
                {"method": "POST", "url": "https://shop.example.com/api/pay", "status": 500, "duration_ms": 231, "timestamp": "2026-11-25T10:00:02Z"}
            ],
            "actions": [{"kind": "click", "target": "button#pay \"Pay now\"", "timestamp": "2026-11-25T10:00:01Z"}]
        })
    }

    #[test]
    fn the_contract_example_becomes_a_bug_report() {
        let report = report(contract_example()).unwrap();
        let fields = &report.issue.fields;
        assert_eq!(fields.title.as_str(), "Checkout button does nothing");
        assert_eq!(fields.affects_version.as_ref().unwrap().as_str(), "2.3.0");
        assert_eq!(report.build.as_deref(), Some("2.3.0+481"));
        assert_eq!(report.reporter_email.as_deref(), Some("ana@example.com"));
        assert_eq!(
            fields.steps_to_reproduce,
            "1. Open https://shop.example.com/checkout?session=[redacted]\n2. Click button#pay \"Pay now\"\n3. Request POST https://shop.example.com/api/pay failed with 500"
        );
        assert!(
            fields
                .environment
                .starts_with("Chrome 131.0 on Windows 11 (desktop), viewport 1440×900 @2x"),
            "{}",
            fields.environment
        );
        let context = stored(&report);
        assert_eq!(context["environment"]["custom"]["plan"], "pro");
        assert_eq!(context["console"][0]["stack"], "at pay (app.js:10:4)");
        assert_eq!(
            context["network"][1]["url"],
            "https://shop.example.com/api/pay"
        );
        assert_eq!(
            context["page_url"],
            "https://shop.example.com/checkout?session=[redacted]"
        );
        assert_eq!(
            report.fingerprints.request.as_ref().unwrap().text,
            "POST /api/pay 500"
        );
        assert_eq!(context["fingerprints"][0]["kind"], "error");
        assert!(report.fingerprints.match_key().is_some());
    }

    #[test]
    fn a_probe_is_fingerprinted_like_the_report() {
        let text = contract_example().to_string();
        let input: MatchProbeInput = serde_json::from_str(&text).unwrap();
        let probed = input.fingerprints(&IntakeLimits::default()).unwrap();
        assert_eq!(probed, report(contract_example()).unwrap().fingerprints);
        let mut flood = contract_example();
        flood["errors"] = Value::Array(vec![json!({"message": "x"}); 1000]);
        let text = flood.to_string();
        let input: MatchProbeInput = serde_json::from_str(&text).unwrap();
        assert_eq!(
            input
                .fingerprints(&IntakeLimits::default())
                .unwrap_err()
                .field,
            Some("errors")
        );
    }

    #[test]
    fn limits_refuse_instead_of_truncating() {
        let mut value = contract_example();
        value["console"] = Value::Array(vec![json!({"level": "log", "message": "x"}); 100_000]);
        let err = report(value).unwrap_err();
        assert_eq!(err.field, Some("console"));
        assert!(err.message.contains("100000"));
        let mut value = contract_example();
        value["errors"][0]["stack"] = json!("x".repeat(30_000));
        assert_eq!(report(value).unwrap_err().field, Some("errors"));
        let mut value = contract_example();
        value["context"]["custom"] = json!({"a": {"b": {"c": {"d": {"e": 1}}}}});
        assert_eq!(report(value).unwrap_err().field, Some("context"));
        let mut value = contract_example();
        value["console"] = json!(["not an object"]);
        assert_eq!(report(value).unwrap_err().field, Some("console"));
    }

    #[test]
    fn secrets_never_reach_the_stored_report() {
        let mut value = contract_example();
        value["network"][1]["url"] = json!("https://shop.example.com/api/pay?access_token=SECRET1");
        value["console"][0]["message"] =
            json!("paid with 4111 1111 1111 1111, Authorization: Bearer SECRET2abc");
        value["context"]["custom"]["token"] = json!("SECRET3");
        let stored = report(value).unwrap();
        let text = stored.context.as_str().to_string() + &stored.issue.fields.steps_to_reproduce;
        for secret in ["SECRET1", "SECRET2", "SECRET3", "4111 1111"] {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }

    #[test]
    fn only_the_title_is_required() {
        let minimal = report(json!({"title": "Something broke"})).unwrap();
        assert_eq!(minimal.issue.fields.issue_type, crate::IssueType::Bug);
        assert!(report(json!({"title": "  "})).is_err());
        assert_eq!(
            report(json!({"title": "x", "reporter": {"email": "nope"}}))
                .unwrap_err()
                .field,
            Some("reporter")
        );
        assert_eq!(
            report(json!({"title": "x", "type": "feature", "severity": "major"}))
                .unwrap_err()
                .field,
            Some("severity")
        );
    }
}
