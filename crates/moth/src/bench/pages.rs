//! `moth bench --pages`: the web app's pages as a signed-in browser gets them, at each size:
//! server time (p50/p95/p99 over loopback, one request after another) and HTML bytes, plain
//! and gzip, against the targets of p95 under 15 ms and under 100 KB.

use super::browser::{Browser, Page};
use super::client::{Api, PROJECT};
use super::corpus::Corpus;
use super::latency::{Percentiles, percentiles};
use super::page_seed::{self, COMMENTED, REPORTS};
use super::server::BenchServer;
use super::{Plan, SEED, drafts};
use anyhow::{Context, bail};
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::time::Instant;

/// Requests sent and not counted before each page is timed.
const WARM_UP: usize = 20;
/// The targets: p95 in ms and HTML in bytes (before compression).
const TARGET_P95_MS: f64 = 15.0;
const TARGET_BYTES: usize = 100 * 1024;

/// One page to time: a name, the paths it rotates through, and what its HTML must hold.
struct PageKind {
    name: &'static str,
    paths: Vec<String>,
    must_hold: &'static str,
}

/// The figures of one page at one size.
struct PageFigures {
    times: Percentiles,
    bytes: usize,
    gzip_bytes: usize,
    compressed: bool,
}

/// Says what is measured and prints the table's header.
pub fn print_intro(samples: usize, corpus: &Corpus) {
    println!(
        "moth bench --pages: signed in with a session cookie, {samples} sequential requests per page, Accept-Encoding: gzip"
    );
    println!(
        "issue text: {}; plus {REPORTS} widget reports through intake ({COMMENTED} of them with comments)",
        corpus.source()
    );
    println!(
        "targets: p95 under {TARGET_P95_MS} ms and HTML under {} KB; '!' marks a figure over its target",
        TARGET_BYTES / 1024
    );
    println!(
        "{:<9} {:<8} {:<16} {:<26} {:>9} {:>9} gzip by",
        "database", "issues", "page", "p50 / p95 / p99 ms", "HTML KB", "gzip KB"
    );
}

/// Grows the project to each size and times every page at each.
pub async fn bench_database(
    server: &BenchServer,
    name: &str,
    plan: &Plan,
    corpus: &Corpus,
) -> anyhow::Result<()> {
    let api = Api::new(&server.base_url, &server.token)?;
    api.create_project(drafts::COMPONENTS).await?;
    let (email, password) = &server.admin_login;
    let browser = Browser::sign_in(&server.base_url, email, password).await?;
    let mut rng = StdRng::seed_from_u64(SEED ^ 7);
    let mut imported = 0;
    let mut commented = Vec::new();
    for &size in &plan.sizes {
        let started = Instant::now();
        page_seed::import(server, corpus, &mut rng, imported, size).await?;
        imported = size;
        if commented.is_empty() {
            commented = page_seed::file_reports(server, &api).await?;
        }
        // A server's PostgreSQL has analyzed the tables within a minute of such an import.
        server
            .store()
            .refresh_statistics()
            .await
            .context("cannot refresh the planner's statistics")?;
        eprintln!(
            "{name}: {size} issues imported in {:.0} s; timing pages",
            started.elapsed().as_secs_f64()
        );
        for kind in kinds(&commented) {
            let figures = time_page(&browser, &kind, plan.samples)
                .await
                .with_context(|| format!("timing the {} page", kind.name))?;
            print_row(name, size, kind.name, &figures);
        }
    }
    Ok(())
}

/// The pages timed, with a marker each page's HTML must hold so a wrong page is never timed.
fn kinds(commented: &[String]) -> Vec<PageKind> {
    let project = format!("/projects/{PROJECT}");
    let one = |name, path: String, must_hold| PageKind {
        name,
        paths: vec![path],
        must_hold,
    };
    vec![
        one("bug list", project.clone(), "Bug queue"),
        one(
            "other work",
            format!("{project}?view=work&priority=high,urgent"),
            "Other work",
        ),
        one(
            "all issues",
            format!("{project}?view=all&status=any&severity=critical,major&sort=-created"),
            "All issues",
        ),
        PageKind {
            name: "issue",
            paths: commented.iter().map(|id| format!("/issues/{id}")).collect(),
            must_hold: "Looked into this",
        },
        one("board", format!("{project}/board"), "board-card"),
        one("triage", format!("{project}/triage"), "data-triage-count"),
        one("metrics", format!("{project}/metrics"), "<svg"),
        one("overview", format!("{project}/overview"), PROJECT),
        one("releases", format!("{project}/releases"), "2.3.0"),
        PageKind {
            name: "palette",
            paths: vec![
                "/palette?q=namenode".into(),
                format!("/palette?q={PROJECT}-42"),
                "/palette?q=board".into(),
            ],
            must_hold: "\"items\"",
        },
    ]
}

/// Warms up, then times `samples` GETs rotating through the page's paths; every answer is
/// checked (not timed). Bytes are the largest answer's.
async fn time_page(
    browser: &Browser,
    kind: &PageKind,
    samples: usize,
) -> anyhow::Result<PageFigures> {
    let path = |i: usize| &kind.paths[i % kind.paths.len()];
    for i in 0..WARM_UP {
        check(kind, &browser.get(path(i)).await?)?;
    }
    let mut times = Vec::with_capacity(samples);
    let mut largest: Option<Page> = None;
    for i in 0..samples {
        let started = Instant::now();
        let page = browser.get(path(i)).await?;
        times.push(started.elapsed());
        check(kind, &page)?;
        if largest
            .as_ref()
            .is_none_or(|l| l.body.len() < page.body.len())
        {
            largest = Some(page);
        }
    }
    let largest = largest.context("no samples")?;
    Ok(PageFigures {
        times: percentiles(&mut times),
        bytes: largest.body.len(),
        gzip_bytes: largest.gzip_bytes(),
        compressed: largest.compressed,
    })
}

fn check(kind: &PageKind, page: &Page) -> anyhow::Result<()> {
    if !page.text().contains(kind.must_hold) {
        bail!(
            "the {} page does not hold {:?}; is it the right page?",
            kind.name,
            kind.must_hold
        );
    }
    Ok(())
}

fn print_row(database: &str, issues: usize, page: &str, f: &PageFigures) {
    let over_time = if f.times.p95 > TARGET_P95_MS { "!" } else { "" };
    let over_size = if f.bytes > TARGET_BYTES { "!" } else { "" };
    let times = format!(
        "{:.2} / {:.2} / {:.2}{over_time}",
        f.times.p50, f.times.p95, f.times.p99
    );
    let html = format!("{:.1}{over_size}", f.bytes as f64 / 1024.0);
    println!(
        "{:<9} {:<8} {:<16} {:<26} {:>9} {:>9.1} {}",
        database,
        issues,
        page,
        times,
        html,
        f.gzip_bytes as f64 / 1024.0,
        if f.compressed { "server" } else { "bench" }
    );
}
