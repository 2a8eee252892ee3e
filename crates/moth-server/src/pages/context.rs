//! What the capture widget recorded, arranged for a developer: the console, the requests
//! (failed first), the environment as a table, capture-health notes; and the whole issue as
//! Markdown to paste anywhere.

use moth_core::{Issue, Severity};
use serde_json::Value;

/// One console line or uncaught error.
pub struct ConsoleLine {
    pub level: String,
    pub message: String,
    pub stack: String,
    pub time: String,
}

/// One recorded request.
pub struct NetworkLine {
    pub method: String,
    pub url: String,
    /// The status code, or the failure when there was no answer.
    pub outcome: String,
    pub duration: String,
    pub failed: bool,
}

/// Everything captured with a report, ready for the page.
pub struct Captured {
    pub page_url: String,
    pub console: Vec<ConsoleLine>,
    pub network: Vec<NetworkLine>,
    pub environment: Vec<(String, String)>,
    pub health: Vec<String>,
    pub action_count: usize,
    /// What duplicates were matched by: (kind, normalized text).
    pub fingerprints: Vec<(String, String)>,
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `1440 × 900 at 2x`; without a pixel ratio `1440 × 900`; nothing without both sides.
fn viewport_text(viewport: &Value) -> String {
    let side = |key| text(at(viewport, &[key]));
    let (width, height, ratio) = (side("width"), side("height"), side("device_pixel_ratio"));
    match (width.is_empty() || height.is_empty(), ratio.is_empty()) {
        (true, _) => String::new(),
        (false, true) => format!("{width} × {height}"),
        (false, false) => format!("{width} × {height} at {ratio}x"),
    }
}

fn at<'a>(value: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .fold(value, |v, key| v.get(key).unwrap_or(&Value::Null))
}

fn list(value: &Value, key: &str) -> Vec<Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

impl Captured {
    /// Reads the stored context; `None` for issues filed by hand.
    pub fn of(context: Option<&Value>) -> Option<Captured> {
        let context = context?;
        let mut console: Vec<ConsoleLine> = list(context, "console")
            .iter()
            .map(|c| ConsoleLine {
                level: text(at(c, &["level"])),
                message: text(at(c, &["message"])),
                stack: text(at(c, &["stack"])),
                time: text(at(c, &["timestamp"])),
            })
            .collect();
        console.extend(list(context, "errors").iter().map(|e| {
            let source = text(at(e, &["source"]));
            let place = if source.is_empty() {
                String::new()
            } else {
                format!(
                    " ({source}:{}:{})",
                    text(at(e, &["line"])),
                    text(at(e, &["column"]))
                )
            };
            ConsoleLine {
                level: "uncaught".into(),
                message: format!("{}{place}", text(at(e, &["message"]))),
                stack: text(at(e, &["stack"])),
                time: text(at(e, &["timestamp"])),
            }
        }));
        console.sort_by(|a, b| a.time.cmp(&b.time));
        let mut network: Vec<NetworkLine> = list(context, "network")
            .iter()
            .map(|n| {
                let status = at(n, &["status"]).as_i64().unwrap_or(0);
                let error = text(at(n, &["error"]));
                NetworkLine {
                    method: text(at(n, &["method"])),
                    url: text(at(n, &["url"])),
                    outcome: if status > 0 {
                        status.to_string()
                    } else if error.is_empty() {
                        "no answer".into()
                    } else {
                        error
                    },
                    duration: at(n, &["duration_ms"])
                        .as_f64()
                        .map(|ms| format!("{ms:.0} ms"))
                        .unwrap_or_default(),
                    failed: status == 0 || status >= 400,
                }
            })
            .collect();
        // Failed requests first: they are usually the clue.
        network.sort_by_key(|n| !n.failed);
        let env = at(context, &["environment"]);
        let joined = |name: &[&str], version: &[&str]| {
            let name = text(at(env, name));
            let version = text(at(env, version));
            format!("{name} {version}").trim().to_string()
        };
        let viewport = at(env, &["viewport"]);
        let mut environment = vec![
            (
                "Browser".to_string(),
                joined(&["browser", "name"], &["browser", "version"]),
            ),
            (
                "Operating system".to_string(),
                joined(&["os", "name"], &["os", "version"]),
            ),
            ("Device".to_string(), text(at(env, &["device"]))),
            ("Viewport".to_string(), viewport_text(viewport)),
            ("Locale".to_string(), text(at(env, &["locale"]))),
            ("Time zone".to_string(), text(at(env, &["timezone"]))),
            ("App version".to_string(), text(at(env, &["app_version"]))),
            ("Build".to_string(), text(at(env, &["build"]))),
            ("User".to_string(), text(at(env, &["user_id"]))),
            ("User agent".to_string(), text(at(env, &["user_agent"]))),
        ];
        if let Some(custom) = at(env, &["custom"]).as_object() {
            environment.extend(custom.iter().map(|(k, v)| (k.clone(), text(v))));
        }
        environment.retain(|(_, v)| !v.is_empty());
        let health = list(context, "capture_health")
            .iter()
            .map(|h| match h {
                Value::String(s) => s.clone(),
                Value::Object(o) => {
                    let kind = o.get("kind").map(text).unwrap_or_default();
                    let url = o.get("url").map(text).unwrap_or_default();
                    let reason = o.get("reason").map(text).unwrap_or_default();
                    [kind, url, reason]
                        .into_iter()
                        .filter(|s| !s.is_empty())
                        .collect::<Vec<_>>()
                        .join(" · ")
                }
                other => other.to_string(),
            })
            .collect();
        Some(Captured {
            page_url: text(at(context, &["page_url"])),
            console,
            network,
            environment,
            health,
            action_count: list(context, "actions").len(),
            fingerprints: list(context, "fingerprints")
                .iter()
                .map(|f| (text(at(f, &["kind"])), text(at(f, &["text"]))))
                .collect(),
        })
    }
}

/// Escapes text for the middle of a Markdown line, so what a reporter typed stays text (no
/// links, emphasis or HTML sneak in; line-start syntax cannot occur there).
fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' || c == '\r' {
            out.push(' ');
            continue;
        }
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '|' | '<' | '>' | '~'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A fenced block that no backtick run inside the text can close early.
fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

/// The issue as Markdown: title, fields, bug-report block and captured context.
pub fn issue_markdown(issue: &Issue, url: &str) -> String {
    let f = &issue.fields;
    let mut md = format!("## {} {}\n\n", issue.id, escape_markdown(f.title.as_str()));
    let mut facts = vec![
        format!("Type: {}", f.issue_type.as_str()),
        format!("Status: {}", f.status.as_str()),
        format!("Priority: {}", f.priority.as_str()),
    ];
    if let Some(severity) = f.severity.map(Severity::as_str) {
        facts.push(format!("Severity: {severity}"));
    }
    if let Some(v) = &f.affects_version {
        facts.push(format!("Affects: {}", escape_markdown(v.as_str())));
    }
    if let Some(v) = &f.fixed_in_version {
        facts.push(format!("Fixed in: {}", escape_markdown(v.as_str())));
    }
    for fact in facts {
        md.push_str(&format!("- {fact}\n"));
    }
    md.push_str(&format!(
        "- Link: <{}>\n\n",
        url.replace(['<', '>', ' '], "")
    ));
    for (heading, body) in [
        ("Description", &f.description),
        ("Steps to reproduce", &f.steps_to_reproduce),
        ("Expected", &f.expected),
        ("Actual", &f.actual),
        ("Environment", &f.environment),
    ] {
        if !body.trim().is_empty() {
            md.push_str(&format!("### {heading}\n\n{}\n", fenced(body)));
        }
    }
    if let Some(captured) = Captured::of(issue.context.as_ref()) {
        if !captured.environment.is_empty() {
            md.push_str("### Captured environment\n\n");
            for (k, v) in &captured.environment {
                md.push_str(&format!(
                    "- {}: {}\n",
                    escape_markdown(k),
                    escape_markdown(v)
                ));
            }
            md.push('\n');
        }
        let failed: Vec<String> = captured
            .network
            .iter()
            .filter(|n| n.failed)
            .map(|n| format!("{} {} -> {} {}", n.method, n.url, n.outcome, n.duration))
            .collect();
        if !failed.is_empty() {
            md.push_str(&format!(
                "### Failed requests\n\n{}\n",
                fenced(&failed.join("\n"))
            ));
        }
        let errors: Vec<String> = captured
            .console
            .iter()
            .filter(|c| c.level == "error" || c.level == "uncaught")
            .map(|c| {
                if c.stack.is_empty() {
                    format!("[{}] {}", c.level, c.message)
                } else {
                    format!("[{}] {}\n{}", c.level, c.message, c.stack)
                }
            })
            .collect();
        if !errors.is_empty() {
            md.push_str(&format!(
                "### Console errors\n\n{}\n",
                fenced(&errors.join("\n"))
            ));
        }
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_what_people_typed() {
        assert_eq!(
            escape_markdown("[x](javascript:alert(1))"),
            "\\[x\\]\\(javascript:alert\\(1\\)\\)"
        );
        assert_eq!(escape_markdown("<img src=x>"), "\\<img src=x\\>");
    }

    #[test]
    fn fences_outlast_backticks_inside() {
        let block = fenced("a ```` b");
        assert!(block.starts_with("`````text\n"), "{block}");
        assert!(block.ends_with("\n`````\n"));
    }

    #[test]
    fn a_viewport_shows_what_was_sent() {
        let shown = |viewport: Value| viewport_text(&viewport);
        assert_eq!(
            shown(serde_json::json!({"width": 1440, "height": 900, "device_pixel_ratio": 2})),
            "1440 × 900 at 2x"
        );
        assert_eq!(
            shown(serde_json::json!({"width": 1280, "height": 800})),
            "1280 × 800"
        );
        assert_eq!(shown(serde_json::json!({"width": 1280})), "");
        assert_eq!(shown(Value::Null), "");
    }

    #[test]
    fn failed_requests_come_first() {
        let context = serde_json::json!({
            "network": [
                {"method": "GET", "url": "/ok", "status": 200, "duration_ms": 5},
                {"method": "POST", "url": "/api/pay", "status": 500, "duration_ms": 231},
                {"method": "GET", "url": "/down", "status": 0, "error": "network error"}
            ],
            "environment": {"browser": {"name": "Chrome", "version": "131"}, "custom": {"plan": "pro"}}
        });
        let captured = Captured::of(Some(&context)).unwrap();
        let urls: Vec<_> = captured.network.iter().map(|n| n.url.as_str()).collect();
        assert_eq!(urls, ["/api/pay", "/down", "/ok"]);
        assert_eq!(captured.network[1].outcome, "network error");
        assert!(
            captured
                .environment
                .contains(&("Browser".into(), "Chrome 131".into()))
        );
        assert!(
            captured
                .environment
                .contains(&("plan".into(), "pro".into()))
        );
    }
}
