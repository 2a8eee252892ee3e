//! The triage inbox: every new report lands here first; one key each accepts it (with severity
//! and priority), marks it a duplicate, asks the reporter for more, declines it or snoozes it.

use super::listing::reporter_name;
use super::session::PageSession;
use super::{Nav, PageResult, form, moment, render};
use crate::error::ApiError;
use crate::extract::QueryMap;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use moth_core::triage::{TriageDecision, TriageInput};
use moth_core::{Issue, IssueRef, Priority, Project, Severity, Status};
use serde::Deserialize;

/// How many reports the inbox shows at once; the next ones are a link away.
pub const PAGE: i64 = 25;

/// The triage routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{key}/triage", get(inbox))
        .route("/projects/{key}/triage/{id}", post(decide))
}

/// One report waiting in the inbox.
pub struct Card {
    pub id: String,
    pub title: String,
    pub issue_type: &'static str,
    pub has_severity: bool,
    pub severity: &'static str,
    pub priority: &'static str,
    pub reporter: String,
    pub created: String,
    pub excerpt: String,
    /// A fixed issue this report matched without a version to judge by.
    pub possible_regression_of: Option<String>,
}

impl Card {
    fn of(issue: &Issue) -> Card {
        let f = &issue.fields;
        let text = if f.steps_to_reproduce.is_empty() {
            &f.description
        } else {
            &f.steps_to_reproduce
        };
        let mut excerpt: String = text.chars().take(280).collect();
        if text.chars().count() > 280 {
            excerpt.push('…');
        }
        Card {
            id: issue.id.clone(),
            title: f.title.as_str().to_string(),
            issue_type: f.issue_type.as_str(),
            has_severity: f.issue_type.has_severity(),
            severity: f.severity.map(Severity::as_str).unwrap_or(""),
            priority: f.priority.as_str(),
            reporter: reporter_name(&issue.reporter),
            created: moment(issue.created_at),
            excerpt,
            possible_regression_of: issue.possible_regression_of.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "triage.html")]
struct InboxPage {
    nav: Nav,
    project: Project,
    cards: Vec<Card>,
    waiting: i64,
    /// The next page's link, when more reports wait after these.
    next_page: Option<String>,
    /// Whether this is a later page (it links back to the first).
    later_page: bool,
    can_triage: bool,
    error: Option<(String, String, String)>,
    severities: Vec<&'static str>,
    priorities: Vec<&'static str>,
}

async fn inbox_page(
    state: &AppState,
    session: &PageSession,
    key: &str,
    after: i64,
) -> Result<InboxPage, super::PageError> {
    let project = state.store.project(key).await?;
    let now = time::OffsetDateTime::now_utc();
    let issues = state
        .store
        .triage_queue(&project.key, now, after, PAGE + 1)
        .await?;
    // New issues are counted once per change of the log; only the snoozed are counted here.
    let new: i64 = state
        .pages
        .issue_counts(&state.store, &project.key)
        .await?
        .iter()
        .filter(|c| c.status == Status::New.as_str())
        .map(|c| c.count)
        .sum();
    let waiting = new - state.store.snoozed_count(&project.key, now).await?;
    let mut cards: Vec<Card> = issues.iter().map(Card::of).collect();
    let next_page = (cards.len() as i64 > PAGE).then(|| {
        cards.truncate(PAGE as usize);
        let last = issues[PAGE as usize - 1].number;
        format!("?after={last}")
    });
    Ok(InboxPage {
        nav: Nav::project(session, &project, "triage"),
        project,
        cards,
        waiting,
        next_page,
        later_page: after > 0,
        can_triage: session.is_member(),
        error: None,
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
    })
}

/// `GET /projects/{key}/triage`.
/// `after` (an issue number) shows the reports filed after it.
async fn inbox(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    query: QueryMap,
) -> PageResult {
    let after = match query.get("after").filter(|a| !a.is_empty()) {
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::invalid("after", "after is the number of an issue"))?,
        None => 0,
    };
    let page = inbox_page(&state, &session, &key, after).await?;
    Ok(render(StatusCode::OK, page)?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DecisionForm {
    csrf: String,
    action: String,
    severity: String,
    priority: String,
    duplicate_of: String,
    question: String,
    days: String,
}

/// `POST /projects/{key}/triage/{id}`: carries out one decision. Scripts that ask for JSON
/// (the inbox's keyboard flow) get JSON answers; a plain form post is redirected back.
async fn decide(
    State(state): State<AppState>,
    session: PageSession,
    Path((key, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let wants_json = super::wants_json(&headers);
    let input: DecisionForm = form(&body)?;
    let outcome = carry_out(&state, &session, &key, &id, &input).await;
    match (outcome, wants_json) {
        (Ok(()), true) => {
            Ok(axum::Json(serde_json::json!({"ok": true, "issue": id})).into_response())
        }
        (Ok(()), false) => Ok(Redirect::to(&format!("/projects/{key}/triage")).into_response()),
        (Err(error), true) => Ok(error.into_response()),
        (Err(error), false) => {
            let (status, _, message, field) = error.parts();
            if status.is_server_error()
                || status == StatusCode::FORBIDDEN
                || status == StatusCode::NOT_FOUND
            {
                return Err(error.into());
            }
            let mut page = inbox_page(&state, &session, &key, 0).await?;
            page.error = Some((id, field.unwrap_or_default(), message));
            Ok(render(status, page)?)
        }
    }
}

async fn carry_out(
    state: &AppState,
    session: &PageSession,
    key: &str,
    id: &str,
    input: &DecisionForm,
) -> Result<(), ApiError> {
    session.require_member().map_err(|e| e.0)?;
    session.check_csrf(&input.csrf).map_err(|e| e.0)?;
    let issue_ref = IssueRef::parse(id)
        .ok()
        .filter(|r| r.project.as_str() == key)
        .ok_or_else(|| ApiError::NotFound(format!("{id} is not an issue of {key}")))?;
    let issue = state.store.issue(&issue_ref).await?;
    let decision = TriageDecision::parse(
        &TriageInput {
            action: &input.action,
            severity: &input.severity,
            priority: &input.priority,
            duplicate_of: &input.duplicate_of,
            question: &input.question,
            days: &input.days,
        },
        issue.fields.issue_type,
    )?;
    if let TriageDecision::Snooze { days } = decision {
        let until = time::OffsetDateTime::now_utc() + time::Duration::days(days);
        state
            .store
            .snooze_issue(&issue_ref, until, session.actor())
            .await?;
        return Ok(());
    }
    if let Some(change) = decision.change() {
        state
            .store
            .update_issue(&issue_ref, change, session.actor())
            .await?;
    }
    if let TriageDecision::NeedsInfo {
        question: Some(question),
    } = &decision
    {
        state
            .store
            .add_comment(&issue_ref, session.user.id, question)
            .await?;
    }
    Ok(())
}
