//! The tracker the page benchmark reads: issues filed in bulk through the store's importer
//! (the HTTP path of filing is measured by the plain benchmark), and on top, over HTTP, reports
//! captured by the widget (which land in triage) and comments on some of them.

use super::client::{Api, PROJECT};
use super::corpus::Corpus;
use super::search::{BATCH, issue};
use super::server::BenchServer;
use anyhow::{Context, bail};
use moth_store::ImportedIssue;
use rand::rngs::StdRng;
use serde_json::{Value, json};

/// Reports filed through intake once, before the first size is timed.
pub const REPORTS: usize = 60;
/// Of those, how many get comments; the issue page is timed on them in turn.
pub const COMMENTED: usize = 5;
/// Comments on each of them.
const COMMENTS_EACH: usize = 12;

/// Imports issues until `to` of them were imported; `from` were imported before.
pub async fn import(
    server: &BenchServer,
    corpus: &Corpus,
    rng: &mut StdRng,
    from: usize,
    to: usize,
) -> anyhow::Result<()> {
    let mut filed = from;
    while filed < to {
        let count = BATCH.min(to - filed);
        let batch: Vec<ImportedIssue> = (filed..filed + count)
            .map(|i| issue(corpus, i, rng))
            .collect();
        server
            .store()
            .import_issues(PROJECT, &batch)
            .await
            .context("cannot import issues")?;
        filed += count;
    }
    Ok(())
}

/// Files the widget's reports through intake and comments on the first few; returns the ids
/// of the commented issues.
pub async fn file_reports(server: &BenchServer, api: &Api) -> anyhow::Result<Vec<String>> {
    let project = server.store().project(PROJECT).await?;
    let url = format!("{}/api/v1/intake/{}", server.base_url, project.intake_key);
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut commented = Vec::new();
    for n in 0..REPORTS {
        let form = reqwest::multipart::Form::new().part(
            "report",
            reqwest::multipart::Part::text(report(n).to_string()),
        );
        let response = http.post(&url).multipart(form).send().await?;
        let status = response.status();
        let answer: Value = response.json().await.context("intake answered no JSON")?;
        if status != reqwest::StatusCode::CREATED || !answer["duplicate_of"].is_null() {
            bail!("intake answered {status}: {answer} (each report should file a new issue)");
        }
        if n < COMMENTED {
            let id = answer["id"]
                .as_str()
                .context("intake answered no issue id")?
                .to_string();
            for c in 0..COMMENTS_EACH {
                api.comment(&id, &comment(c)).await?;
            }
            commented.push(id);
        }
    }
    Ok(commented)
}

/// A word of letters only that differs for each `n`, so no two reports share a fingerprint
/// (digits could be normalised away).
fn tag(mut n: usize) -> String {
    let mut word = String::new();
    loop {
        word.push((b'a' + (n % 26) as u8) as char);
        n /= 26;
        if n == 0 {
            return word;
        }
    }
}

/// A report as the widget sends it, with everything the capture gathers.
fn report(n: usize) -> Value {
    let tag = tag(n);
    let console: Vec<Value> = (0..20)
        .map(|i| {
            json!({"level": if i % 5 == 4 { "error" } else { "log" },
                   "message": format!("checkout step {i}: state {}", n * 31 + i),
                   "timestamp": "2026-11-25T10:00:00Z"})
        })
        .collect();
    let network: Vec<Value> = (0..15)
        .map(|i| {
            json!({"method": if i % 3 == 0 { "POST" } else { "GET" },
                   "url": format!("https://shop.example.com/api/{tag}/cart/{i}?session=s{n}"),
                   "status": if i == 14 { 500 } else { 200 }, "duration_ms": 40 + i * 7})
        })
        .collect();
    let actions: Vec<Value> = (0..25)
        .map(|i| {
            json!({"kind": "click", "target": format!("button#{tag}-{i} \"Next\""),
                   "timestamp": "2026-11-25T10:00:00Z"})
        })
        .collect();
    json!({
        "type": "bug",
        "title": format!("Checkout button does nothing on step {}", n % 7),
        "description": "Clicked Pay, nothing happened. The spinner kept turning and the order never showed up in my account.",
        "severity": "major",
        "reporter": {"name": format!("Reporter {n}"), "email": format!("r{n}@example.com")},
        "page_url": format!("https://shop.example.com/checkout/{tag}"),
        "context": widget_context(n),
        "console": console,
        "errors": [{"message": format!("TypeError: {tag} is undefined"),
                    "stack": format!("TypeError: {tag} is undefined\n    at {tag} (app.js:10:4)\n    at HTMLButtonElement.onclick (checkout.js:88:12)"),
                    "source": "app.js", "line": 10, "column": 4}],
        "network": network,
        "actions": actions
    })
}

/// The context the widget sends from a desktop Chrome, as reporter `n`'s session.
pub fn widget_context(n: usize) -> Value {
    json!({
        "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "browser": {"name": "Chrome", "version": "131.0"},
        "os": {"name": "Windows", "version": "11"},
        "device": "desktop",
        "viewport": {"width": 1440, "height": 900, "device_pixel_ratio": 2},
        "locale": "de-DE", "timezone": "Europe/Berlin",
        "app_version": "2.3.0", "build": "2.3.0+481", "user_id": format!("u-{n}"),
        "custom": {"plan": "pro"}
    })
}

fn comment(c: usize) -> String {
    format!(
        "Looked into this ({c}). The **payment request** fails with a 500 when the cart is empty; \
         see `checkout.js` line 88.\n\n- reproduced on Chrome 131\n- not on Firefox\n\n```\nTypeError: cart is undefined\n```"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_report_has_its_own_tag() {
        let tags: std::collections::HashSet<String> = (0..1000).map(tag).collect();
        assert_eq!(tags.len(), 1000);
        assert!(
            tags.iter()
                .all(|t| t.chars().all(|c| c.is_ascii_lowercase()))
        );
    }
}
