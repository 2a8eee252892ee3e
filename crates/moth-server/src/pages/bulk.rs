//! Saved views (personal and shared) and bulk edits of the issues selected in a list.

use super::session::PageSession;
use super::{MessagePage, PageResult, render};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use moth_core::{IssueChange, IssueChangeInput, IssueRef, Name};

/// Most issues one bulk edit changes.
const MAX_BULK: usize = 200;

/// The routes of saved views and bulk edits.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{key}/views", post(save_view))
        .route("/projects/{key}/views/{id}/delete", post(delete_view))
        .route("/projects/{key}/bulk", post(bulk_edit))
}

/// The fields of a form, repeated names kept (checkboxes).
fn pairs(body: &Bytes) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::Malformed(format!("could not read the form: {e}")))
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `POST /projects/{key}/views`: `name`, `query` (the list's query string), `shared=yes`.
async fn save_view(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = pairs(&body)?;
    session.check_csrf(field(&form, "csrf"))?;
    let name = Name::parse("name", field(&form, "name"))?;
    let query = field(&form, "query").trim_start_matches('?');
    if query.len() > 2000 {
        return Err(
            ApiError::invalid("query", "a saved view's query is at most 2000 characters").into(),
        );
    }
    // Only what the list page understands is kept, so a view can never link elsewhere.
    let query: Vec<(String, String)> = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::invalid("query", format!("could not read the view's query: {e}")))?;
    let query = serde_urlencoded::to_string(&query).unwrap_or_default();
    let shared = field(&form, "shared") == "yes";
    if shared {
        session.require_member()?;
    }
    let project = state.store.project(&key).await?;
    state
        .store
        .save_view(&project.key, session.user.id, name.as_str(), &query, shared)
        .await?;
    Ok(Redirect::to(&format!("/projects/{}?{query}", project.key)).into_response())
}

/// `POST /projects/{key}/views/{id}/delete`: owners delete their views; admins any.
async fn delete_view(
    State(state): State<AppState>,
    session: PageSession,
    Path((key, id)): Path<(String, i64)>,
    body: Bytes,
) -> PageResult {
    let form = pairs(&body)?;
    session.check_csrf(field(&form, "csrf"))?;
    state
        .store
        .delete_view(id, session.user.id, session.is_admin())
        .await?;
    Ok(Redirect::to(&format!("/projects/{key}")).into_response())
}

#[derive(Template)]
#[template(path = "bulk_result.html")]
struct BulkResult {
    nav: super::Nav,
    back: String,
    changed: Vec<String>,
    refused: Vec<(String, String)>,
}

/// `POST /projects/{key}/bulk`: applies one change (status, resolution, priority, assignee,
/// a label to add, the release) to every selected issue; each refusal is listed with why.
async fn bulk_edit(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_member()?;
    let form = pairs(&body)?;
    session.check_csrf(field(&form, "csrf"))?;
    let project = state.store.project(&key).await?;
    let ids: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "ids")
        .map(|(_, v)| v.as_str())
        .collect();
    if ids.is_empty() {
        return Ok(render(
            StatusCode::UNPROCESSABLE_ENTITY,
            MessagePage {
                heading: "Nothing selected".into(),
                message: "Tick the issues to change in the list, then choose the change.".into(),
            },
        )?);
    }
    if ids.len() > MAX_BULK {
        return Err(
            ApiError::invalid("ids", format!("change at most {MAX_BULK} issues at once")).into(),
        );
    }
    let set = |name: &str| Some(field(&form, name).trim().to_string()).filter(|v| !v.is_empty());
    let assignee = set("assignee").map(|a| if a == "none" { None } else { Some(a) });
    let label = set("add_label");
    let base = IssueChangeInput {
        status: set("status"),
        resolution: set("resolution").map(Some),
        priority: set("priority"),
        assignee,
        fixed_in_version: set("fixed_in_version").map(Some),
        ..IssueChangeInput::default()
    };
    if IssueChange::parse(&base)?.is_empty() && label.is_none() {
        return Err(ApiError::invalid("status", "choose at least one change to make").into());
    }
    let mut changed = Vec::new();
    let mut refused = Vec::new();
    for id in ids {
        let outcome = async {
            let issue_ref = IssueRef::parse(id)
                .ok()
                .filter(|r| r.project.as_str() == project.key)
                .ok_or_else(|| {
                    ApiError::NotFound(format!("{id} is not an issue of {}", project.key))
                })?;
            let mut input = base.clone();
            if let Some(label) = &label {
                let issue = state.store.issue(&issue_ref).await?;
                let mut labels: Vec<String> = issue
                    .fields
                    .labels
                    .iter()
                    .map(|l| l.as_str().to_string())
                    .collect();
                if !labels.contains(label) {
                    labels.push(label.clone());
                }
                input.labels = Some(labels);
            }
            let change = IssueChange::parse(&input)?;
            state
                .store
                .update_issue(&issue_ref, change, session.actor())
                .await?;
            Ok::<_, ApiError>(())
        }
        .await;
        match outcome {
            Ok(()) => changed.push(id.to_string()),
            Err(error) => {
                let (status, _, message, _) = error.parts();
                if status.is_server_error() {
                    return Err(error.into());
                }
                refused.push((id.to_string(), message));
            }
        }
    }
    let back = field(&form, "back");
    let back = if back.starts_with('?') {
        format!("/projects/{}{back}", project.key)
    } else {
        format!("/projects/{}", project.key)
    };
    let status = if refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok(render(
        status,
        BulkResult {
            nav: super::Nav::project(&session, &project, ""),
            back,
            changed,
            refused,
        },
    )?)
}
