//! The stakeholder overview: a read-only page, in plain words, of what is broken now, what was
//! fixed lately and what the next release brings. Every role may read it.

use super::{PageResult, render};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moth_core::metrics::{IssueHeadline, OVERVIEW_LIMIT, RECENTLY_FIXED_DAYS};
use moth_core::{Project, Severity, Status};
use time::OffsetDateTime;

/// One issue in plain words.
struct Line {
    id: String,
    title: String,
    /// "Critical", "Major"... or the kind of work.
    tag: String,
    /// Where it stands, as a person would say it.
    state: String,
}

fn status_words(status: Status) -> &'static str {
    match status {
        Status::New => "reported, not looked at yet",
        Status::Triaged => "accepted, waiting for someone to pick it up",
        Status::InProgress => "being worked on",
        Status::NeedsInfo => "waiting for more information",
        Status::Resolved => "resolved",
        Status::Closed => "closed",
    }
}

fn ago(now: OffsetDateTime, then: Option<OffsetDateTime>) -> String {
    let Some(then) = then else {
        return "recently".into();
    };
    match (now - then).whole_days() {
        0 => "today".into(),
        1 => "yesterday".into(),
        n => format!("{n} days ago ({})", then.date()),
    }
}

fn line(h: &IssueHeadline, state: String) -> Line {
    let tag = match h.severity {
        Some(Severity::Critical) => "Critical".to_string(),
        Some(Severity::Major) => "Major".to_string(),
        _ => h.issue_type.as_str().replace('_', " "),
    };
    Line {
        id: h.id.clone(),
        title: h.title.clone(),
        tag,
        state,
    }
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    nav: super::Nav,
    project: Project,
    verdict: String,
    broken: Vec<Line>,
    fixed: Vec<Line>,
    fixed_days: i64,
    next_release: Option<String>,
    planned: Vec<Line>,
}

/// `GET /projects/{key}/overview`.
pub async fn page(
    State(state): State<AppState>,
    session: super::session::PageSession,
    Path(key): Path<String>,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let now = OffsetDateTime::now_utc();
    let overview = state.pages.overview(&state.store, &project.key).await?;
    let (critical, major) = (overview.open_critical, overview.open_major);
    let mut verdict = match (critical, major) {
        (0, 0) => "Nothing serious is broken right now.".to_string(),
        (0, m) => format!(
            "No critical problem. {m} major {} open.",
            if m == 1 { "problem is" } else { "problems are" }
        ),
        (c, m) => format!(
            "{c} critical {} open{}.",
            if c == 1 { "problem is" } else { "problems are" },
            if m > 0 {
                format!(", and {m} major")
            } else {
                String::new()
            }
        ),
    };
    if critical + major > overview.broken.len() as i64 {
        verdict.push_str(&format!(" The worst {OVERVIEW_LIMIT} are listed."));
    }
    Ok(render(
        StatusCode::OK,
        OverviewPage {
            verdict,
            broken: overview
                .broken
                .iter()
                .map(|h| {
                    line(
                        h,
                        format!(
                            "{}; reported {}",
                            status_words(h.status),
                            ago(now, Some(h.created_at))
                        ),
                    )
                })
                .collect(),
            fixed: overview
                .recently_fixed
                .iter()
                .map(|h| {
                    let version = h
                        .fixed_in_version
                        .as_ref()
                        .map(|v| format!(" in {v}"))
                        .unwrap_or_default();
                    line(h, format!("fixed {}{version}", ago(now, h.resolved_at)))
                })
                .collect(),
            fixed_days: RECENTLY_FIXED_DAYS,
            next_release: overview.next_release,
            planned: overview
                .planned
                .iter()
                .map(|h| line(h, status_words(h.status).to_string()))
                .collect(),
            nav: super::Nav::project(&session, &project, "overview"),
            project,
        },
    )?)
}
