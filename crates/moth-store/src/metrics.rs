//! The queries behind a project's quality figures and the stakeholder overview, written once
//! for both databases. Each figure is one aggregate over the issues table (not the event log):
//! the issues table already holds `created_at`, `resolved_at`, `reopen_count` and `regression`,
//! and `0003_metrics.sql` indexes it for these windows.

use moth_core::metrics::DEFECT_TYPES;
use moth_core::{IssueType, Status};

/// `('bug', 'performance')`: the defect types as an SQL list (see `moth_core::metrics`).
pub(crate) fn defect_list() -> String {
    sql_list(DEFECT_TYPES.iter().map(|t| t.as_str()))
}

/// The open statuses as an SQL list.
pub(crate) fn open_list() -> String {
    sql_list(Status::OPEN.iter().map(|s| s.as_str()))
}

/// Quotes vocabulary words (never user text) into `('a', 'b')`.
fn sql_list<'a>(words: impl Iterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = words
        .inspect(|w| debug_assert!(w.chars().all(|c| c.is_ascii_lowercase() || c == '_')))
        .map(|w| format!("'{w}'"))
        .collect();
    format!("({})", quoted.join(", "))
}

/// Parses a stored issue type.
pub(crate) fn issue_type(text: &str) -> crate::StoreResult<IssueType> {
    IssueType::parse(text).map_err(crate::error::corrupt)
}

/// 1970-01-05 00:00 UTC, a Monday, in unix microseconds: the origin of the tallies' weeks.
const FIRST_MONDAY_MICROS: i64 = 4 * 24 * 3600 * 1_000_000;

/// The start (Monday 00:00 UTC) of the week holding `micros`, as the tally triggers compute it.
fn week_floor(micros: i64) -> i64 {
    micros - (micros - FIRST_MONDAY_MICROS).rem_euclid(moth_core::metrics::WEEK_MICROS)
}

/// How a metrics window is read: the weeks it touches from the running tallies, corrected by
/// scanning the issues of the week parts outside it. A window ending now takes away the few
/// issues after `to` in its last week (none, or those filed since the request began) rather than
/// scanning the week up to `to`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct WindowSplit {
    /// Week starts `[from, to)` read from the tallies.
    pub whole_weeks: Option<(i64, i64)>,
    /// Spans `[from, to)` whose issues are added, scanned.
    pub added: Option<(i64, i64)>,
    /// Spans `[from, to)` whose issues are taken away, scanned.
    pub taken_away: Option<(i64, i64)>,
}

impl WindowSplit {
    pub(crate) fn new(from: i64, to: i64) -> Self {
        let week = moth_core::metrics::WEEK_MICROS;
        let ceil = |t: i64| {
            if week_floor(t) == t {
                t
            } else {
                week_floor(t) + week
            }
        };
        let (start, end) = (ceil(from), ceil(to));
        if start >= end {
            // Inside one week that the window does not start on: scan just the window.
            let added = (from < to).then_some((from, to));
            return Self {
                whole_weeks: None,
                added,
                taken_away: None,
            };
        }
        Self {
            whole_weeks: Some((start, end)),
            added: (from < start).then_some((from, start)),
            taken_away: (to < end).then_some((to, end)),
        }
    }
}

/// Implements the metrics and overview queries for one store type, inside a module of its own.
macro_rules! metrics_store {
    ($store:ident, $row:ty) => {
        mod metrics_queries {
            use super::$store;
            use $crate::error::{StoreError, StoreResult, corrupt};
            use $crate::metrics::{WindowSplit, defect_list, issue_type, open_list};
            use $crate::time::{from_micros, to_micros};
            use moth_core::metrics::{
                IssueHeadline, MetricsTallies, MetricsWindow, OVERVIEW_LIMIT, ProjectMetrics, ProjectOverview,
                RECENTLY_FIXED_DAYS, ResolveTally, WEEK_MICROS, WeekTally, is_defect, next_release,
            };
            use moth_core::{Priority, Resolution, Severity, Status};
            use sqlx::Row;
            use time::OffsetDateTime;

            const HEADLINE_COLUMNS: &str = "number, title, type, status, resolution, severity, \
                 priority, fixed_in_version, created_at, resolved_at";

            impl $store {
                async fn metrics_project_id(&self, project_key: &str) -> StoreResult<i64> {
                    sqlx::query_scalar("select id from projects where key = $1")
                        .bind(project_key)
                        .fetch_optional(self.reader())
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("project {project_key}")))
                }

                /// A project's quality figures over a window: the weeks it touches from the
                /// running tallies (`0014_issue_tallies.sql`), corrected by scanning the issues of
                /// the week parts outside the window (see `WindowSplit`).
                pub async fn project_metrics(
                    &self,
                    project_key: &str,
                    window: &MetricsWindow,
                ) -> StoreResult<ProjectMetrics> {
                    let project = self.metrics_project_id(project_key).await?;
                    let first_week = to_micros(window.first_week_start());
                    let split = WindowSplit::new(to_micros(window.from), to_micros(window.to));
                    let mut tallies = MetricsTallies::default();
                    self.tally_open(project, &mut tallies).await?;
                    if let Some((from, to)) = split.whole_weeks {
                        self.tally_whole_weeks(project, from, to, first_week, &mut tallies).await?;
                    }
                    if let Some((from, to)) = split.added {
                        self.tally_by_scan(project, from, to, first_week, 1, &mut tallies).await?;
                    }
                    if let Some((from, to)) = split.taken_away {
                        self.tally_by_scan(project, from, to, first_week, -1, &mut tallies).await?;
                    }
                    let rows = sqlx::query(
                        "select affects_version, count(*) as n from issues \
                         where project_id = $1 and regression = true group by affects_version",
                    )
                    .bind(project)
                    .fetch_all(self.reader())
                    .await?;
                    tallies.regressions =
                        rows.into_iter().map(|row| (row.get("affects_version"), row.get("n"))).collect();
                    Ok(ProjectMetrics::from_tallies(project_key, window, tallies))
                }

                /// Open issues by type, and open defects by severity, as they are now.
                async fn tally_open(&self, project: i64, tallies: &mut MetricsTallies) -> StoreResult<()> {
                    let rows = sqlx::query(
                        "select type, nullif(severity, '') as severity, issue_count as n from issue_tallies \
                         where project_id = $1 and basis = 'open' and week_start = 0 and issue_count <> 0",
                    )
                    .bind(project)
                    .fetch_all(self.reader())
                    .await?;
                    for row in rows {
                        let (t, n) = (issue_type(row.get("type"))?, row.get("n"));
                        tallies.open_by_type.push((t, n));
                        if is_defect(t) {
                            tallies.open_defects_by_severity.push((severity(row.get("severity"))?, n));
                        }
                    }
                    Ok(())
                }

                /// The window's whole weeks, `from` and `to` being week starts, from the tallies.
                async fn tally_whole_weeks(
                    &self,
                    project: i64,
                    from: i64,
                    to: i64,
                    first_week: i64,
                    tallies: &mut MetricsTallies,
                ) -> StoreResult<()> {
                    let defects = defect_list();
                    let pool = self.reader();
                    for (basis, into_created) in [("created", true), ("resolved", false)] {
                        let rows = sqlx::query(&format!(
                            "select (week_start - $4) / {WEEK_MICROS} as week_index, type, \
                             cast(sum(issue_count) as bigint) as n from issue_tallies \
                             where project_id = $1 and basis = '{basis}' and week_start >= $2 \
                             and week_start < $3 group by 1, 2"
                        ))
                        .bind(project)
                        .bind(from)
                        .bind(to)
                        .bind(first_week)
                        .fetch_all(pool)
                        .await?;
                        for row in rows {
                            push_week(tallies, into_created, row.get("week_index"), issue_type(row.get("type"))?, row.get("n"));
                        }
                    }
                    let rows = sqlx::query(&format!(
                        "select nullif(severity, '') as severity, cast(sum(fixed) as bigint) as n, \
                         cast(sum(fixed_seconds) as bigint) as seconds from issue_tallies \
                         where project_id = $1 and basis = 'resolved' and type in {defects} \
                         and week_start >= $2 and week_start < $3 group by severity having sum(fixed) <> 0"
                    ))
                    .bind(project)
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await?;
                    add_resolve_times(tallies, &rows, 1)?;
                    let row = sqlx::query(&format!(
                        "select cast(coalesce(sum(settled), 0) as bigint) as resolved, \
                         cast(coalesce(sum(reopened), 0) as bigint) as reopened from issue_tallies \
                         where project_id = $1 and basis = 'created' and type in {defects} \
                         and week_start >= $2 and week_start < $3"
                    ))
                    .bind(project)
                    .bind(from)
                    .bind(to)
                    .fetch_one(pool)
                    .await?;
                    add_reopens(tallies, &row, 1);
                    Ok(())
                }

                /// Part of a week, from the issues filed or resolved in it (an index range scan),
                /// each counted `sign` times: 1 to add them, -1 to take them away.
                async fn tally_by_scan(
                    &self,
                    project: i64,
                    from: i64,
                    to: i64,
                    first_week: i64,
                    sign: i64,
                    tallies: &mut MetricsTallies,
                ) -> StoreResult<()> {
                    let defects = defect_list();
                    let pool = self.reader();
                    // Buckets count whole weeks from the window's first Monday; `from` is never
                    // before it, so the division never sees a negative.
                    for (column, into_created) in [("created_at", true), ("resolved_at", false)] {
                        let rows = sqlx::query(&format!(
                            "select ({column} - $4) / {WEEK_MICROS} as week_index, type, count(*) as n \
                             from issues where project_id = $1 and {column} >= $2 and {column} < $3 \
                             group by 1, 2"
                        ))
                        .bind(project)
                        .bind(from)
                        .bind(to)
                        .bind(first_week)
                        .fetch_all(pool)
                        .await?;
                        for row in rows {
                            push_week(tallies, into_created, row.get("week_index"), issue_type(row.get("type"))?, sign * row.get::<i64, _>("n"));
                        }
                    }
                    let rows = sqlx::query(&format!(
                        "select severity, count(*) as n, \
                         cast(coalesce(sum((resolved_at - created_at) / 1000000), 0) as bigint) as seconds \
                         from issues where project_id = $1 and type in {defects} and resolution = 'fixed' \
                         and resolved_at >= $2 and resolved_at < $3 group by severity"
                    ))
                    .bind(project)
                    .bind(from)
                    .bind(to)
                    .fetch_all(pool)
                    .await?;
                    add_resolve_times(tallies, &rows, sign)?;
                    // A reopened issue no longer carries its old resolution, but its
                    // reopen_count says it was resolved once.
                    let row = sqlx::query(&format!(
                        "select count(*) as resolved, \
                         cast(coalesce(sum(case when reopen_count > 0 then 1 else 0 end), 0) as bigint) as reopened \
                         from issues where project_id = $1 and type in {defects} \
                         and created_at >= $2 and created_at < $3 \
                         and (status in ('resolved', 'closed') or reopen_count > 0)"
                    ))
                    .bind(project)
                    .bind(from)
                    .bind(to)
                    .fetch_one(pool)
                    .await?;
                    add_reopens(tallies, &row, sign);
                    Ok(())
                }

                /// What a stakeholder needs at a glance: open critical and major defects,
                /// what was fixed lately, and what the next release brings.
                pub async fn project_overview(
                    &self,
                    project_key: &str,
                    now: OffsetDateTime,
                ) -> StoreResult<ProjectOverview> {
                    let project = self.metrics_project_id(project_key).await?;
                    let defects = defect_list();
                    let open = open_list();
                    let pool = self.reader();
                    let serious = format!(
                        "('{}', '{}')",
                        Severity::Critical.as_str(),
                        Severity::Major.as_str()
                    );
                    let broken = sqlx::query(&format!(
                        "select {HEADLINE_COLUMNS} from issues where project_id = $1 and type in {defects} \
                         and status in {open} and severity in {serious} \
                         order by severity_rank, priority_rank, id limit {OVERVIEW_LIMIT}"
                    ))
                    .bind(project)
                    .fetch_all(pool)
                    .await?;
                    let counts = sqlx::query(&format!(
                        "select severity, count(*) as n from issues where project_id = $1 \
                         and type in {defects} and status in {open} and severity in {serious} group by severity"
                    ))
                    .bind(project)
                    .fetch_all(pool)
                    .await?;
                    let (mut open_critical, mut open_major) = (0, 0);
                    for row in counts {
                        match severity(row.get("severity"))? {
                            Some(Severity::Critical) => open_critical = row.get("n"),
                            Some(Severity::Major) => open_major = row.get("n"),
                            _ => {}
                        }
                    }
                    let since = to_micros(now - time::Duration::days(RECENTLY_FIXED_DAYS));
                    let fixed = sqlx::query(&format!(
                        "select {HEADLINE_COLUMNS} from issues where project_id = $1 \
                         and status in ('resolved', 'closed') and resolution in ('fixed', 'done') \
                         and resolved_at >= $2 order by resolved_at desc, id desc limit {OVERVIEW_LIMIT}"
                    ))
                    .bind(project)
                    .bind(since)
                    .fetch_all(pool)
                    .await?;
                    let shipped: Vec<String> = sqlx::query_scalar(
                        "select distinct fixed_in_version from issues where project_id = $1 \
                         and status in ('resolved', 'closed') and resolution in ('fixed', 'done') \
                         and fixed_in_version is not null",
                    )
                    .bind(project)
                    .fetch_all(pool)
                    .await?;
                    let planned_versions: Vec<String> = sqlx::query_scalar(&format!(
                        "select distinct fixed_in_version from issues where project_id = $1 \
                         and status in {open} and fixed_in_version is not null"
                    ))
                    .bind(project)
                    .fetch_all(pool)
                    .await?;
                    let next = next_release(&shipped, &planned_versions);
                    let planned = match &next {
                        Some(version) => sqlx::query(&format!(
                            "select {HEADLINE_COLUMNS} from issues where project_id = $1 \
                             and status in {open} and fixed_in_version = $2 \
                             order by severity_rank, priority_rank, id limit {OVERVIEW_LIMIT}"
                        ))
                        .bind(project)
                        .bind(version)
                        .fetch_all(pool)
                        .await?,
                        None => Vec::new(),
                    };
                    let headlines = |rows: Vec<$row>| -> StoreResult<Vec<IssueHeadline>> {
                        rows.iter().map(|row| headline(project_key, row)).collect()
                    };
                    Ok(ProjectOverview {
                        broken: headlines(broken)?,
                        open_critical,
                        open_major,
                        recently_fixed: headlines(fixed)?,
                        next_release: next,
                        planned: headlines(planned)?,
                    })
                }
            }

            /// One week's count of one type, filed (`created`) or resolved.
            fn push_week(tallies: &mut MetricsTallies, created: bool, week_index: i64, t: moth_core::IssueType, count: i64) {
                let tally = WeekTally { week_index, defect: is_defect(t), count };
                if created {
                    tallies.created_by_type.push((t, count));
                    tallies.weekly_created.push(tally);
                } else {
                    tallies.weekly_resolved.push(tally);
                }
            }

            /// Fixed defects per severity (`severity`, `n`, `seconds`), counted `sign` times.
            fn add_resolve_times(tallies: &mut MetricsTallies, rows: &[$row], sign: i64) -> StoreResult<()> {
                for row in rows {
                    tallies.resolve_times.push(ResolveTally {
                        severity: severity(row.get("severity"))?,
                        count: sign * row.get::<i64, _>("n"),
                        total_seconds: sign * row.get::<i64, _>("seconds"),
                    });
                }
                Ok(())
            }

            /// Defects ever resolved and reopened (`resolved`, `reopened`), counted `sign` times.
            fn add_reopens(tallies: &mut MetricsTallies, row: &$row, sign: i64) {
                tallies.ever_resolved_defects += sign * row.get::<i64, _>("resolved");
                tallies.reopened_defects += sign * row.get::<i64, _>("reopened");
            }

            fn severity(text: Option<String>) -> StoreResult<Option<Severity>> {
                text.as_deref().map(Severity::parse).transpose().map_err(corrupt)
            }

            fn headline(project_key: &str, row: &$row) -> StoreResult<IssueHeadline> {
                let number: i64 = row.try_get("number")?;
                let resolution: Option<String> = row.try_get("resolution")?;
                let resolved_at: Option<i64> = row.try_get("resolved_at")?;
                Ok(IssueHeadline {
                    id: format!("{project_key}-{number}"),
                    title: row.try_get("title")?,
                    issue_type: issue_type(&row.try_get::<String, _>("type")?)?,
                    status: Status::parse(&row.try_get::<String, _>("status")?).map_err(corrupt)?,
                    resolution: resolution.as_deref().map(Resolution::parse).transpose().map_err(corrupt)?,
                    severity: severity(row.try_get("severity")?)?,
                    priority: Priority::parse(&row.try_get::<String, _>("priority")?).map_err(corrupt)?,
                    fixed_in_version: row.try_get("fixed_in_version")?,
                    created_at: from_micros(row.try_get("created_at")?)?,
                    resolved_at: resolved_at.map(from_micros).transpose()?,
                })
            }
        }
    };
}

pub(crate) use metrics_store;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::to_micros;
    use time::macros::datetime;

    const DAY: i64 = 24 * 3600 * 1_000_000;

    #[test]
    fn weeks_start_on_monday_as_the_domain_says() {
        for t in [
            datetime!(2026-11-23 00:00 UTC),
            datetime!(2026-11-25 13:37 UTC),
            datetime!(2026-11-29 23:59:59 UTC),
            datetime!(2024-02-29 12:00 UTC),
        ] {
            let domain = to_micros(moth_core::metrics::week_start(t));
            assert_eq!(week_floor(to_micros(t)), domain, "{t}");
        }
    }

    #[test]
    fn the_weeks_touched_come_from_the_tallies_and_the_parts_outside_from_a_scan() {
        let monday = to_micros(datetime!(2026-11-02 00:00 UTC));
        // Monday to Monday: three whole weeks, nothing scanned.
        let split = WindowSplit::new(monday, monday + 21 * DAY);
        assert_eq!(split.whole_weeks, Some((monday, monday + 21 * DAY)));
        assert_eq!((split.added, split.taken_away), (None, None));
        // Wednesday to the Thursday two weeks on: the days before are added by a scan, the
        // rest of the last week is taken away by one.
        let split = WindowSplit::new(monday + 2 * DAY, monday + 17 * DAY);
        assert_eq!(
            split.whole_weeks,
            Some((monday + 7 * DAY, monday + 21 * DAY))
        );
        assert_eq!(split.added, Some((monday + 2 * DAY, monday + 7 * DAY)));
        assert_eq!(
            split.taken_away,
            Some((monday + 17 * DAY, monday + 21 * DAY))
        );
        // Within one week, not from its start: only the window is scanned.
        let split = WindowSplit::new(monday + DAY, monday + 3 * DAY);
        assert_eq!(split.whole_weeks, None);
        assert_eq!(split.added, Some((monday + DAY, monday + 3 * DAY)));
        // From a Monday to now: that week from the tallies, less what came after `to`.
        let now = monday + 15 * DAY + 3;
        let split = WindowSplit::new(monday, now);
        assert_eq!(split.whole_weeks, Some((monday, monday + 21 * DAY)));
        assert_eq!(
            (split.added, split.taken_away),
            (None, Some((now, monday + 21 * DAY)))
        );
    }
}
