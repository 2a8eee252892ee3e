//! The issue page's links section: links grouped by how they read from this issue, and the
//! forms that add and remove them (plain POST forms, so they work without JavaScript).

use super::issue::{issue_page, issue_ref};
use super::session::PageSession;
use super::{PageResult, form, render};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::routing::post;
use moth_core::{IssueLink, IssueRef, LinkKind, LinkRelation, LinkedIssue};
use serde::Deserialize;

/// The links routes of the issue page.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/issues/{id}/links", post(add))
        .route("/issues/{id}/links/remove", post(remove))
}

/// The issues linked one way: `blocked by` WEB-1 and WEB-4.
pub struct LinkGroup {
    pub label: &'static str,
    /// What the remove form sends back (`blocked_by`).
    pub relation: &'static str,
    /// Duplicate links change by resolving or reopening the duplicate, not here.
    pub removable: bool,
    pub issues: Vec<LinkedIssue>,
}

/// Groups links (listed by relation already) under their labels.
pub fn groups(links: Vec<IssueLink>) -> Vec<LinkGroup> {
    let mut groups: Vec<LinkGroup> = Vec::new();
    for link in links {
        match groups.last_mut() {
            Some(group) if group.relation == link.relation => group.issues.push(link.issue),
            _ => groups.push(LinkGroup {
                label: link.label,
                relation: link.relation,
                removable: link.kind != LinkKind::DuplicateOf.as_str(),
                issues: vec![link.issue],
            }),
        }
    }
    groups
}

/// The choices of the add form: (value, words).
pub fn choices() -> Vec<(&'static str, &'static str)> {
    LinkRelation::MANUAL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect()
}

/// What the add form sent, kept when it is refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    csrf: String,
    pub kind: String,
    pub target: String,
}

/// `POST /issues/{id}/links`.
async fn add(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    change(state, session, id, body, true).await
}

/// `POST /issues/{id}/links/remove`.
async fn remove(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    change(state, session, id, body, false).await
}

/// Adds or removes the link; a refusal shows the issue page again with the reason by the form.
async fn change(
    state: AppState,
    session: PageSession,
    id: String,
    body: Bytes,
    adding: bool,
) -> PageResult {
    session.require_member()?;
    let input: LinkForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let issue = issue_ref(&id)?;
    let result = async {
        let relation = LinkRelation::parse(&input.kind)?;
        let target =
            IssueRef::parse(&input.target).map_err(|e| ApiError::invalid("target", e.message))?;
        if adding {
            state
                .store
                .add_link(&issue, relation, &target, session.actor())
                .await?;
        } else {
            state
                .store
                .remove_link(&issue, relation, &target, session.actor())
                .await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    let Err(error) = result else {
        return Ok(Redirect::to(&format!("/issues/{issue}#links-h")).into_response());
    };
    let (status, _, message, _) = error.parts();
    if status.is_server_error() {
        return Err(error.into());
    }
    let shown = state.store.issue(&issue).await?;
    let mut page = issue_page(&state, &session, shown).await?;
    page.link_error = Some(message);
    if adding {
        page.link_form = input;
    }
    Ok(render(status, page)?)
}
