//! The metrics page: a project's quality figures as SVG charts drawn here, each with its
//! numbers as a table and a CSV download. Bugs (defects) and other work are never mixed.

use super::charts::{
    Bar, Cell, ChartTable, DEFECT_COLOUR, OTHER_COLOUR, Series, bar_chart, count, line_chart,
};
use super::{MessagePage, PageResult, render};
use crate::extract::QueryMap;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use moth_core::metrics::{MetricsWindow, ProjectMetrics, severity_keys};
use moth_core::{IssueType, Project};
use time::OffsetDateTime;

/// One chart of the page: what it shows, drawn, and its numbers.
pub struct Chart {
    /// Its name in URLs: `/projects/{key}/metrics/{slug}.csv`.
    pub slug: &'static str,
    pub title: String,
    /// The chart in one sentence, for everyone (and read out first by screen readers).
    pub summary: String,
    /// Finished SVG; every text inside was escaped when it was drawn.
    pub svg: String,
    pub table: ChartTable,
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn type_label(t: IssueType) -> &'static str {
    match t {
        IssueType::Bug => "Bug",
        IssueType::Feature => "Feature",
        IssueType::Improvement => "UX improvement",
        IssueType::Task => "Task",
        IssueType::Question => "Question",
        IssueType::Docs => "Documentation",
        IssueType::Performance => "Performance",
        IssueType::Support => "Support ticket",
    }
}

fn severity_label(key: &str) -> String {
    match key {
        "unset" => "No severity yet".into(),
        other => {
            let mut chars = other.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        }
    }
}

/// Every chart of the page, from one set of figures.
pub fn charts(project: &Project, m: &ProjectMetrics) -> Vec<Chart> {
    let name = &project.name;
    let mut charts = Vec::new();

    let open_total: i64 = m.open_by_type.values().sum();
    let bars: Vec<Bar> = m
        .open_by_type
        .iter()
        .map(|(t, n)| Bar {
            label: type_label(*t).into(),
            value: *n as f64,
            shown: n.to_string(),
            colour: if moth_core::metrics::is_defect(*t) {
                DEFECT_COLOUR
            } else {
                OTHER_COLOUR
            },
        })
        .collect();
    let title = format!("Open issues by type in {name}");
    let summary = format!(
        "{} open now: {} and {} of other work.",
        plural(open_total, "issue is", "issues are"),
        plural(
            m.open_by_type[&IssueType::Bug] + m.open_by_type[&IssueType::Performance],
            "defect",
            "defects"
        ),
        open_total - m.open_by_type[&IssueType::Bug] - m.open_by_type[&IssueType::Performance],
    );
    charts.push(Chart {
        slug: "open-by-type",
        svg: bar_chart("open-by-type", &title, &summary, &bars),
        table: ChartTable {
            headers: vec!["type".into(), "open".into()],
            rows: m
                .open_by_type
                .iter()
                .map(|(t, n)| vec![Cell::Text(t.as_str().into()), count(*n)])
                .collect(),
        },
        title,
        summary,
    });

    let bars: Vec<Bar> = severity_keys()
        .map(|k| Bar {
            label: severity_label(k),
            value: m.open_bugs_by_severity[k] as f64,
            shown: m.open_bugs_by_severity[k].to_string(),
            colour: DEFECT_COLOUR,
        })
        .collect();
    let open_bugs: i64 = m.open_bugs_by_severity.values().sum();
    let title = format!("Open bugs by severity in {name}");
    let summary = format!(
        "{} open: {} critical, {} major.",
        plural(open_bugs, "bug is", "bugs are"),
        m.open_bugs_by_severity["critical"],
        m.open_bugs_by_severity["major"]
    );
    charts.push(Chart {
        slug: "open-bugs-by-severity",
        svg: bar_chart("open-bugs-by-severity", &title, &summary, &bars),
        table: ChartTable {
            headers: vec!["severity".into(), "open_bugs".into()],
            rows: severity_keys()
                .map(|k| vec![Cell::Text(k.into()), count(m.open_bugs_by_severity[k])])
                .collect(),
        },
        title,
        summary,
    });

    let weeks: Vec<String> = m.weekly.iter().map(|w| w.week[5..].to_string()).collect();
    let column =
        |f: fn(&moth_core::metrics::WeekFigures) -> i64| m.weekly.iter().map(f).collect::<Vec<_>>();
    let series = [
        Series {
            name: "Bugs created".into(),
            colour: DEFECT_COLOUR,
            dash: None,
            values: column(|w| w.created_bugs),
        },
        Series {
            name: "Bugs resolved".into(),
            colour: DEFECT_COLOUR,
            dash: Some("7 4"),
            values: column(|w| w.resolved_bugs),
        },
        Series {
            name: "Other created".into(),
            colour: OTHER_COLOUR,
            dash: None,
            values: column(|w| w.created_other),
        },
        Series {
            name: "Other resolved".into(),
            colour: OTHER_COLOUR,
            dash: Some("2 3"),
            values: column(|w| w.resolved_other),
        },
    ];
    let sum = |s: &Series| s.values.iter().sum::<i64>();
    let title = format!("Created and resolved per week in {name}");
    let summary = format!(
        "Over {}: {} created and {} resolved; other work: {} created and {} resolved.",
        plural(m.weekly.len() as i64, "week", "weeks"),
        plural(sum(&series[0]), "bug", "bugs"),
        sum(&series[1]),
        sum(&series[2]),
        sum(&series[3]),
    );
    charts.push(Chart {
        slug: "weekly",
        svg: line_chart("weekly", &title, &summary, &weeks, &series),
        table: ChartTable {
            headers: [
                "week",
                "starts_on",
                "created_bugs",
                "resolved_bugs",
                "created_other",
                "resolved_other",
            ]
            .map(String::from)
            .to_vec(),
            rows: m
                .weekly
                .iter()
                .map(|w| {
                    vec![
                        Cell::Text(w.week.clone()),
                        Cell::Text(w.starts_on.clone()),
                        count(w.created_bugs),
                        count(w.resolved_bugs),
                        count(w.created_other),
                        count(w.resolved_other),
                    ]
                })
                .collect(),
        },
        title,
        summary,
    });

    let hours = |k: &str| m.mean_time_to_resolve_hours_by_severity[k];
    let bars: Vec<Bar> = severity_keys()
        .map(|k| Bar {
            label: severity_label(k),
            value: hours(k).unwrap_or(0.0),
            shown: hours(k).map_or("no fixes".into(), |h| format!("{h:.1} h")),
            colour: DEFECT_COLOUR,
        })
        .collect();
    let title = format!("Mean time to fix a bug, by severity, in {name}");
    let summary = match hours("critical") {
        Some(h) => format!("Critical bugs took {h:.1} hours from report to fix on average."),
        None if m.resolved_bugs_by_severity.values().sum::<i64>() == 0 => {
            "No bug was fixed in this period.".into()
        }
        None => "No critical bug was fixed in this period.".into(),
    };
    charts.push(Chart {
        slug: "time-to-resolve",
        svg: bar_chart("time-to-resolve", &title, &summary, &bars),
        table: ChartTable {
            headers: vec!["severity".into(), "mean_hours".into(), "fixed_bugs".into()],
            rows: severity_keys()
                .map(|k| {
                    vec![
                        Cell::Text(k.into()),
                        Cell::Number(hours(k).map_or(String::new(), |h| format!("{h:.1}"))),
                        count(m.resolved_bugs_by_severity[k]),
                    ]
                })
                .collect(),
        },
        title,
        summary,
    });

    let title = format!("Reopened bugs in {name}");
    let summary = match m.reopen_rate {
        Some(rate) => format!(
            "{:.0}% of the bugs filed in this period and resolved were reopened ({} of {}).",
            rate * 100.0,
            m.reopened_bugs,
            m.ever_resolved_bugs
        ),
        None => "No bug filed in this period has been resolved yet.".into(),
    };
    let bars = [
        Bar {
            label: "Resolved".into(),
            value: m.ever_resolved_bugs as f64,
            shown: m.ever_resolved_bugs.to_string(),
            colour: OTHER_COLOUR,
        },
        Bar {
            label: "Reopened".into(),
            value: m.reopened_bugs as f64,
            shown: m.reopened_bugs.to_string(),
            colour: DEFECT_COLOUR,
        },
    ];
    charts.push(Chart {
        slug: "reopen-rate",
        svg: bar_chart("reopen-rate", &title, &summary, &bars),
        table: ChartTable {
            headers: vec![
                "resolved_bugs".into(),
                "reopened_bugs".into(),
                "reopen_rate".into(),
            ],
            rows: vec![vec![
                count(m.ever_resolved_bugs),
                count(m.reopened_bugs),
                Cell::Number(m.reopen_rate.map_or(String::new(), |r| format!("{r:.4}"))),
            ]],
        },
        title,
        summary,
    });

    let release = |v: &Option<String>| v.clone().unwrap_or_else(|| "no version given".into());
    let bars: Vec<Bar> = m
        .regressions
        .iter()
        .map(|r| Bar {
            label: release(&r.version),
            value: r.count as f64,
            shown: r.count.to_string(),
            colour: DEFECT_COLOUR,
        })
        .collect();
    let total: i64 = m.regressions.iter().map(|r| r.count).sum();
    let title = format!("Regressions per release in {name}");
    let summary = if total == 0 {
        "No regression has been recorded: no fixed bug came back.".into()
    } else {
        format!(
            "{} came back after being fixed, across {}.",
            plural(total, "bug", "bugs"),
            plural(m.regressions.len() as i64, "release", "releases")
        )
    };
    charts.push(Chart {
        slug: "regressions",
        svg: bar_chart("regressions", &title, &summary, &bars),
        table: ChartTable {
            headers: vec!["affects_version".into(), "regressions".into()],
            rows: m
                .regressions
                .iter()
                .map(|r| {
                    vec![
                        Cell::Text(r.version.clone().unwrap_or_default()),
                        count(r.count),
                    ]
                })
                .collect(),
        },
        title,
        summary,
    });
    charts
}

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    nav: super::Nav,
    project: Project,
    /// The window as typed (or the default), for the form.
    from: String,
    to: String,
    /// The query string that CSV links repeat, so a download matches what is shown.
    window_query: String,
    error_field: Option<&'static str>,
    error: Option<String>,
    charts: Vec<Chart>,
}

/// The date a window bound shows as in the form (`to` is exclusive, so its day is the one before).
fn form_dates(window: &MetricsWindow) -> (String, String) {
    let last = window.to - time::Duration::microseconds(1);
    (window.from.date().to_string(), last.date().to_string())
}

/// `GET /projects/{key}/metrics`: the charts. A bad date is shown next to its field and the
/// default window is drawn meanwhile.
pub async fn page(
    State(state): State<AppState>,
    session: super::session::PageSession,
    Path(key): Path<String>,
    query: QueryMap,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let now = OffsetDateTime::now_utc();
    let (window, error_field, error) =
        match MetricsWindow::parse(query.get("from"), query.get("to"), now) {
            Ok(window) => (window, None, None),
            Err(e) => (
                MetricsWindow::parse(None, None, now).expect("the default window parses"),
                e.field,
                Some(e.message),
            ),
        };
    let metrics = if error.is_none() {
        crate::api::metrics::figures(&state, &project.key, &query).await?
    } else {
        crate::api::metrics::figures(&state, &project.key, &QueryMap(Default::default())).await?
    };
    let (default_from, default_to) = form_dates(&window);
    let typed = |name: &str, default: String| {
        query
            .get(name)
            .filter(|t| !t.trim().is_empty())
            .map_or(default, str::to_string)
    };
    let window_query =
        if error.is_none() && (query.get("from").is_some() || query.get("to").is_some()) {
            format!(
                "?{}",
                serde_urlencoded::to_string([
                    ("from", query.get("from").unwrap_or("")),
                    ("to", query.get("to").unwrap_or(""))
                ])
                .unwrap_or_default()
            )
        } else {
            String::new()
        };
    let charts = charts(&project, &metrics);
    Ok(render(
        if error.is_some() {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::OK
        },
        MetricsPage {
            from: typed("from", default_from),
            to: typed("to", default_to),
            window_query,
            error_field,
            error,
            charts,
            nav: super::Nav::project(&session, &project, "metrics"),
            project,
        },
    )?)
}

/// `GET /projects/{key}/metrics/{chart}.csv`: one chart's numbers as CSV, same window as the page.
pub async fn csv(
    State(state): State<AppState>,
    _session: super::session::PageSession,
    Path((key, file)): Path<(String, String)>,
    query: QueryMap,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let metrics = crate::api::metrics::figures(&state, &project.key, &query).await?;
    let slug = file.strip_suffix(".csv").unwrap_or("");
    let Some(chart) = charts(&project, &metrics)
        .into_iter()
        .find(|c| c.slug == slug)
    else {
        return Ok(render(
            StatusCode::NOT_FOUND,
            MessagePage {
                heading: "No such chart".into(),
                message: "The metrics page lists every chart and its CSV download.".into(),
            },
        )?);
    };
    // The key is upper-case letters and digits and the slug is ours: safe in the header.
    let disposition = format!(
        "attachment; filename=\"{}-{}.csv\"",
        project.key, chart.slug
    );
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        chart.table.to_csv(),
    )
        .into_response())
}
