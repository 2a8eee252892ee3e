//! A project's board: a column per status, cards that show type, severity and priority at a
//! glance, the list's filters, and moves by drag and drop (or the card's own form).

use super::listing::{FilterValues, Row};
use super::session::PageSession;
use super::{Nav, PageResult, form, render};
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
use moth_core::{
    IssueChange, IssueChangeInput, IssueFilter, IssueFilterInput, IssueRef, IssueSort, IssueType,
    Priority, Project, Resolution, Severity, Status,
};
use moth_store::IssueListing;
use serde::Deserialize;

/// Most cards a column shows; the column says how many more there are.
const CARDS_PER_COLUMN: i64 = 50;

/// The board's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{key}/board", get(board))
        .route("/issues/{id}/move", post(move_card))
}

/// One column: a status and its cards.
pub struct Column {
    pub status: &'static str,
    pub cards: Vec<Row>,
    pub total: i64,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    nav: Nav,
    project: Project,
    columns: Vec<Column>,
    filters: FilterValues,
    error: Option<(String, String)>,
    can_move: bool,
    statuses: Vec<&'static str>,
    resolutions: Vec<&'static str>,
    types: Vec<&'static str>,
    severities: Vec<&'static str>,
    priorities: Vec<&'static str>,
}

/// `GET /projects/{key}/board`, with the list's filters (`type`, `severity`, `priority`,
/// `component`, `label`, `assignee`, `q`).
async fn board(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    query: QueryMap,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let get = |name: &str| query.get(name).unwrap_or("").trim().to_string();
    let filters = FilterValues {
        issue_type: get("type"),
        status: String::new(),
        severity: get("severity"),
        priority: get("priority"),
        component: get("component"),
        label: get("label"),
        assignee: get("assignee"),
        q: get("q"),
        sort: "priority".into(),
    };
    let counts = state.store.project_issue_counts(&project.key).await?;
    let mut columns = Vec::new();
    let mut error = None;
    for status in Status::ALL {
        let parsed = IssueFilter::parse(&IssueFilterInput {
            types: Some(filters.issue_type.as_str()),
            statuses: Some(status.as_str()),
            severities: Some(filters.severity.as_str()),
            priorities: Some(filters.priority.as_str()),
            components: Some(filters.component.as_str()),
            labels: Some(filters.label.as_str()),
            assignees: Some(filters.assignee.as_str()),
            text: Some(filters.q.as_str()),
        });
        let filter = match parsed {
            Ok(filter) => filter,
            Err(e) => {
                error = Some((e.field.unwrap_or("filter").to_string(), e.message));
                break;
            }
        };
        let listing = IssueListing {
            filter,
            sort: IssueSort::parse(Some(if status.is_done() {
                "-updated"
            } else {
                "priority"
            }))?,
            limit: CARDS_PER_COLUMN,
            cursor: None,
        };
        let page = state.store.list_issues(&project.key, &listing).await?;
        let total = counts
            .iter()
            .filter(|c| c.status == status.as_str())
            .map(|c| c.count)
            .sum();
        columns.push(Column {
            status: status.as_str(),
            cards: page.items.iter().map(Row::of).collect(),
            total,
        });
    }
    let code = if error.is_some() {
        columns.clear();
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(render(
        code,
        BoardPage {
            nav: Nav::project(&session, &project, "board"),
            project,
            columns,
            filters,
            error,
            can_move: session.is_member(),
            statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
            resolutions: Resolution::ALL.iter().map(|r| r.as_str()).collect(),
            types: IssueType::ALL.iter().map(|t| t.as_str()).collect(),
            severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
            priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        },
    )?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MoveForm {
    csrf: String,
    status: String,
    resolution: String,
    duplicate_of: String,
    /// Where a plain form post goes back to.
    back: String,
}

/// `POST /issues/{id}/move`: a card dropped on a column. Moving to resolved or closed needs a
/// resolution; the workflow's refusals come back as JSON errors (or a page without script).
async fn move_card(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let wants_json = super::wants_json(&headers);
    let input: MoveForm = form(&body)?;
    let outcome = async {
        session.require_member().map_err(|e| e.0)?;
        session.check_csrf(&input.csrf).map_err(|e| e.0)?;
        let issue_ref = IssueRef::parse(&id)
            .map_err(|_| ApiError::NotFound(format!("{id} is not an issue id such as WEB-12")))?;
        let optional = |text: &str| Some(Some(text.to_string()).filter(|t| !t.trim().is_empty()));
        let change = IssueChange::parse(&IssueChangeInput {
            status: Some(input.status.clone()),
            resolution: optional(&input.resolution),
            duplicate_of: if input.duplicate_of.trim().is_empty() {
                None
            } else {
                optional(&input.duplicate_of)
            },
            ..IssueChangeInput::default()
        })?;
        let issue = state
            .store
            .update_issue(&issue_ref, change, session.actor())
            .await?;
        Ok::<_, ApiError>(issue)
    }
    .await;
    match outcome {
        Ok(issue) if wants_json => Ok(axum::Json(serde_json::json!({
            "ok": true, "issue": issue.id, "status": issue.fields.status.as_str()
        }))
        .into_response()),
        Ok(issue) => {
            let back = if input.back.starts_with("/projects/") {
                input.back.clone()
            } else {
                format!("/projects/{}/board", issue.project)
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(error) if wants_json => Ok(error.into_response()),
        Err(error) => Err(error.into()),
    }
}
