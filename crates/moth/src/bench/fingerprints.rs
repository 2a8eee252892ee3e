//! `moth bench --fingerprints`: what duplicate detection costs at intake as stored reports grow.
//!
//! Reports are stored in bulk, ten per issue and each issue with its own error fingerprint.
//! At each size it times the match lookup alone in the store (a known and an unknown key), and
//! intake over HTTP of three kinds of report, one client sending one after another: without a
//! signature (no lookup: the baseline), with a new error (lookup, and the key registered with
//! the new issue) and with a known error (it joins the issue as a duplicate). The matching
//! overhead is the new-error median minus the baseline median.

use super::client::PROJECT;
use super::latency::{Percentiles, percentiles};
use super::server::BenchServer;
use super::{Plan, SEED};
use anyhow::{Context, bail};
use moth_core::captured::EntryFields;
use moth_core::fingerprint::{Fingerprints, MatchKey, Signals};
use moth_store::ImportedReport;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::time::{Duration, Instant};

/// Reports stored per issue: most reports of a busy app are duplicates.
const REPORTS_PER_ISSUE: usize = 10;
/// Issues (and their reports) stored per transaction while seeding.
const BATCH_ISSUES: usize = 2_000;
/// Requests sent and not counted before each measurement.
const WARM_UP: usize = 20;

/// The error a report of issue `n` carries: its own function, ids varying per report.
fn error_of(n: usize, order: u64) -> Value {
    json!({
        "message": format!("TypeError: cannot read total of order {order} in step {n}"),
        "stack": format!("TypeError: x\n    at step{n} (https://shop.example/app.1f2e3d4c.js:1:{order})\n    at run (https://shop.example/app.1f2e3d4c.js:9:9)"),
    })
}

fn key_of(error: &Value) -> MatchKey {
    let text = |key: &str| error[key].as_str().map(|t| Cow::Owned(t.to_string()));
    let errors = [EntryFields {
        message: text("message"),
        stack: text("stack"),
        ..EntryFields::default()
    }];
    Fingerprints::of(Signals {
        page_url: Some("https://shop.example/checkout"),
        errors: &errors,
        console: &[],
        network: &[],
        actions: &[],
    })
    .match_key()
    .expect("an error always gives a key")
}

/// Prints what is measured and the table's header.
pub fn print_intro(samples: usize) {
    println!(
        "moth bench --fingerprints: {REPORTS_PER_ISSUE} stored reports per issue; {samples} sequential samples per figure; \
         times in ms as p50 / p95 / p99"
    );
    println!(
        "{:<9} {:>8} {:<22} {:<22} {:<22} {:<22} {:<22} {:>9}",
        "database",
        "reports",
        "lookup known",
        "lookup unknown",
        "intake no signature",
        "intake new error",
        "intake duplicate",
        "overhead"
    );
}

/// Grows the stored reports to each size and prints a row of figures at each.
pub async fn bench_database(server: &BenchServer, name: &str, plan: &Plan) -> anyhow::Result<()> {
    let api = super::client::Api::new(&server.base_url, &server.token)?;
    api.create_project(super::drafts::COMPONENTS).await?;
    let project = server.store().project(PROJECT).await?;
    let intake = format!("{}/api/v1/intake/{}", server.base_url, project.intake_key);
    let http = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(SEED ^ 5);
    let mut issues = 0;
    let mut fresh = 1_000_000_000usize;
    for &size in &plan.sizes {
        let started = Instant::now();
        issues = seed(server, name, issues, size.div_ceil(REPORTS_PER_ISSUE)).await?;
        eprintln!(
            "{name}: {} reports stored in {:.0} s; timing",
            issues * REPORTS_PER_ISSUE,
            started.elapsed().as_secs_f64()
        );
        let known = time_lookups(server, plan.samples, |i| {
            key_of(&error_of(i * 7919 % issues, 0)).hash
        })
        .await?;
        let unknown = time_lookups(server, plan.samples, |i| {
            key_of(&error_of(2_000_000_000 + i, 0)).hash
        })
        .await?;
        let plain = time_intake(
            &http,
            &intake,
            plan.samples,
            |_| json!({"title": "Looks odd"}),
        )
        .await?;
        let new = time_intake(&http, &intake, plan.samples, |_| {
            fresh += 1;
            json!({"title": "Crash", "errors": [error_of(fresh, 1)]})
        })
        .await?;
        let duplicate = time_intake(&http, &intake, plan.samples, |_| {
            let n = rng.gen_range(0..issues);
            json!({"title": "Crash again", "errors": [error_of(n, rng.r#gen::<u32>() as u64)]})
        })
        .await?;
        println!(
            "{:<9} {:>8} {:<22} {:<22} {:<22} {:<22} {:<22} {:>9.2}",
            name,
            issues * REPORTS_PER_ISSUE,
            triple(&known),
            triple(&unknown),
            triple(&plain),
            triple(&new),
            triple(&duplicate),
            new.p50 - plain.p50
        );
    }
    Ok(())
}

/// Files issues `from..to` in bulk, each with its reports, and returns `to`.
async fn seed(server: &BenchServer, name: &str, from: usize, to: usize) -> anyhow::Result<usize> {
    let store = server.store();
    let mut filed = from;
    while filed < to {
        let count = BATCH_ISSUES.min(to - filed);
        let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1_000_000;
        // Intake between sizes files issues too, so numbers continue from the project's count.
        let first = store.project(PROJECT).await?.issue_count + 1;
        let issues: Vec<_> = (filed..filed + count)
            .map(|n| moth_store::ImportedIssue {
                issue_type: moth_core::IssueType::Bug,
                title: format!("Crash in step {n}"),
                description: String::new(),
                status: moth_core::Status::New,
                resolution: None,
                severity: None,
                priority: moth_core::Priority::None,
                fixed_in_version: None,
                created_at: now,
                updated_at: now,
            })
            .collect();
        store
            .import_issues(PROJECT, &issues)
            .await
            .context("cannot import issues")?;
        let reports: Vec<ImportedReport> = (filed..filed + count)
            .flat_map(|n| {
                let number = first + (n - filed) as i64;
                (0..REPORTS_PER_ISSUE).map(move |k| {
                    let error = error_of(n, k as u64);
                    ImportedReport {
                        issue_number: number,
                        status_token_hash: format!("bench-{n}-{k}"),
                        reporter_email: Some(format!("r{k}@example.com")),
                        app_version: Some("2.3.0".into()),
                        match_key: (k == 0).then(|| key_of(&error)),
                        context: json!({"errors": [error]}),
                    }
                })
            })
            .collect();
        store
            .import_reports(PROJECT, &reports)
            .await
            .context("cannot import reports")?;
        filed += count;
        // A line each time another 200,000 reports are stored.
        if filed / 20_000 > (filed - count) / 20_000 {
            eprintln!("{name}: {} reports", filed * REPORTS_PER_ISSUE);
        }
    }
    Ok(to)
}

async fn time_lookups(
    server: &BenchServer,
    samples: usize,
    hash: impl Fn(usize) -> String,
) -> anyhow::Result<Percentiles> {
    let mut times = Vec::with_capacity(samples);
    for i in 0..WARM_UP + samples {
        let hash = hash(i);
        let started = Instant::now();
        server.store().known_issue(PROJECT, &hash).await?;
        if i >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    Ok(percentiles(&mut times))
}

async fn time_intake(
    http: &reqwest::Client,
    url: &str,
    samples: usize,
    mut report: impl FnMut(usize) -> Value,
) -> anyhow::Result<Percentiles> {
    let mut times: Vec<Duration> = Vec::with_capacity(samples);
    for i in 0..WARM_UP + samples {
        let form = reqwest::multipart::Form::new().part(
            "report",
            reqwest::multipart::Part::text(report(i).to_string()),
        );
        let started = Instant::now();
        let response = http.post(url).multipart(form).send().await?;
        let status = response.status();
        if status != reqwest::StatusCode::CREATED {
            bail!(
                "intake answered {status}: {}",
                response.text().await.unwrap_or_default()
            );
        }
        response.bytes().await?;
        if i >= WARM_UP {
            times.push(started.elapsed());
        }
    }
    Ok(percentiles(&mut times))
}

fn triple(p: &Percentiles) -> String {
    format!("{:.2} / {:.2} / {:.2}", p.p50, p.p95, p.p99)
}
