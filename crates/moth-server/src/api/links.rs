//! `/api/v1/issues/{id}/links`: links between issues, read by anyone who can read the issue,
//! added and removed by members and admins.

use super::issues::issue_ref;
use crate::auth::{CurrentUser, Member};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moth_core::{IssueLink, IssueRef, LinkRelation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An issue's links, both directions, duplicates first.
#[derive(Debug, Serialize, ToSchema)]
pub struct LinkList {
    pub items: Vec<IssueLink>,
}

/// A link to add, as seen from the issue in the path.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// `blocks`, `blocked_by`, `relates_to`, `regressed_by` or `regressions`.
    #[schema(example = "blocked_by")]
    pub kind: String,
    /// The other issue's id; it may be in another project.
    #[schema(example = "WEB-3")]
    pub target: String,
}

fn target_ref(text: &str) -> ApiResult<IssueRef> {
    IssueRef::parse(text).map_err(|e| ApiError::invalid("target", e.message))
}

/// An issue's links from both sides: blocks / blocked by, relates to, regressed by /
/// regressions, and duplicate of / duplicates.
#[utoipa::path(get, path = "/api/v1/issues/{id}/links", tag = "links", params(("id" = String, Path, example = "WEB-12")),
    responses((status = 200, body = LinkList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<LinkList>> {
    Ok(Json(LinkList {
        items: state.store.links(&issue_ref(&id)?).await?,
    }))
}

/// Links the issue to another (members and admins); both issues show it. A link to itself,
/// or two issues that would block each other, is 422; the same link twice is 409.
#[utoipa::path(post, path = "/api/v1/issues/{id}/links", tag = "links", params(("id" = String, Path)), request_body = LinkInput,
    responses((status = 201, body = IssueLink), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, description = "unknown kind (the message lists the allowed ones), unknown target, self link or cycle", body = crate::error::ErrorBody)))]
pub async fn add(
    State(state): State<AppState>,
    Member(user): Member,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<LinkInput>,
) -> ApiResult<(StatusCode, Json<IssueLink>)> {
    let issue = issue_ref(&id)?;
    let relation = LinkRelation::parse(&input.kind)?;
    let target = target_ref(&input.target)?;
    let link = state
        .store
        .add_link(&issue, relation, &target, user.actor())
        .await?;
    Ok((StatusCode::CREATED, Json(link)))
}

/// Removes a link, named as seen from the issue in the path (`blocked_by` from the blocked
/// one); 404 when there is no such link.
#[utoipa::path(delete, path = "/api/v1/issues/{id}/links/{kind}/{target}", tag = "links",
    params(("id" = String, Path), ("kind" = String, Path, example = "blocks"), ("target" = String, Path, example = "WEB-3")),
    responses((status = 204, description = "removed"), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Member(user): Member,
    Path((id, kind, target)): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let issue = issue_ref(&id)?;
    let relation = LinkRelation::parse(&kind)?;
    let target = issue_ref(&target)?;
    state
        .store
        .remove_link(&issue, relation, &target, user.actor())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
