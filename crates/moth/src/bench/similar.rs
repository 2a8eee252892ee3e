//! `moth bench --similar`: how often "similar issues" finds a known duplicate.
//!
//! Imports real Hadoop bug reports (oldest first, so issue numbers follow filing order) and,
//! for each pair Hadoop's maintainers marked as duplicates, asks for the issues similar to the
//! later report among those filed before it, and checks whether its partner is in the top 1, 5
//! and 10. Moth's ranking and the engine's plain ranking are measured the same way.

use super::server::BenchServer;
use anyhow::{Context, bail};
use moth_core::{IssueRef, IssueType, Priority, Resolution, Status};
use moth_store::{ImportedIssue, ProjectScope, SimilarOptions, SimilarRanking, Store};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The duplicate pairs, next to the default corpus.
const DEFAULT_PAIRS: &str = "../shared/data/gitbugs/hadoop_duplicates.csv";
/// The project the reports are imported into.
const PROJECT: &str = "HADOOP";
/// Longest description imported, in bytes (Moth's own limit is larger; logs add nothing).
const MAX_DESCRIPTION_BYTES: usize = 20_000;
/// Similar queries timed at each larger size.
const SCALE_SAMPLES: usize = 100;
/// The cut-offs measured.
const CUTOFFS: [usize; 3] = [1, 5, 10];

/// One imported report: its Jira id and text.
struct Report {
    jira_id: String,
    created_at: i64,
    title: String,
    description: String,
    status: Status,
}

/// Recall at each cut-off and the latency of the queries, for one ranking.
struct Outcome {
    hits: [usize; 3],
    pairs: usize,
    times: Vec<Duration>,
}

/// Runs the evaluation on one database and prints its rows.
pub async fn bench_database(
    server: &BenchServer,
    name: &str,
    bugs: &Path,
    sizes: &[usize],
) -> anyhow::Result<()> {
    let reports = read_reports(bugs)?;
    let pairs_path = bugs.with_file_name(Path::new(DEFAULT_PAIRS).file_name().unwrap_or_default());
    let pairs = read_pairs(&pairs_path)?;
    let store = server.store();
    let numbers = import(store, &reports).await?;
    // Each pair once, as (later report, earlier partner) by filing order.
    let mut ordered: BTreeSet<(i64, i64)> = BTreeSet::new();
    for (a, b) in &pairs {
        if let (Some(&x), Some(&y)) = (numbers.get(a), numbers.get(b))
            && x != y
        {
            ordered.insert((x.max(y), x.min(y)));
        }
    }
    eprintln!(
        "{name}: {} reports imported, {} duplicate pairs among them",
        reports.len(),
        ordered.len()
    );
    for (label, ranking) in [
        ("moth", SimilarRanking::Moth),
        ("plain bm25", SimilarRanking::Plain),
    ] {
        let outcome = evaluate(store, &ordered, ranking).await?;
        print_row(name, label, &outcome);
    }
    time_at_sizes(store, name, &reports, sizes).await
}

/// Grows the project with copies of the reports to each size above the corpus and times
/// Moth's similar query there (recall means nothing among copies; the cost is the point).
async fn time_at_sizes(
    store: &Store,
    name: &str,
    reports: &[Report],
    sizes: &[usize],
) -> anyhow::Result<()> {
    let mut filed = reports.len();
    let last = reports.last().map(|r| r.created_at).unwrap_or(0);
    for &size in sizes.iter().filter(|&&s| s > reports.len()) {
        while filed < size {
            let count = (size - filed).min(1000);
            let batch: Vec<ImportedIssue> = (filed..filed + count)
                .map(|i| {
                    let r = &reports[i % reports.len()];
                    imported(r, last + i as i64)
                })
                .collect();
            store.import_issues(PROJECT, &batch).await?;
            filed += count;
        }
        let options = SimilarOptions::new(ProjectScope::All, 10);
        let mut times = Vec::new();
        for i in 0..SCALE_SAMPLES {
            let number = 1 + (i * (size - 1) / SCALE_SAMPLES) as i64;
            let issue_ref = IssueRef::parse(&format!("{PROJECT}-{number}"))?;
            let started = Instant::now();
            store.similar_issues(&issue_ref, &options).await?;
            times.push(started.elapsed());
        }
        let p = super::latency::percentiles(&mut times);
        println!(
            "{name:<9} moth at {size} issues (copies of the reports): similar query p50 / p95 {:.2} / {:.2} ms",
            p.p50, p.p95
        );
    }
    Ok(())
}

/// Prints what is measured and the table's header.
pub fn print_intro(bugs: &Path) {
    println!(
        "moth bench --similar: reports from {}, pairs from {DEFAULT_PAIRS}; for each pair, is the earlier report among the later one's top k suggestions (only issues filed before it)?",
        bugs.display()
    );
    println!(
        "{:<9} {:<11} {:>6} {:>9} {:>9} {:>10} {:>14}",
        "database", "ranking", "pairs", "recall@1", "recall@5", "recall@10", "p50/p95 ms"
    );
}

/// The bug reports file: `--corpus`, or the default next to the project.
pub fn bugs_path(corpus: Option<&Path>) -> anyhow::Result<PathBuf> {
    let path = corpus
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(super::DEFAULT_CORPUS));
    if !path.exists() {
        bail!(
            "--similar needs the Hadoop reports at {} (or --corpus PATH, with hadoop_duplicates.csv beside it)",
            path.display()
        );
    }
    Ok(path)
}

async fn evaluate(
    store: &Store,
    pairs: &BTreeSet<(i64, i64)>,
    ranking: SimilarRanking,
) -> anyhow::Result<Outcome> {
    let mut options = SimilarOptions::new(ProjectScope::All, 10);
    options.filed_before = true;
    options.ranking = ranking;
    let mut outcome = Outcome {
        hits: [0; 3],
        pairs: pairs.len(),
        times: Vec::with_capacity(pairs.len()),
    };
    for &(later, earlier) in pairs {
        let issue_ref = IssueRef::parse(&format!("{PROJECT}-{later}"))?;
        let started = Instant::now();
        let found = store.similar_issues(&issue_ref, &options).await?;
        outcome.times.push(started.elapsed());
        let partner = format!("{PROJECT}-{earlier}");
        if let Some(position) = found.iter().position(|s| s.id == partner) {
            for (i, cutoff) in CUTOFFS.iter().enumerate() {
                if position < *cutoff {
                    outcome.hits[i] += 1;
                }
            }
        }
    }
    Ok(outcome)
}

fn print_row(database: &str, ranking: &str, outcome: &Outcome) {
    let recall = |i: usize| outcome.hits[i] as f64 / outcome.pairs.max(1) as f64;
    let mut times = outcome.times.clone();
    let p = super::latency::percentiles(&mut times);
    println!(
        "{:<9} {:<11} {:>6} {:>9.3} {:>9.3} {:>10.3} {:>14}",
        database,
        ranking,
        outcome.pairs,
        recall(0),
        recall(1),
        recall(2),
        format!("{:.2} / {:.2}", p.p50, p.p95)
    );
}

/// Imports the reports oldest first; returns each Jira id's issue number.
async fn import(store: &Store, reports: &[Report]) -> anyhow::Result<HashMap<String, i64>> {
    store
        .create_project(
            moth_store::NewProject {
                key: moth_core::ProjectKey::parse(PROJECT)?,
                name: moth_core::Name::parse("name", "Apache Hadoop")?,
                intake_key: "bench-similar".into(),
            },
            moth_store::Actor::SYSTEM,
        )
        .await?;
    let issues: Vec<ImportedIssue> = reports.iter().map(|r| imported(r, r.created_at)).collect();
    for batch in issues.chunks(500) {
        store
            .import_issues(PROJECT, batch)
            .await
            .context("cannot import the reports")?;
    }
    // A fresh project numbers its issues from 1 in import order.
    let first = store
        .issue(&IssueRef::parse(&format!("{PROJECT}-1"))?)
        .await?;
    if reports
        .first()
        .is_some_and(|r| r.title != first.fields.title.as_str())
    {
        bail!("the imported issues are not numbered in import order");
    }
    Ok(reports
        .iter()
        .enumerate()
        .map(|(i, r)| (r.jira_id.clone(), i as i64 + 1))
        .collect())
}

/// A report as the importer files it, at `created_at`.
fn imported(r: &Report, created_at: i64) -> ImportedIssue {
    ImportedIssue {
        issue_type: IssueType::Bug,
        title: r.title.clone(),
        description: r.description.clone(),
        status: r.status,
        // Jira's "duplicate" names no target here, so done issues are just done.
        resolution: r.status.is_done().then_some(Resolution::Done),
        severity: None,
        priority: Priority::None,
        fixed_in_version: None,
        created_at,
        updated_at: created_at,
    }
}

/// Reads the reports and sorts them by filing time (then Jira id, which counts up).
fn read_reports(path: &Path) -> anyhow::Result<Vec<Report>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let headers = reader.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .with_context(|| format!("{} has no {name} column", path.display()))
    };
    let (summary, id, status, created, description) = (
        column("Summary")?,
        column("Issue id")?,
        column("Status")?,
        column("Created")?,
        column("Description")?,
    );
    let mut reports = Vec::new();
    for record in reader.records() {
        let record = record?;
        let field = |i: usize| record.get(i).unwrap_or_default();
        let title: String = field(summary)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(300)
            .collect();
        let Some(created_at) = jira_time(field(created)) else {
            continue;
        };
        if title.trim().is_empty() {
            continue;
        }
        reports.push(Report {
            jira_id: field(id).trim().to_string(),
            created_at,
            title: title.trim().to_string(),
            description: cut(field(description), MAX_DESCRIPTION_BYTES).to_string(),
            status: jira_status(field(status)),
        });
    }
    reports.sort_by(|a, b| {
        (a.created_at, a.jira_id.parse::<i64>().unwrap_or(0))
            .cmp(&(b.created_at, b.jira_id.parse::<i64>().unwrap_or(0)))
    });
    // Jira times are to the minute: a microsecond each keeps "filed before" strict and in order.
    for (i, report) in reports.iter_mut().enumerate() {
        report.created_at += i as i64;
    }
    Ok(reports)
}

/// Reads `Issue id,Duplicate id` rows (a cell may hold several ids) as pairs.
fn read_pairs(path: &Path) -> anyhow::Result<Vec<(String, String)>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut pairs = Vec::new();
    for record in reader.records() {
        let record = record?;
        let ids = |i: usize| -> Vec<String> {
            record
                .get(i)
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        for a in ids(0) {
            for b in ids(1) {
                pairs.push((a.clone(), b));
            }
        }
    }
    Ok(pairs)
}

/// Jira's `30/Sep/21 17:20` as Unix microseconds (UTC).
fn jira_time(text: &str) -> Option<i64> {
    let (date, clock) = text.trim().split_once(' ')?;
    let mut parts = date.split('/');
    let day: u8 = parts.next()?.parse().ok()?;
    let month = match parts.next()? {
        "Jan" => time::Month::January,
        "Feb" => time::Month::February,
        "Mar" => time::Month::March,
        "Apr" => time::Month::April,
        "May" => time::Month::May,
        "Jun" => time::Month::June,
        "Jul" => time::Month::July,
        "Aug" => time::Month::August,
        "Sep" => time::Month::September,
        "Oct" => time::Month::October,
        "Nov" => time::Month::November,
        "Dec" => time::Month::December,
        _ => return None,
    };
    let year: i32 = 2000 + parts.next()?.parse::<i32>().ok()?;
    let (hour, minute) = clock.split_once(':')?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let at = date
        .with_hms(hour.parse().ok()?, minute.parse().ok()?, 0)
        .ok()?
        .assume_utc();
    Some((at.unix_timestamp_nanos() / 1000) as i64)
}

/// Jira's workflow mapped onto Moth's statuses.
fn jira_status(text: &str) -> Status {
    match text.trim() {
        "Resolved" => Status::Resolved,
        "Closed" => Status::Closed,
        "In Progress" | "Patch Available" => Status::InProgress,
        "Reopened" => Status::Triaged,
        _ => Status::New,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jira_times_are_read_to_the_minute() {
        let at = jira_time("30/Sep/21 17:20").unwrap();
        let expected = time::macros::datetime!(2021-09-30 17:20 UTC);
        assert_eq!(at, (expected.unix_timestamp_nanos() / 1000) as i64);
        assert_eq!(jira_time("yesterday"), None);
    }

    #[test]
    fn pairs_expand_cells_with_several_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pairs.csv");
        std::fs::write(&path, "Issue id,Duplicate id\n1,2\n3,\"4, 5\"\n").unwrap();
        let pairs = read_pairs(&path).unwrap();
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[2], ("3".to_string(), "5".to_string()));
    }
}
