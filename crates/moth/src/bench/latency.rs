//! Latency: one client sending requests one after another, and percentiles of their times.

use super::client::{Api, PROJECT};
use anyhow::{Context, bail};
use rand::Rng;
use rand::rngs::StdRng;
use std::time::{Duration, Instant};

/// Requests sent and not counted before each measurement.
const WARM_UP: usize = 50;

/// p50, p95 and p99 of one kind of request, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Percentiles {
    /// The median.
    pub p50: f64,
    /// 95% of requests were this fast or faster.
    pub p95: f64,
    /// 99% of requests were this fast or faster.
    pub p99: f64,
}

/// The latency figures of one size.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Open major or critical bugs by priority, 50 a page.
    pub filtered_list: Percentiles,
    /// The newest 50 issues.
    pub plain_list: Percentiles,
    /// One issue by id.
    pub get_issue: Percentiles,
    /// The project's quality figures (`GET /api/v1/projects/{key}/metrics`, last 12 weeks).
    pub metrics_api: Percentiles,
    /// The metrics page with its six SVG charts.
    pub metrics_page: Percentiles,
    /// The metrics API right after a change, when the figures are computed afresh.
    pub metrics_after_change: Percentiles,
}

/// Figures computed afresh cost far more than reused ones, so fewer samples are timed.
const AFTER_CHANGE_SHARE: usize = 10;

/// Measures the three kinds of request against a project of `issues` issues; `label` names
/// the database in progress lines.
pub async fn measure(
    api: &Api,
    label: &str,
    issues: usize,
    samples: usize,
    rng: &mut StdRng,
) -> anyhow::Result<Figures> {
    let timing = Timing {
        api,
        label,
        samples,
    };
    let filtered = format!(
        "/api/v1/projects/{PROJECT}/issues?type=bug&status=open&severity=major,critical&sort=priority&limit=50"
    );
    let plain = format!("/api/v1/projects/{PROJECT}/issues?limit=50");
    let random_issue = || format!("/api/v1/issues/{PROJECT}-{}", rng.gen_range(1..=issues));
    let metrics = format!("/api/v1/projects/{PROJECT}/metrics");
    let metrics_page = format!("/projects/{PROJECT}/metrics");
    Ok(Figures {
        filtered_list: timing
            .run("filtered list", || filtered.clone(), has_items)
            .await?,
        plain_list: timing.run("plain list", || plain.clone(), any).await?,
        get_issue: timing.run("get issue", random_issue, any).await?,
        metrics_api: timing
            .run("metrics API", || metrics.clone(), has_weeks)
            .await?,
        metrics_page: timing
            .run("metrics page", || metrics_page.clone(), any)
            .await?,
        metrics_after_change: metrics_after_change(api, label, &metrics, samples).await?,
    })
}

/// One client timing requests one after another.
struct Timing<'a> {
    api: &'a Api,
    label: &'a str,
    samples: usize,
}

impl Timing<'_> {
    /// Warms up, then times `samples` sequential GETs of the paths `next_path` gives; every
    /// answer must be 200 and pass `check` (which is not timed).
    async fn run(
        &self,
        what: &str,
        mut next_path: impl FnMut() -> String,
        check: impl Fn(&[u8]) -> anyhow::Result<()>,
    ) -> anyhow::Result<Percentiles> {
        eprintln!("{}: timing {what}, {} requests", self.label, self.samples);
        for _ in 0..WARM_UP {
            check(&self.api.get(&next_path()).await?)?;
        }
        let mut times = Vec::with_capacity(self.samples);
        for _ in 0..self.samples {
            let path = next_path();
            let started = Instant::now();
            let body = self.api.get(&path).await?;
            times.push(started.elapsed());
            check(&body).with_context(|| format!("GET {path}"))?;
        }
        Ok(percentiles(&mut times))
    }
}

/// Times the metrics API right after a change to one issue (the change is not timed), so
/// every answer is computed afresh from the database.
async fn metrics_after_change(
    api: &Api,
    label: &str,
    path: &str,
    samples: usize,
) -> anyhow::Result<Percentiles> {
    let samples = (samples / AFTER_CHANGE_SHARE).max(5);
    eprintln!("{label}: timing metrics API after a change, {samples} requests");
    let mut times = Vec::with_capacity(samples);
    for i in 0..samples {
        api.set_priority(1, if i % 2 == 0 { "high" } else { "low" })
            .await?;
        let started = Instant::now();
        let body = api.get(path).await?;
        times.push(started.elapsed());
        has_weeks(&body)?;
    }
    Ok(percentiles(&mut times))
}

/// Accepts any 200 answer.
fn any(_body: &[u8]) -> anyhow::Result<()> {
    Ok(())
}

/// Fails unless the body is a list page with at least one item.
fn has_items(body: &[u8]) -> anyhow::Result<()> {
    let page: serde_json::Value = serde_json::from_slice(body).context("the answer is not JSON")?;
    match page["items"].as_array() {
        Some(items) if !items.is_empty() => Ok(()),
        Some(_) => bail!("the filtered list is empty; the benchmark's issues do not match it"),
        None => bail!("the answer has no items array"),
    }
}

/// Fails unless the body is the metrics answer with its weekly series.
fn has_weeks(body: &[u8]) -> anyhow::Result<()> {
    let figures: serde_json::Value =
        serde_json::from_slice(body).context("the answer is not JSON")?;
    match figures["weekly"].as_array() {
        Some(weeks) if !weeks.is_empty() => Ok(()),
        _ => bail!("the metrics answer has no weekly figures"),
    }
}

/// Nearest-rank p50, p95 and p99 of a non-empty set of times.
pub(super) fn percentiles(times: &mut [Duration]) -> Percentiles {
    times.sort_unstable();
    Percentiles {
        p50: nearest_rank(times, 50),
        p95: nearest_rank(times, 95),
        p99: nearest_rank(times, 99),
    }
}

/// The smallest time at least `percent`% of the sorted times are at or below, in ms.
fn nearest_rank(sorted: &[Duration], percent: usize) -> f64 {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1].as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_of_one_to_a_hundred_ms() {
        let mut times: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let p = percentiles(&mut times);
        assert_eq!(
            p,
            Percentiles {
                p50: 50.0,
                p95: 95.0,
                p99: 99.0
            }
        );
    }

    #[test]
    fn a_single_sample_is_every_percentile() {
        let p = percentiles(&mut [Duration::from_micros(1500)]);
        assert_eq!((p.p50, p.p95, p.p99), (1.5, 1.5, 1.5));
    }

    #[test]
    fn the_filtered_list_must_hold_items() {
        assert!(has_items(br#"{"items":[{"id":"BENCH-1"}],"next_cursor":null}"#).is_ok());
        assert!(has_items(br#"{"items":[],"next_cursor":null}"#).is_err());
        assert!(has_items(b"not json").is_err());
    }
}
