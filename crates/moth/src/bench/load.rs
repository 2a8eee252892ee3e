//! Growing the project: filing issues with many concurrent clients, then resolving some.

use super::client::Api;
use super::drafts::Drafts;
use futures::{StreamExt, TryStreamExt, stream};
use rand::Rng;
use rand::rngs::StdRng;
use std::time::Instant;

/// A progress line goes to stderr each time this many more issues exist.
const PROGRESS_EVERY: usize = 10_000;

/// Share of the new issues resolved, so that "open" filters leave some out.
const RESOLVED_SHARE: f64 = 0.3;

/// One step of growth: the project goes from `from` issues to `to`.
pub struct Growth<'a> {
    /// The database, for progress lines.
    pub label: &'a str,
    /// Issues the project has before the step.
    pub from: usize,
    /// Issues it has after.
    pub to: usize,
    /// Requests in flight at once.
    pub concurrency: usize,
}

/// Files the step's new issues and returns the creation throughput in issues per second.
pub async fn create_issues(
    api: &Api,
    drafts: &mut Drafts<'_>,
    growth: &Growth<'_>,
) -> anyhow::Result<f64> {
    let count = growth.to - growth.from;
    eprintln!(
        "{}: filing {count} issues ({} -> {}) with {} clients",
        growth.label, growth.from, growth.to, growth.concurrency
    );
    let started = Instant::now();
    let mut answers = stream::iter(0..count)
        .map(|_| api.create_issue(drafts.next_draft()))
        .buffer_unordered(growth.concurrency);
    let mut done = 0;
    let mut next_report = (growth.from / PROGRESS_EVERY + 1) * PROGRESS_EVERY;
    while let Some(answer) = answers.next().await {
        answer?;
        done += 1;
        let total = growth.from + done;
        if total == next_report {
            next_report += PROGRESS_EVERY;
            let rate = done as f64 / started.elapsed().as_secs_f64();
            eprintln!("{}: {total} issues ({rate:.0}/s)", growth.label);
        }
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

/// Resolves about 30% of the step's new issues, chosen by `rng`.
pub async fn close_some(api: &Api, growth: &Growth<'_>, rng: &mut StdRng) -> anyhow::Result<()> {
    let numbers: Vec<usize> = (growth.from + 1..=growth.to)
        .filter(|_| rng.gen_bool(RESOLVED_SHARE))
        .collect();
    eprintln!("{}: resolving {} of them", growth.label, numbers.len());
    let started = Instant::now();
    stream::iter(numbers)
        .map(|number| api.resolve_issue(number))
        .buffer_unordered(growth.concurrency)
        .try_collect::<()>()
        .await?;
    eprintln!(
        "{}: resolved in {:.1} s",
        growth.label,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
