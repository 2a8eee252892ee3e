//! `moth bench --search`: search and query-language latency on a big tracker.
//!
//! Issues are filed in bulk through the store's importer (the HTTP path is measured by the
//! plain benchmark): real Hadoop bug reports for titles and text, with generated sentences on
//! top that put a very common word ("crash") into about 95% of issues, since ranking every
//! match of a common word is what makes naive search slow. Each query is then timed
//! sequentially in the store (the database's share) and over HTTP (everything a client sees).

use super::client::{Api, PROJECT};
use super::corpus::Corpus;
use super::latency::{Percentiles, percentiles};
use super::server::BenchServer;
use super::{Plan, SEED, drafts};
use anyhow::Context;
use moth_core::{IssueType, Priority, Query, Resolution, Severity, Status};
use moth_store::{ImportedIssue, ProjectScope, SearchRequest};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};

/// Issues per import transaction.
pub(super) const BATCH: usize = 1000;
/// Longest description taken from a real report, in bytes (keeps 1M issues on a laptop disk).
const REAL_DESCRIPTION_BYTES: usize = 600;
/// Share of issues whose text holds the common word.
const COMMON_WORD_SHARE: f64 = 0.95;
/// Queries timed before the counted ones.
const WARM_UP: usize = 10;

/// What is timed: a name for the table and the queries it rotates through.
const QUERIES: &[(&str, &[&str])] = &[
    (
        "rare word",
        &["kerberos", "symlink", "webhdfs", "checksum", "quota"],
    ),
    ("common word (95%)", &["crash"]),
    (
        "two words",
        &["namenode crash", "datanode timeout", "yarn container"],
    ),
    (
        "phrase",
        &[
            "\"block report\"",
            "\"file system\"",
            "\"resource manager\"",
        ],
    ),
    ("prefix", &["deleg*", "replic*", "kerb*"]),
    ("exclusion", &["namenode -crash", "token -kerberos"]),
    (
        "filters + word",
        &[
            "type:bug status:open severity:critical,major crash",
            "status:open priority:high namenode",
        ],
    ),
    (
        "filters only",
        &[
            "type:bug status:open severity:critical,major",
            "status:resolved fixed:>=2.3 type:bug",
            "updated:<30d priority:urgent",
        ],
    ),
];

/// Grows one project to each size and prints search latencies at each.
pub async fn bench_database(
    server: &BenchServer,
    name: &str,
    plan: &Plan,
    corpus: &Corpus,
) -> anyhow::Result<()> {
    let api = Api::new(&server.base_url, &server.token)?;
    api.create_project(drafts::COMPONENTS).await?;
    let store = server.store();
    let mut rng = StdRng::seed_from_u64(SEED ^ 3);
    let mut filed = 0;
    for &size in &plan.sizes {
        let started = Instant::now();
        while filed < size {
            let count = BATCH.min(size - filed);
            let batch: Vec<ImportedIssue> = (filed..filed + count)
                .map(|i| issue(corpus, i, &mut rng))
                .collect();
            store
                .import_issues(PROJECT, &batch)
                .await
                .context("cannot import issues")?;
            filed += count;
            if filed % 100_000 == 0 {
                eprintln!("{name}: {filed} issues");
            }
        }
        let rate = (size as f64) / started.elapsed().as_secs_f64().max(1e-9);
        // A server's PostgreSQL has analyzed the tables within a minute of such an import.
        store
            .refresh_statistics()
            .await
            .context("cannot refresh the planner's statistics")?;
        eprintln!("{name}: {size} issues ({rate:.0} imported/s); timing searches");
        let samples = plan.samples;
        for (what, queries) in QUERIES {
            let (in_store, found) = time_store(store, queries, samples).await?;
            let over_http = time_http(&api, queries, samples).await?;
            println!(
                "{:<9} {:<8} {:<20} {:>7} {:<22} {}",
                name,
                size,
                what,
                found,
                triple(&in_store),
                triple(&over_http)
            );
        }
        let listing = time_list(&api, samples).await?;
        println!(
            "{:<9} {:<8} {:<20} {:>7} {:<22} {}",
            name,
            size,
            "project list + q",
            "-",
            "-",
            triple(&listing)
        );
    }
    Ok(())
}

/// Prints what is measured and the table's header.
pub fn print_intro(samples: usize, corpus: &Corpus) {
    println!(
        "moth bench --search: {samples} sequential samples per figure, pages of 50, ranked among the newest {} matches",
        moth_store::search::CANDIDATES
    );
    println!(
        "issue text: {} (descriptions cut to {REAL_DESCRIPTION_BYTES} bytes), plus generated sentences; \"crash\" in {:.0}% of issues",
        corpus.source(),
        COMMON_WORD_SHARE * 100.0
    );
    println!(
        "{:<9} {:<8} {:<20} {:>7} {:<22} http p50/p95/p99 ms",
        "database", "issues", "query", "found", "store p50/p95/p99 ms"
    );
}

/// The `i`th issue: a real report's text with generated sentences on top.
pub(super) fn issue(corpus: &Corpus, i: usize, rng: &mut StdRng) -> ImportedIssue {
    let text = corpus.text(i);
    let mut description = text
        .description
        .as_deref()
        .map(|d| cut(d, REAL_DESCRIPTION_BYTES).to_string())
        .unwrap_or_default();
    description.push_str("\n\n");
    description.push_str(&super::corpus::generated_sentence(rng));
    if rng.gen_bool(COMMON_WORD_SHARE) {
        description.push_str(" Saw a crash.");
    }
    let issue_type = *[
        IssueType::Bug,
        IssueType::Bug,
        IssueType::Bug,
        IssueType::Feature,
        IssueType::Improvement,
        IssueType::Task,
        IssueType::Performance,
    ]
    .choose(rng)
    .unwrap_or(&IssueType::Bug);
    let severity = matches!(issue_type, IssueType::Bug | IssueType::Performance)
        .then(|| *Severity::ALL.choose(rng).unwrap_or(&Severity::Minor));
    let resolved = rng.gen_bool(0.4);
    let status = if resolved {
        Status::Resolved
    } else {
        *Status::OPEN.choose(rng).unwrap_or(&Status::New)
    };
    // Spread over the last three years, oldest first as they were filed.
    let now = (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64;
    let created_at = now - 3 * 365 * 86_400_000_000 + (i as i64) * 90_000_000;
    let created_at = created_at.min(now);
    ImportedIssue {
        issue_type,
        title: text.title.clone(),
        description,
        status,
        resolution: resolved.then_some(Resolution::Fixed),
        severity,
        priority: *Priority::ALL.choose(rng).unwrap_or(&Priority::None),
        fixed_in_version: resolved.then(|| {
            ["2.1.0", "2.2.0", "2.3.0", "2.3.1", "2.10.0"]
                .choose(rng)
                .unwrap_or(&"2.3.0")
                .to_string()
        }),
        created_at,
        updated_at: created_at
            + rng
                .gen_range(0..30 * 86_400_000_000i64)
                .min(now - created_at),
    }
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Times `Store::search` over the queries in turn; also returns the first page's size.
async fn time_store(
    store: &moth_store::Store,
    queries: &[&str],
    samples: usize,
) -> anyhow::Result<(Percentiles, usize)> {
    let request = |i: usize| -> anyhow::Result<SearchRequest> {
        Ok(SearchRequest {
            query: Query::parse(queries[i % queries.len()])?,
            scope: ProjectScope::All,
            limit: 50,
            cursor: None,
        })
    };
    let mut found = 0;
    for i in 0..WARM_UP {
        found = found.max(store.search(&request(i)?).await?.items.len());
    }
    let mut times: Vec<Duration> = Vec::with_capacity(samples);
    for i in 0..samples {
        let request = request(i)?;
        let started = Instant::now();
        store.search(&request).await?;
        times.push(started.elapsed());
    }
    Ok((percentiles(&mut times), found))
}

/// Times `GET /api/v1/search` over the queries in turn.
async fn time_http(api: &Api, queries: &[&str], samples: usize) -> anyhow::Result<Percentiles> {
    let path = |i: usize| {
        format!(
            "/api/v1/search?{}",
            serde_urlencoded_pair("q", queries[i % queries.len()])
        )
    };
    for i in 0..WARM_UP {
        api.get(&path(i)).await?;
    }
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let path = path(i);
        let started = Instant::now();
        api.get(&path).await?;
        times.push(started.elapsed());
    }
    Ok(percentiles(&mut times))
}

/// Times a project list filtered with the query language.
async fn time_list(api: &Api, samples: usize) -> anyhow::Result<Percentiles> {
    let queries = [
        "status:open namenode",
        "type:bug -label:flaky datanode",
        "crash priority:high",
    ];
    let path = |i: usize| {
        format!(
            "/api/v1/projects/{PROJECT}/issues?{}",
            serde_urlencoded_pair("q", queries[i % queries.len()])
        )
    };
    for i in 0..WARM_UP {
        api.get(&path(i)).await?;
    }
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        let path = path(i);
        let started = Instant::now();
        api.get(&path).await?;
        times.push(started.elapsed());
    }
    Ok(percentiles(&mut times))
}

/// `key=value` with the value percent-encoded.
pub(super) fn serde_urlencoded_pair(key: &str, value: &str) -> String {
    let mut encoded = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                encoded.push(byte as char)
            }
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    format!("{key}={encoded}")
}

fn triple(p: &Percentiles) -> String {
    format!("{:.2} / {:.2} / {:.2}", p.p50, p.p95, p.p99)
}
