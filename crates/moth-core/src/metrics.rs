//! A project's quality figures: the window they cover, ISO weeks, means and rates, and the
//! stakeholder overview's "next release". The store counts; this module shapes the counts.
//!
//! "Bugs" here are defects: issues of type `bug` **and** `performance`. Both are things that
//! work wrongly for someone (a checkout that takes 30 seconds is broken for its user), both
//! carry a severity (`IssueType::has_severity`), and leaving performance out would drop its
//! severities from every defect chart. Everything else (features, tasks...) is "other work".
//! `created_by_type` and `open_by_type` still count each type apart, so nothing is hidden.

use crate::DomainError;
use crate::version::Version;
use crate::vocabulary::{IssueType, Priority, Resolution, Severity, Status};
use serde::Serialize;
use std::collections::BTreeMap;
use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset, Weekday};
use utoipa::ToSchema;

/// One week in microseconds, the unit stored times are bucketed by.
pub const WEEK_MICROS: i64 = 7 * 24 * 3600 * 1_000_000;

/// The key used for defects that have no severity yet.
pub const UNSET_SEVERITY: &str = "unset";

/// The types counted as defects ("bugs") in every figure.
pub const DEFECT_TYPES: &[IssueType] = &[IssueType::Bug, IssueType::Performance];

/// Whether an issue type counts as a defect in the figures (see the module's comment).
pub fn is_defect(issue_type: IssueType) -> bool {
    issue_type.has_severity()
}

/// The span of time the windowed figures cover: from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsWindow {
    pub from: OffsetDateTime,
    pub to: OffsetDateTime,
}

impl MetricsWindow {
    /// How many weeks the window spans when none is asked for.
    pub const DEFAULT_WEEKS: i64 = 12;
    /// The longest window served: ten years of weekly rows is already a lot to draw.
    pub const MAX_WEEKS: i64 = 530;

    /// Reads `from` and `to` as RFC 3339 times or `YYYY-MM-DD` dates (UTC; a date `to` includes
    /// that whole day). Without `from`, the window starts on the Monday 11 weeks before the
    /// current week, so twelve whole-or-current weeks show; without `to`, it ends now.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Self, DomainError> {
        let now = now.to_offset(UtcOffset::UTC);
        let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => parse_bound("to", text, true)?,
            None => now,
        };
        let from = match from.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => parse_bound("from", text, false)?,
            None => week_start(to) - Duration::weeks(Self::DEFAULT_WEEKS - 1),
        };
        if from > to {
            return Err(DomainError::field("from", "from must not be later than to"));
        }
        let window = Self { from, to };
        if window.week_count() > Self::MAX_WEEKS {
            return Err(DomainError::field(
                "from",
                format!("the window spans more than {} weeks", Self::MAX_WEEKS),
            ));
        }
        Ok(window)
    }

    /// Monday 00:00 UTC of the week `from` falls in: week buckets are counted from here.
    pub fn first_week_start(&self) -> OffsetDateTime {
        week_start(self.from)
    }

    /// How many ISO weeks the window touches (at least one).
    pub fn week_count(&self) -> i64 {
        let span = (self.to - self.first_week_start()).whole_microseconds() as i64;
        ((span + WEEK_MICROS - 1) / WEEK_MICROS).max(1)
    }

    /// The weeks the window touches, in order, each with no counts yet.
    pub fn weeks(&self) -> Vec<WeekFigures> {
        let first = self.first_week_start();
        (0..self.week_count())
            .map(|i| WeekFigures::empty(first + Duration::weeks(i)))
            .collect()
    }
}

/// Reads one bound of the window.
fn parse_bound(
    field: &'static str,
    text: &str,
    end_of_day: bool,
) -> Result<OffsetDateTime, DomainError> {
    if let Ok(time) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(time.to_offset(UtcOffset::UTC));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match Date::parse(text, &format) {
        Ok(date) => {
            let start = date.with_time(Time::MIDNIGHT).assume_utc();
            Ok(if end_of_day {
                start + Duration::days(1)
            } else {
                start
            })
        }
        Err(_) => Err(DomainError::field(
            field,
            format!(
                "{:?} is not a date; use YYYY-MM-DD or an RFC 3339 time such as 2026-01-31T12:00:00Z",
                crate::vocabulary::truncate_for_message(text)
            ),
        )),
    }
}

/// Monday 00:00 UTC of the ISO week a time falls in.
pub fn week_start(time: OffsetDateTime) -> OffsetDateTime {
    let date = time.to_offset(UtcOffset::UTC).date();
    let back = i64::from(date.weekday().number_days_from_monday());
    (date - Duration::days(back))
        .with_time(Time::MIDNIGHT)
        .assume_utc()
}

/// The ISO week label of a date, such as `2026-W48`.
pub fn iso_week_label(date: Date) -> String {
    let (year, week, _) = date.to_iso_week_date();
    format!("{year}-W{week:02}")
}

/// Counts for one ISO week: defects and other work, created and resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WeekFigures {
    /// The ISO week, `2026-W48`.
    pub week: String,
    /// Its Monday, `2026-11-23`.
    pub starts_on: String,
    pub created_bugs: i64,
    pub resolved_bugs: i64,
    pub created_other: i64,
    pub resolved_other: i64,
}

impl WeekFigures {
    fn empty(start: OffsetDateTime) -> Self {
        let date = start.date();
        debug_assert_eq!(date.weekday(), Weekday::Monday);
        Self {
            week: iso_week_label(date),
            starts_on: date.to_string(),
            created_bugs: 0,
            resolved_bugs: 0,
            created_other: 0,
            resolved_other: 0,
        }
    }
}

/// Issues counted per week bucket (weeks since the window's first Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeekTally {
    pub week_index: i64,
    pub defect: bool,
    pub count: i64,
}

/// Resolved defects of one severity and the total time they took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolveTally {
    pub severity: Option<Severity>,
    pub count: i64,
    pub total_seconds: i64,
}

/// What the store counts for a project's figures; `ProjectMetrics::from_tallies` shapes it.
#[derive(Debug, Clone, Default)]
pub struct MetricsTallies {
    pub created_by_type: Vec<(IssueType, i64)>,
    pub open_by_type: Vec<(IssueType, i64)>,
    pub open_defects_by_severity: Vec<(Option<Severity>, i64)>,
    pub weekly_created: Vec<WeekTally>,
    pub weekly_resolved: Vec<WeekTally>,
    pub resolve_times: Vec<ResolveTally>,
    /// Defects created in the window that were ever resolved (done now, or reopened since).
    pub ever_resolved_defects: i64,
    /// Of those, the ones reopened at least once.
    pub reopened_defects: i64,
    /// Regressions per `affects_version` (`None`: no version given).
    pub regressions: Vec<(Option<String>, i64)>,
}

/// Regressions reported against one release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RegressionCount {
    /// The `affects_version`; null when the reports named none.
    pub version: Option<String>,
    pub count: i64,
}

/// A project's quality figures, as `GET /api/v1/projects/{key}/metrics` answers them.
///
/// "Bugs" are defects: types `bug` and `performance`. Windowed figures (`created_by_type`,
/// `weekly`, the mean time to resolve and the reopen rate) cover `from`..`to`; `open_*` are the
/// state now; `regressions` count every issue ever flagged as a regression.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectMetrics {
    pub project: String,
    #[serde(with = "time::serde::rfc3339")]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub to: OffsetDateTime,
    /// Issues created in the window, per type (every type present).
    #[schema(value_type = BTreeMap<String, i64>)]
    pub created_by_type: BTreeMap<IssueType, i64>,
    /// Open issues now, per type (every type present).
    #[schema(value_type = BTreeMap<String, i64>)]
    pub open_by_type: BTreeMap<IssueType, i64>,
    /// Open defects now, per severity, plus `unset` for those without one.
    pub open_bugs_by_severity: BTreeMap<String, i64>,
    /// Every ISO week of the window (Monday first, UTC), zeros included.
    pub weekly: Vec<WeekFigures>,
    /// Mean hours from filing to resolution of defects resolved as `fixed` in the window, per
    /// severity; null where none was. Declined and duplicate reports are left out: they close
    /// in minutes and would hide how long real fixes take.
    pub mean_time_to_resolve_hours_by_severity: BTreeMap<String, Option<f64>>,
    /// How many defects the means above are taken over, per severity.
    pub resolved_bugs_by_severity: BTreeMap<String, i64>,
    /// Share (0 to 1) of the defects created in the window and ever resolved that were
    /// reopened at least once; null when none was resolved.
    pub reopen_rate: Option<f64>,
    /// The numerator and denominator of `reopen_rate`.
    pub reopened_bugs: i64,
    pub ever_resolved_bugs: i64,
    /// Issues flagged as regressions, per `affects_version`, oldest release first.
    pub regressions: Vec<RegressionCount>,
}

/// The keys of the per-severity maps, in severity order.
pub fn severity_keys() -> impl Iterator<Item = &'static str> {
    Severity::ALL
        .iter()
        .map(|s| s.as_str())
        .chain(std::iter::once(UNSET_SEVERITY))
}

fn severity_key(severity: Option<Severity>) -> &'static str {
    severity.map_or(UNSET_SEVERITY, Severity::as_str)
}

/// A mean in hours from a total in seconds, rounded to a tenth of an hour.
pub fn mean_hours(total_seconds: i64, count: i64) -> Option<f64> {
    (count > 0).then(|| (total_seconds as f64 / count as f64 / 360.0).round() / 10.0)
}

/// A share rounded to four places; `None` when there is nothing to share.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0)
}

/// Orders releases as people mean them (`2.10 > 2.9`); unparseable text after, by text; no
/// version last.
pub fn compare_release_names(a: &Option<String>, b: &Option<String>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => match (Version::parse("version", a), Version::parse("version", b)) {
            (Ok(va), Ok(vb)) => va.cmp(&vb).then_with(|| a.cmp(b)),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => a.cmp(b),
        },
    }
}

impl ProjectMetrics {
    /// Shapes the store's counts: every type, severity and week present, means and rates taken.
    pub fn from_tallies(project: &str, window: &MetricsWindow, tallies: MetricsTallies) -> Self {
        let per_type = |counts: &[(IssueType, i64)]| {
            let mut map: BTreeMap<IssueType, i64> =
                IssueType::ALL.iter().map(|t| (*t, 0)).collect();
            for (t, n) in counts {
                *map.entry(*t).or_default() += n;
            }
            map
        };
        let mut open_bugs_by_severity: BTreeMap<String, i64> =
            severity_keys().map(|k| (k.to_string(), 0)).collect();
        for (severity, n) in &tallies.open_defects_by_severity {
            *open_bugs_by_severity
                .entry(severity_key(*severity).to_string())
                .or_default() += n;
        }
        let mut weekly = window.weeks();
        for (tallies, created) in [
            (&tallies.weekly_created, true),
            (&tallies.weekly_resolved, false),
        ] {
            for tally in tallies {
                let Some(week) = usize::try_from(tally.week_index)
                    .ok()
                    .and_then(|i| weekly.get_mut(i))
                else {
                    continue;
                };
                let slot = match (created, tally.defect) {
                    (true, true) => &mut week.created_bugs,
                    (true, false) => &mut week.created_other,
                    (false, true) => &mut week.resolved_bugs,
                    (false, false) => &mut week.resolved_other,
                };
                *slot += tally.count;
            }
        }
        let mut resolved: BTreeMap<String, (i64, i64)> =
            severity_keys().map(|k| (k.to_string(), (0, 0))).collect();
        for tally in &tallies.resolve_times {
            let entry = resolved
                .entry(severity_key(tally.severity).to_string())
                .or_default();
            entry.0 += tally.count;
            entry.1 += tally.total_seconds;
        }
        let mut regressions: Vec<RegressionCount> = tallies
            .regressions
            .into_iter()
            .map(|(version, count)| RegressionCount { version, count })
            .collect();
        regressions.sort_by(|a, b| compare_release_names(&a.version, &b.version));
        Self {
            project: project.to_string(),
            from: window.from,
            to: window.to,
            created_by_type: per_type(&tallies.created_by_type),
            open_by_type: per_type(&tallies.open_by_type),
            open_bugs_by_severity,
            weekly,
            mean_time_to_resolve_hours_by_severity: resolved
                .iter()
                .map(|(k, (count, total))| (k.clone(), mean_hours(*total, *count)))
                .collect(),
            resolved_bugs_by_severity: resolved
                .iter()
                .map(|(k, (count, _))| (k.clone(), *count))
                .collect(),
            reopen_rate: rate(tallies.reopened_defects, tallies.ever_resolved_defects),
            reopened_bugs: tallies.reopened_defects,
            ever_resolved_bugs: tallies.ever_resolved_defects,
            regressions,
        }
    }
}

/// One line about an issue, as the stakeholder overview lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueHeadline {
    /// `WEB-12`.
    pub id: String,
    pub title: String,
    pub issue_type: IssueType,
    pub status: Status,
    pub resolution: Option<Resolution>,
    pub severity: Option<Severity>,
    pub priority: Priority,
    pub fixed_in_version: Option<String>,
    pub created_at: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
}

/// How many issues each list of the overview shows at most.
pub const OVERVIEW_LIMIT: i64 = 100;

/// How many days back "fixed recently" looks.
pub const RECENTLY_FIXED_DAYS: i64 = 14;

/// What a stakeholder wants to know about a project at a glance.
#[derive(Debug, Clone, Default)]
pub struct ProjectOverview {
    /// Open critical and major defects, worst first (at most `OVERVIEW_LIMIT`).
    pub broken: Vec<IssueHeadline>,
    /// How many open critical and major defects there are in all.
    pub open_critical: i64,
    pub open_major: i64,
    /// Issues resolved as fixed or done in the last `RECENTLY_FIXED_DAYS` days, newest first.
    pub recently_fixed: Vec<IssueHeadline>,
    /// The next release, when one is planned.
    pub next_release: Option<String>,
    /// Open issues planned for it.
    pub planned: Vec<IssueHeadline>,
}

/// The next release: the lowest version open issues are planned for (`fixed_in_version`)
/// that is above every version resolved issues were already fixed in. A version that fixed
/// issues has shipped (or is shipping), so work still planned for it or older ones is late,
/// not "next"; this needs no release dates, which Moth does not keep.
pub fn next_release(shipped: &[String], planned: &[String]) -> Option<String> {
    let newest_shipped = shipped
        .iter()
        .filter_map(|v| Version::parse("version", v).ok())
        .max();
    planned
        .iter()
        .filter_map(|text| Version::parse("version", text).ok().map(|v| (v, text)))
        .filter(|(v, _)| newest_shipped.as_ref().is_none_or(|shipped| v > shipped))
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, text)| text.clone())
}

/// The versions not released yet, oldest first: those of `candidates` (declared versions and
/// versions open issues are planned for) above every version resolved issues were already
/// fixed in, by the same rule as [`next_release`]. Names that are no version are left out.
pub fn unreleased_versions(shipped: &[String], candidates: &[String]) -> Vec<String> {
    let newest_shipped = shipped
        .iter()
        .filter_map(|v| Version::parse("version", v).ok())
        .max();
    let mut versions: Vec<(Version, &String)> = candidates
        .iter()
        .filter_map(|text| Version::parse("version", text).ok().map(|v| (v, text)))
        .filter(|(v, _)| newest_shipped.as_ref().is_none_or(|shipped| v > shipped))
        .collect();
    versions.sort_by(|a, b| a.0.cmp(&b.0));
    let mut names: Vec<String> = Vec::new();
    for (_, text) in versions {
        if !names.contains(text) {
            names.push(text.clone());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn unreleased_versions_are_those_above_the_newest_shipped_in_version_order() {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let shipped = strings(&["2.3.0", "2.9.1"]);
        let candidates = strings(&[
            "2.10.0",
            "2.3.0",
            "3.0.0-beta.1",
            "2.9.2",
            "not a version",
            "2.10.0",
            "2.9.1",
        ]);
        assert_eq!(
            unreleased_versions(&shipped, &candidates),
            strings(&["2.9.2", "2.10.0", "3.0.0-beta.1"])
        );
        assert_eq!(
            unreleased_versions(&[], &strings(&["1.1", "1.0"])),
            strings(&["1.0", "1.1"]),
            "nothing shipped: every version is still to come"
        );
    }

    const NOW: OffsetDateTime = datetime!(2026-11-25 15:00 UTC); // a Wednesday

    #[test]
    fn the_default_window_is_twelve_iso_weeks_ending_now() {
        let window = MetricsWindow::parse(None, None, NOW).unwrap();
        assert_eq!(window.to, NOW);
        assert_eq!(window.from, datetime!(2026-09-07 0:00 UTC));
        assert_eq!(window.from.weekday(), Weekday::Monday);
        let weeks = window.weeks();
        assert_eq!(weeks.len(), 12);
        assert_eq!(weeks[0].week, "2026-W37");
        assert_eq!(weeks[11].week, "2026-W48");
        assert_eq!(weeks[11].starts_on, "2026-11-23");
    }

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let window = MetricsWindow::parse(Some("2026-01-01"), Some("2026-01-31"), NOW).unwrap();
        assert_eq!(window.from, datetime!(2026-01-01 0:00 UTC));
        assert_eq!(window.to, datetime!(2026-02-01 0:00 UTC));
        // 2026-01-01 is a Thursday of ISO week 2026-W01, which began on 2025-12-29.
        assert_eq!(window.first_week_start(), datetime!(2025-12-29 0:00 UTC));
        assert_eq!(window.weeks()[0].week, "2026-W01");
        assert_eq!(window.weeks().len(), 5);
        let exact = MetricsWindow::parse(
            Some("2026-01-01T12:00:00+02:00"),
            Some("2026-01-02T00:00:00Z"),
            NOW,
        )
        .unwrap();
        assert_eq!(exact.from, datetime!(2026-01-01 10:00 UTC));
    }

    #[test]
    fn bad_or_reversed_bounds_name_the_field() {
        let err = MetricsWindow::parse(Some("yesterday"), None, NOW).unwrap_err();
        assert_eq!(err.field, Some("from"));
        let err = MetricsWindow::parse(None, Some("2026-13-01"), NOW).unwrap_err();
        assert_eq!(err.field, Some("to"));
        let err = MetricsWindow::parse(Some("2026-02-01"), Some("2026-01-01"), NOW).unwrap_err();
        assert_eq!(err.field, Some("from"));
        let err = MetricsWindow::parse(Some("1900-01-01"), None, NOW).unwrap_err();
        assert_eq!(err.field, Some("from"));
    }

    #[test]
    fn tallies_become_complete_figures() {
        let window = MetricsWindow::parse(Some("2026-11-02"), Some("2026-11-22"), NOW).unwrap();
        let tallies = MetricsTallies {
            created_by_type: vec![(IssueType::Bug, 3), (IssueType::Feature, 1)],
            open_defects_by_severity: vec![(Some(Severity::Major), 2), (None, 1)],
            weekly_created: vec![
                WeekTally {
                    week_index: 0,
                    defect: true,
                    count: 2,
                },
                WeekTally {
                    week_index: 2,
                    defect: false,
                    count: 1,
                },
                WeekTally {
                    week_index: 9,
                    defect: false,
                    count: 1,
                },
            ],
            weekly_resolved: vec![WeekTally {
                week_index: 1,
                defect: true,
                count: 1,
            }],
            resolve_times: vec![ResolveTally {
                severity: Some(Severity::Critical),
                count: 2,
                total_seconds: 3 * 3600,
            }],
            ever_resolved_defects: 4,
            reopened_defects: 1,
            regressions: vec![
                (None, 1),
                (Some("2.10.0".into()), 2),
                (Some("2.9.1".into()), 1),
            ],
            ..Default::default()
        };
        let m = ProjectMetrics::from_tallies("WEB", &window, tallies);
        assert_eq!(m.created_by_type.len(), 8);
        assert_eq!(m.created_by_type[&IssueType::Bug], 3);
        assert_eq!(m.open_by_type[&IssueType::Task], 0);
        assert_eq!(m.open_bugs_by_severity["major"], 2);
        assert_eq!(m.open_bugs_by_severity["unset"], 1);
        assert_eq!(m.open_bugs_by_severity["critical"], 0);
        assert_eq!(m.weekly.len(), 3);
        assert_eq!(m.weekly[0].created_bugs, 2);
        assert_eq!(m.weekly[1].resolved_bugs, 1);
        assert_eq!(m.weekly[2].created_other, 1);
        assert_eq!(
            m.mean_time_to_resolve_hours_by_severity["critical"],
            Some(1.5)
        );
        assert_eq!(m.mean_time_to_resolve_hours_by_severity["minor"], None);
        assert_eq!(m.reopen_rate, Some(0.25));
        let versions: Vec<_> = m.regressions.iter().map(|r| r.version.as_deref()).collect();
        assert_eq!(versions, vec![Some("2.9.1"), Some("2.10.0"), None]);
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["created_by_type"]["performance"], 0);
        assert_eq!(json["weekly"][0]["week"], "2026-W45");
    }

    #[test]
    fn the_next_release_is_the_lowest_planned_above_what_shipped() {
        let s = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        assert_eq!(
            next_release(
                &s(&["2.9.0", "2.10.0"]),
                &s(&["2.10.0", "3.0", "2.11.0", "x"])
            ),
            Some("2.11.0".into())
        );
        assert_eq!(
            next_release(&s(&[]), &s(&["1.1", "1.0"])),
            Some("1.0".into())
        );
        assert_eq!(next_release(&s(&["2.0"]), &s(&["1.0"])), None);
    }

    #[test]
    fn means_and_rates_round_and_refuse_empty_sets() {
        assert_eq!(mean_hours(0, 0), None);
        assert_eq!(mean_hours(5400, 1), Some(1.5));
        assert_eq!(rate(1, 3), Some(0.3333));
        assert_eq!(rate(0, 0), None);
        assert!(is_defect(IssueType::Performance) && !is_defect(IssueType::Feature));
    }
}
