//! Technical fingerprints of a captured report, and what a match against known issues means.
//!
//! A report gets up to four fingerprints: its top error (message with numbers, ids, quoted
//! values and query strings stripped, plus the top stack frames without line numbers or
//! cache-busting hashes), its failing request (method, path pattern, status), its page route
//! and the element acted on last. Only the first two are specific enough to match on (see
//! [`Fingerprints::match_key`]); route and element are kept for people to read.

use crate::captured::EntryFields;
use crate::version::Version;
use crate::vocabulary::{Resolution, Status};
use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// How many stack frames identify an error: enough to tell call sites apart, few enough that
/// an unrelated caller further down does not split one bug into many.
const TOP_FRAMES: usize = 3;
/// Longest normalized text kept; past this, messages are data rather than a signature.
const MAX_TEXT: usize = 300;

/// What a fingerprint describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FingerprintKind {
    Error,
    Request,
    Route,
    Element,
}

impl FingerprintKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FingerprintKind::Error => "error",
            FingerprintKind::Request => "request",
            FingerprintKind::Route => "route",
            FingerprintKind::Element => "element",
        }
    }
}

/// One normalized signature and its stable hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint {
    pub kind: FingerprintKind,
    /// The normalized text, readable by people (`POST /api/orders/{id} 500`).
    pub text: String,
    /// Hex SHA-256 (first 128 bits) of kind and text; stable across releases of Moth.
    pub hash: String,
}

impl Fingerprint {
    fn new(kind: FingerprintKind, text: String) -> Self {
        let hash = stable_hash(&format!("{}\n{text}", kind.as_str()));
        Self { kind, text, hash }
    }
}

fn stable_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The key a report is matched on: one indexed lookup at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatchKey {
    pub kind: FingerprintKind,
    pub hash: String,
}

/// Every fingerprint of one report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fingerprints {
    pub error: Option<Fingerprint>,
    pub request: Option<Fingerprint>,
    pub route: Option<Fingerprint>,
    pub element: Option<Fingerprint>,
}

static URL_QUERY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(\b[a-z][a-z0-9+.-]*://[^\s?#"'`]*)[?#][^\s"'`)]*"#).unwrap());
static QUOTED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""[^"\n]*"|'[^'\n]*'|`[^`\n]*`"#).unwrap());
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b").unwrap()
});
static HEX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b0x[0-9a-f]+\b|\b[0-9a-f]*[0-9][0-9a-f]*\b").unwrap());
static NUMBER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\d+(?:\.\d+)*").unwrap());
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").unwrap());
static CHROME_FRAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*at\s+(?:(?:async\s+)?(.+?)\s+\((.*)\)|(.+))\s*$").unwrap());
static GECKO_FRAME: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s*([^@\s]*)@(.+)$").unwrap());
static LINE_COLUMN: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?::\d+){1,2}$").unwrap());

/// A hex-looking run counts as an id only when long enough not to be a word like `face`.
fn is_hex_id(text: &str) -> bool {
    let digits = text.trim_start_matches("0x").trim_start_matches("0X");
    text.len() != digits.len() || digits.len() >= 8
}

/// An error message with what varies between occurrences taken out.
pub fn normalize_message(message: &str) -> String {
    let text = message.trim();
    let text = text.strip_prefix("Uncaught ").unwrap_or(text);
    let text = URL_QUERY.replace_all(text, "$1");
    let text = QUOTED.replace_all(&text, "<str>");
    let text = UUID.replace_all(&text, "<id>");
    let text = HEX.replace_all(&text, |c: &regex::Captures| {
        let found = &c[0];
        if is_hex_id(found) {
            "<id>".to_string()
        } else {
            found.to_string()
        }
    });
    let text = NUMBER.replace_all(&text, "<n>");
    let text = SPACES.replace_all(&text, " ");
    text.trim().chars().take(MAX_TEXT).collect()
}

/// `app.3f2a1b9c.js` → `app.js`: bundlers put content hashes in names, which change each build.
fn strip_file_hash(file: &str) -> String {
    let mut parts: Vec<&str> = file.split('.').collect();
    let extension = if parts.len() > 1 { parts.pop() } else { None };
    let stem: Vec<String> = parts
        .iter()
        .filter(|part| !looks_like_hash(part))
        .map(|part| {
            // `main-AB12CD34` and `chunk_5e6f7a8b`: a hash after the last dash or underscore.
            match part.rfind(['-', '_']) {
                Some(at) if looks_like_hash(&part[at + 1..]) => part[..at].to_string(),
                _ => part.to_string(),
            }
        })
        .collect();
    let mut name = stem.join(".");
    if let Some(extension) = extension {
        name.push('.');
        name.push_str(extension);
    }
    name
}

fn looks_like_hash(part: &str) -> bool {
    part.len() >= 6
        && part.chars().all(|c| c.is_ascii_alphanumeric())
        && part.chars().any(|c| c.is_ascii_digit())
}

/// The file a frame's location names: last path segment, no query, no line or column.
fn frame_file(location: &str) -> String {
    let location = location.trim();
    let location = LINE_COLUMN.replace(location, "");
    let location = location.split(['?', '#']).next().unwrap_or("");
    let file = location.rsplit('/').next().unwrap_or(location);
    strip_file_hash(file)
}

/// One stack line as `function file`, or `None` when it is no frame (the message line).
fn parse_frame(line: &str) -> Option<String> {
    if let Some(c) = CHROME_FRAME.captures(line) {
        return match (c.get(1), c.get(2), c.get(3)) {
            (Some(function), Some(location), _) => Some(format!(
                "{} {}",
                function.as_str(),
                frame_file(location.as_str())
            )),
            // `at https://…/app.js:1:2` is a location; `at pay` is a function without one.
            (_, _, Some(only)) if only.as_str().contains(['/', ':']) => {
                Some(format!("<anonymous> {}", frame_file(only.as_str())))
            }
            (_, _, Some(only)) => Some(only.as_str().to_string()),
            _ => None,
        };
    }
    let c = GECKO_FRAME.captures(line)?;
    let function = c.get(1).map(|f| f.as_str()).filter(|f| !f.is_empty());
    Some(format!(
        "{} {}",
        function.unwrap_or("<anonymous>"),
        frame_file(&c[2])
    ))
}

/// The error fingerprint of one `errors` or `console` entry.
fn error_fingerprint(entry: &EntryFields) -> Option<Fingerprint> {
    let message = normalize_message(EntryFields::text(&entry.message)?);
    if message.is_empty() {
        return None;
    }
    let mut frames: Vec<String> = EntryFields::text(&entry.stack)
        .unwrap_or("")
        .lines()
        .filter_map(parse_frame)
        .take(TOP_FRAMES)
        .collect();
    if frames.is_empty()
        && let Some(source) = EntryFields::text(&entry.source)
    {
        frames.push(frame_file(source));
    }
    let mut text = message;
    for frame in frames {
        text.push_str("\n  at ");
        text.push_str(&frame);
    }
    Some(Fingerprint::new(FingerprintKind::Error, text))
}

/// A path segment that names one record rather than a kind of page.
fn is_id_segment(segment: &str) -> bool {
    UUID.is_match(segment)
        || segment.chars().all(|c| c.is_ascii_digit())
        || (segment.len() >= 8 && segment.chars().any(|c| c.is_ascii_digit()))
}

/// `https://shop.example.com/api/orders/123?x=1` → `/api/orders/{id}`.
pub fn path_pattern(url: &str) -> String {
    let url = url.trim();
    let without_scheme = match url.find("://") {
        Some(at) => {
            let rest = &url[at + 3..];
            rest.find('/').map(|slash| &rest[slash..]).unwrap_or("/")
        }
        None => url,
    };
    let path = without_scheme.split(['?', '#']).next().unwrap_or("");
    let segments: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if is_id_segment(s) { "{id}" } else { s })
        .collect();
    format!("/{}", segments.join("/"))
}

/// Whether a captured request failed: so flagged, without an answer, or answered 4xx or 5xx.
pub fn request_failed(request: &EntryFields) -> bool {
    let status = request.status.unwrap_or(0);
    request.failed.unwrap_or(false) || status == 0 || status >= 400
}

/// What a report's fingerprints are computed from, already redacted and bounded.
#[derive(Debug, Clone, Copy)]
pub struct Signals<'a> {
    pub page_url: Option<&'a str>,
    pub errors: &'a [EntryFields<'a>],
    pub console: &'a [EntryFields<'a>],
    pub network: &'a [EntryFields<'a>],
    pub actions: &'a [EntryFields<'a>],
}

impl Fingerprints {
    /// Fingerprints of a report. The first error and the first failing request are taken:
    /// what fails first is usually the cause, and what follows its consequences.
    pub fn of(signals: Signals<'_>) -> Self {
        let error = signals
            .errors
            .iter()
            .find_map(error_fingerprint)
            .or_else(|| {
                signals
                    .console
                    .iter()
                    .filter(|entry| EntryFields::text(&entry.level) == Some("error"))
                    .find_map(error_fingerprint)
            });
        let request = signals
            .network
            .iter()
            .find(|r| request_failed(r))
            .and_then(|r| {
                let url = EntryFields::text(&r.url)?;
                let method = EntryFields::text(&r.method)
                    .unwrap_or("GET")
                    .to_ascii_uppercase();
                let status = match r.status.unwrap_or(0) {
                    0 => "no answer".to_string(),
                    status => status.to_string(),
                };
                Some(Fingerprint::new(
                    FingerprintKind::Request,
                    format!("{method} {} {status}", path_pattern(url)),
                ))
            });
        let route = signals
            .page_url
            .filter(|u| !u.trim().is_empty())
            .map(|u| Fingerprint::new(FingerprintKind::Route, path_pattern(u)));
        let element = signals
            .actions
            .iter()
            .rev()
            .find_map(|a| EntryFields::text(&a.target))
            .map(|target| {
                let text = NUMBER.replace_all(target, "<n>");
                let text: String = text.chars().take(MAX_TEXT).collect();
                Fingerprint::new(FingerprintKind::Element, text)
            });
        Self {
            error,
            request,
            route,
            element,
        }
    }

    /// The one key a report is matched on.
    ///
    /// The top error alone when there is one: the same exception thrown at the same frames is
    /// the same bug on whatever page it shows. Without an error, the failing request together
    /// with the page route: the same endpoint failing the same way from the same page. Route
    /// or element alone never match: people report many different problems on one page.
    pub fn match_key(&self) -> Option<MatchKey> {
        if let Some(error) = &self.error {
            return Some(MatchKey {
                kind: FingerprintKind::Error,
                hash: error.hash.clone(),
            });
        }
        let request = self.request.as_ref()?;
        let route = self.route.as_ref().map(|r| r.text.as_str()).unwrap_or("");
        Some(MatchKey {
            kind: FingerprintKind::Request,
            hash: stable_hash(&format!("request+route\n{}\n{route}", request.text)),
        })
    }

    /// Every fingerprint present, for the stored context.
    pub fn all(&self) -> Vec<&Fingerprint> {
        [&self.error, &self.request, &self.route, &self.element]
            .into_iter()
            .flatten()
            .collect()
    }
}

/// The version a report judges a fix by: its build when that names a version (`2.3.0+481`),
/// else its app version. A bare build number (`481`) cannot be compared with `2.3.1`.
pub fn report_version(app_version: Option<&str>, build: Option<&str>) -> Option<Version> {
    let app = app_version.and_then(|v| Version::parse("app_version", v).ok());
    let build = build
        .filter(|b| b.contains(['.', '+']))
        .and_then(|b| Version::parse("build", b).ok());
    match (build, app) {
        (Some(build), Some(app)) if build.as_str().starts_with(app.as_str()) => Some(build),
        (Some(build), None) => Some(build),
        (_, app) => app,
    }
}

/// A known issue that carries the report's match key, as the store finds it.
#[derive(Debug, Clone)]
pub struct KnownIssue<K> {
    pub key: K,
    pub status: Status,
    pub resolution: Option<Resolution>,
    pub fixed_in_version: Option<Version>,
}

/// What a report that matched (or did not) becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchOutcome<K> {
    /// Nothing known: file a new issue.
    New,
    /// Another occurrence of a known issue: attach it, change nothing else.
    Occurrence { of: K },
    /// The fix did not hold in this build: attach and reopen as a regression.
    Regression { of: K },
    /// Sent from a build older than the fix: attach; the reporter is told to update.
    FixedLater { of: K },
    /// Matches a fixed issue but a version is missing to judge: file anew, flag for triage.
    PossibleRegression { of: K },
}

/// Decides what a report becomes. `known` is ordered best first (open issues, then the most
/// recently resolved); an open one always wins, because work on it is still going on.
pub fn decide<K: Clone>(known: &[KnownIssue<K>], version: Option<&Version>) -> MatchOutcome<K> {
    if let Some(open) = known.iter().find(|k| k.status.is_open()) {
        return MatchOutcome::Occurrence {
            of: open.key.clone(),
        };
    }
    let Some(done) = known.first() else {
        return MatchOutcome::New;
    };
    let of = done.key.clone();
    if !matches!(done.resolution, Some(Resolution::Fixed | Resolution::Done)) {
        // Won't fix, by design, duplicate, cannot reproduce: a decision already taken.
        return MatchOutcome::Occurrence { of };
    }
    match (version, &done.fixed_in_version) {
        (Some(version), Some(fixed)) if version >= fixed => MatchOutcome::Regression { of },
        (Some(_), Some(_)) => MatchOutcome::FixedLater { of },
        _ => MatchOutcome::PossibleRegression { of },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured::entries_of;
    use serde_json::{Value, json};

    fn prints(errors: Value, network: Value, page: &str) -> Fingerprints {
        let (errors, network) = (entries_of(errors), entries_of(network));
        Fingerprints::of(Signals {
            page_url: Some(page),
            errors: &errors,
            console: &[],
            network: &network,
            actions: &[],
        })
    }

    fn error(message: &str, stack: &str) -> Fingerprints {
        prints(
            json!([{"message": message, "stack": stack}]),
            json!([]),
            "https://a.example/",
        )
    }

    #[test]
    fn messages_lose_what_varies_between_occurrences() {
        assert_eq!(
            normalize_message(
                "Uncaught Error: order 12345 (id 3fa85f64-5717-4562-b3fc-2c963f66afa6) failed at 0x7ffe12 for \"ana@example.com\" on https://a.example/pay?session=abc#x"
            ),
            "Error: order <n> (id <id>) failed at <id> for <str> on https://a.example/pay"
        );
        assert_eq!(
            normalize_message("deadbeefcafe1234 not found after 2.5s"),
            "<id> not found after <n>s"
        );
        assert_eq!(
            normalize_message("TypeError: face is   undefined"),
            "TypeError: face is undefined"
        );
    }

    #[test]
    fn ids_that_differ_give_the_same_fingerprint() {
        for (a, b) in [
            ("Order 17 not found", "Order 98234 not found"),
            (
                "Cannot load user 3fa85f64-5717-4562-b3fc-2c963f66afa6",
                "Cannot load user 6ba7b810-9dad-11d1-80b4-00c04fd430c8",
            ),
            ("Bad token 'abc'", "Bad token 'xyz-123'"),
            (
                "hash 9f86d081884c7d65 mismatch",
                "hash 00000000aaaa1111 mismatch",
            ),
        ] {
            let stack = "TypeError: x\n    at load (https://a.example/static/app.3f2a1b9c.js:10:4)";
            let other =
                "TypeError: x\n    at load (https://b.example/static/app.99aa77bb.js:912:17)";
            assert_eq!(error(a, stack), error(b, other), "{a} / {b}");
        }
    }

    #[test]
    fn different_errors_give_different_fingerprints() {
        let stack = "at pay (app.js:10:4)";
        assert_ne!(
            error("TypeError: x is undefined", stack).match_key(),
            error("RangeError: x is undefined", stack).match_key()
        );
        assert_ne!(
            error("TypeError: x is undefined", "at pay (app.js:10:4)").match_key(),
            error("TypeError: x is undefined", "at refund (app.js:10:4)").match_key(),
            "another call site is another bug"
        );
    }

    #[test]
    fn frames_keep_function_and_file_without_lines_or_hashes() {
        let chrome = error(
            "E",
            "E\n    at Object.pay (https://shop.example/assets/main-AB12CD34.js?v=9:1:200)\n    at async submit (https://shop.example/chunk.5e6f7a8b.js:3:4)\n    at https://shop.example/vendor.js:1:1\n    at deeper (x.js:1:1)",
        );
        assert_eq!(
            chrome.error.unwrap().text,
            "E\n  at Object.pay main.js\n  at submit chunk.js\n  at <anonymous> vendor.js"
        );
        let gecko = error(
            "E",
            "pay@https://shop.example/assets/main-AB12CD34.js:1:200\n@https://shop.example/vendor.js:1:1",
        );
        assert_eq!(
            gecko.error.unwrap().text,
            "E\n  at pay main.js\n  at <anonymous> vendor.js"
        );
        let source_only = prints(
            json!([{"message": "E", "source": "https://x.example/app.1a2b3c4d.js", "line": 3}]),
            json!([]),
            "/",
        );
        assert_eq!(source_only.error.unwrap().text, "E\n  at app.js");
    }

    #[test]
    fn paths_become_patterns() {
        assert_eq!(
            path_pattern("https://shop.example.com/api/orders/123?x=1"),
            "/api/orders/{id}"
        );
        assert_eq!(
            path_pattern("/api/v2/users/3fa85f64-5717-4562-b3fc-2c963f66afa6/cart#top"),
            "/api/v2/users/{id}/cart"
        );
        assert_eq!(
            path_pattern("https://x.example/o/ord_8f3k29dj2/items/7"),
            "/o/{id}/items/{id}"
        );
        assert_eq!(path_pattern("https://x.example"), "/");
    }

    #[test]
    fn without_an_error_the_failing_request_and_route_match() {
        let failing = |id: u32, page: &str| {
            prints(
                json!([]),
                json!([
                    {"method": "get", "url": "https://a.example/api/cart", "status": 200},
                    {"method": "post", "url": format!("https://a.example/api/orders/{id}/pay"), "status": 502}
                ]),
                page,
            )
        };
        let a = failing(1, "https://a.example/checkout/55");
        assert_eq!(
            a.request.as_ref().unwrap().text,
            "POST /api/orders/{id}/pay 502"
        );
        assert_eq!(a.route.as_ref().unwrap().text, "/checkout/{id}");
        assert_eq!(
            a.match_key(),
            failing(9999, "https://a.example/checkout/77").match_key()
        );
        assert_ne!(
            a.match_key(),
            failing(1, "https://a.example/account").match_key()
        );
        assert_eq!(a.match_key().unwrap().kind, FingerprintKind::Request);
    }

    #[test]
    fn a_page_and_a_click_alone_never_match() {
        let actions = entries_of(json!([{"kind": "click", "target": "button#pay \"Pay 12 €\""}]));
        let prints = Fingerprints::of(Signals {
            page_url: Some("https://a.example/checkout"),
            errors: &[],
            console: &entries_of(json!([{"level": "log", "message": "hello"}])),
            network: &entries_of(json!([{"method": "GET", "url": "/api/cart", "status": 200}])),
            actions: &actions,
        });
        assert_eq!(
            prints.element.as_ref().unwrap().text,
            "button#pay \"Pay <n> €\""
        );
        assert!(prints.route.is_some() && prints.request.is_none());
        assert_eq!(prints.match_key(), None);
    }

    #[test]
    fn console_errors_count_when_no_error_was_caught() {
        let prints = Fingerprints::of(Signals {
            page_url: None,
            errors: &[],
            console: &entries_of(json!([
                {"level": "warn", "message": "slow"},
                {"level": "error", "message": "TypeError: x is undefined", "stack": "at pay (app.js:10:4)"},
            ])),
            network: &[],
            actions: &[],
        });
        assert_eq!(
            prints.error.unwrap().text,
            "TypeError: x is undefined\n  at pay app.js"
        );
    }

    #[test]
    fn hashes_are_stable() {
        let fp = error("TypeError: x is undefined", "at pay (app.js:10:4)");
        assert_eq!(fp.error.as_ref().unwrap().hash.len(), 32);
        assert_eq!(
            fp.match_key().unwrap().hash,
            stable_hash("error\nTypeError: x is undefined\n  at pay app.js")
        );
    }

    fn v(text: &str) -> Version {
        Version::parse("v", text).unwrap()
    }

    #[test]
    fn the_build_judges_when_it_names_a_version() {
        assert_eq!(
            report_version(Some("2.3.0"), Some("2.3.0+481")),
            Some(v("2.3.0+481"))
        );
        assert_eq!(report_version(Some("2.3.0"), Some("481")), Some(v("2.3.0")));
        assert_eq!(report_version(None, Some("2.3.1+2")), Some(v("2.3.1+2")));
        assert_eq!(report_version(None, Some("481")), None);
        assert_eq!(report_version(Some("latest"), None), None);
    }

    fn known(
        status: Status,
        resolution: Option<Resolution>,
        fixed: Option<&str>,
    ) -> KnownIssue<i64> {
        KnownIssue {
            key: 7,
            status,
            resolution,
            fixed_in_version: fixed.map(v),
        }
    }

    #[test]
    fn a_match_decides_by_status_and_build() {
        let fixed = known(Status::Resolved, Some(Resolution::Fixed), Some("2.3.1"));
        assert_eq!(decide::<i64>(&[], Some(&v("1.0"))), MatchOutcome::New);
        assert_eq!(
            decide(&[known(Status::Triaged, None, None)], None),
            MatchOutcome::Occurrence { of: 7 }
        );
        assert_eq!(
            decide(std::slice::from_ref(&fixed), Some(&v("2.3.1"))),
            MatchOutcome::Regression { of: 7 }
        );
        assert_eq!(
            decide(std::slice::from_ref(&fixed), Some(&v("2.3.1+12"))),
            MatchOutcome::Regression { of: 7 }
        );
        assert_eq!(
            decide(std::slice::from_ref(&fixed), Some(&v("2.3.0+999"))),
            MatchOutcome::FixedLater { of: 7 }
        );
        assert_eq!(
            decide(std::slice::from_ref(&fixed), None),
            MatchOutcome::PossibleRegression { of: 7 }
        );
        assert_eq!(
            decide(
                &[known(Status::Resolved, Some(Resolution::Fixed), None)],
                Some(&v("9.0"))
            ),
            MatchOutcome::PossibleRegression { of: 7 },
            "a fix without a version cannot be judged"
        );
        assert_eq!(
            decide(
                &[known(Status::Closed, Some(Resolution::WontFix), None)],
                Some(&v("9.0"))
            ),
            MatchOutcome::Occurrence { of: 7 }
        );
        let mut open = known(Status::InProgress, None, None);
        open.key = 8;
        assert_eq!(
            decide(&[fixed, open], Some(&v("3.0"))),
            MatchOutcome::Occurrence { of: 8 },
            "an open issue wins over a fixed one"
        );
    }
}
