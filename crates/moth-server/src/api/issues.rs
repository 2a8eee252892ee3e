//! `/api/v1/.../issues`: file, read, change and list issues; their comments and history.

use crate::auth::{CurrentUser, Member};
use crate::error::{ApiError, ApiResult};
use crate::extract::{JsonBody, QueryMap};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moth_core::{
    ActivityEntry, Attachment, Comment, Issue, IssueChange, IssueChangeInput, IssueDraftInput,
    IssueFilter, IssueFilterInput, IssueRef, IssueSort, LongText, NewIssue, ProjectRules,
};
use moth_store::IssueListing;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An issue as the API shows it: its record, its web page, and (for one issue) its attachments.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueResponse {
    #[serde(flatten)]
    pub issue: Issue,
    /// The issue's web page.
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Vec<AttachmentResponse>>,
    /// For one issue: its links from both sides, as `GET .../links` lists them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub links: Option<Vec<moth_core::IssueLink>>,
}

/// An attachment with the URL its bytes download from.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentResponse {
    #[serde(flatten)]
    pub attachment: Attachment,
    pub url: String,
}

impl AttachmentResponse {
    pub fn new(state: &AppState, attachment: Attachment) -> Self {
        let url = state.attachment_url(&attachment.id);
        Self { attachment, url }
    }
}

impl IssueResponse {
    pub fn new(state: &AppState, issue: Issue, attachments: Option<Vec<Attachment>>) -> Self {
        Self {
            url: state.issue_url(&issue.id),
            attachments: attachments.map(|list| {
                list.into_iter()
                    .map(|a| AttachmentResponse::new(state, a))
                    .collect()
            }),
            links: None,
            issue,
        }
    }
}

impl IssueResponse {
    /// One issue as `GET /api/v1/issues/{id}` shows it: with its attachments and links.
    pub async fn whole(state: &AppState, issue: Issue) -> ApiResult<Self> {
        let issue_ref = issue_ref(&issue.id)?;
        let attachments = state.store.attachments(&issue_ref).await?;
        let links = state.store.links(&issue_ref).await?;
        let mut response = Self::new(state, issue, Some(attachments));
        response.links = Some(links);
        Ok(response)
    }
}

/// A page of issues; pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssueList {
    pub items: Vec<IssueResponse>,
    pub next_cursor: Option<String>,
}

/// A comment to add, in Markdown.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    pub body: String,
}

/// An issue's comments, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentList {
    pub items: Vec<Comment>,
}

/// An issue's history, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityList {
    pub items: Vec<ActivityEntry>,
}

/// Reads an issue id from the path; one that cannot exist is simply not found.
pub fn issue_ref(text: &str) -> ApiResult<IssueRef> {
    IssueRef::parse(text).map_err(|e| ApiError::NotFound(e.message))
}

/// Files an issue (members and admins).
#[utoipa::path(post, path = "/api/v1/projects/{key}/issues", tag = "issues", params(("key" = String, Path)), request_body = IssueDraftInput,
    responses((status = 201, body = IssueResponse), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Member(user): Member,
    Path(key): Path<String>,
    JsonBody(input): JsonBody<IssueDraftInput>,
) -> ApiResult<(StatusCode, Json<IssueResponse>)> {
    let project = state.store.project(&key).await?;
    let new = NewIssue::parse(
        &input,
        &ProjectRules {
            components: project.components,
        },
    )?;
    let issue = state
        .store
        .create_issue(&project.key, new, Some(&user.0.summary()))
        .await?;
    let mut response = IssueResponse::new(&state, issue, Some(Vec::new()));
    response.links = Some(Vec::new());
    Ok((StatusCode::CREATED, Json(response)))
}

/// The query parameters a list accepts.
const LIST_PARAMS: &[&str] = &[
    "type",
    "status",
    "severity",
    "priority",
    "component",
    "label",
    "assignee",
    "q",
    "sort",
    "limit",
    "cursor",
];

/// Lists a project's issues with filters (comma means any of), a sort and cursor pages.
#[utoipa::path(get, path = "/api/v1/projects/{key}/issues", tag = "issues",
    params(("key" = String, Path), ("type" = Option<String>, Query), ("status" = Option<String>, Query, description = "open = new, triaged, in_progress, needs_info"),
        ("severity" = Option<String>, Query), ("priority" = Option<String>, Query), ("component" = Option<String>, Query),
        ("label" = Option<String>, Query), ("assignee" = Option<String>, Query, description = "e-mail, or none"),
        ("q" = Option<String>, Query, description = "the query language, as for /api/v1/search; with the filters above"),
        ("sort" = Option<String>, Query, description = "created, updated, priority, severity, number; - reverses"),
        ("limit" = Option<i64>, Query), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = IssueList), (status = 400, description = "q is malformed", body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(key): Path<String>,
    query: QueryMap,
) -> ApiResult<Json<IssueList>> {
    if let Some(unknown) = query.0.keys().find(|k| !LIST_PARAMS.contains(&k.as_str())) {
        return Err(ApiError::invalid(
            unknown,
            format!(
                "unknown query parameter {unknown:?}; use {}",
                LIST_PARAMS.join(", ")
            ),
        ));
    }
    // A malformed query is a 400 naming where and what to fix, before any other check.
    if let Some(q) = query.get("q") {
        moth_core::Query::parse(q)?;
    }
    let mut filter = IssueFilter::parse(&IssueFilterInput {
        types: query.get("type"),
        statuses: query.get("status"),
        severities: query.get("severity"),
        priorities: query.get("priority"),
        components: query.get("component"),
        labels: query.get("label"),
        assignees: query.get("assignee"),
        text: query.get("q"),
    })?;
    if let Some(q) = filter.query.as_mut() {
        q.resolve_me(&user.0.email);
    }
    let listing = IssueListing {
        filter,
        sort: IssueSort::parse(query.get("sort"))?,
        limit: moth_core::listing::parse_page_size(query.get("limit"))?,
        cursor: query
            .get("cursor")
            .filter(|c| !c.is_empty())
            .map(moth_store::decode_cursor)
            .transpose()?,
    };
    let page = state.store.list_issues(&key, &listing).await?;
    Ok(Json(IssueList {
        items: page
            .items
            .into_iter()
            .map(|issue| IssueResponse::new(&state, issue, None))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One issue, with its captured context and attachments.
#[utoipa::path(get, path = "/api/v1/issues/{id}", tag = "issues", params(("id" = String, Path, example = "WEB-12")),
    responses((status = 200, body = IssueResponse), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<IssueResponse>> {
    let issue_ref = issue_ref(&id)?;
    let issue = state.store.issue(&issue_ref).await?;
    Ok(Json(IssueResponse::whole(&state, issue).await?))
}

/// Changes an issue; absent fields stay, null clears, and an invalid transition is 422.
#[utoipa::path(patch, path = "/api/v1/issues/{id}", tag = "issues", params(("id" = String, Path)), request_body = IssueChangeInput,
    responses((status = 200, body = IssueResponse), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Member(user): Member,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<IssueChangeInput>,
) -> ApiResult<Json<IssueResponse>> {
    let issue_ref = issue_ref(&id)?;
    let change = IssueChange::parse(&input)?;
    if change.is_empty() {
        return Err(ApiError::Invalid {
            field: None,
            message: "the body names no field to change".into(),
        });
    }
    let issue = state
        .store
        .update_issue(&issue_ref, change, user.actor())
        .await?;
    Ok(Json(IssueResponse::whole(&state, issue).await?))
}

/// Adds a comment in Markdown (members and admins).
#[utoipa::path(post, path = "/api/v1/issues/{id}/comments", tag = "issues", params(("id" = String, Path)), request_body = CommentInput,
    responses((status = 201, body = Comment), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_comment(
    State(state): State<AppState>,
    Member(user): Member,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<CommentInput>,
) -> ApiResult<(StatusCode, Json<Comment>)> {
    let issue_ref = issue_ref(&id)?;
    let body = LongText::parse_optional("body", &input.body)?
        .ok_or_else(|| ApiError::invalid("body", "a comment must not be empty"))?;
    let comment = state
        .store
        .add_comment(&issue_ref, user.0.id, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// Who should watch an issue; the caller when no e-mail is given.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WatcherInput {
    pub email: Option<String>,
}

/// Resolves whom a watch request is about; only members and admins may speak for others.
fn watcher_email(user: &CurrentUser, input: &WatcherInput) -> ApiResult<moth_core::Email> {
    match input.email.as_deref() {
        None => Ok(moth_core::Email::parse(&user.0.email)?),
        Some(email) => {
            let email = moth_core::Email::parse(email)?;
            if email.as_str() != user.0.email {
                user.require_member()?;
            }
            Ok(email)
        }
    }
}

async fn set_watching(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    input: &WatcherInput,
    watching: bool,
) -> ApiResult<Json<IssueResponse>> {
    let email = watcher_email(user, input)?;
    let issue = state
        .store
        .set_watching(&issue_ref(id)?, &email, watching, user.actor())
        .await?;
    Ok(Json(IssueResponse::new(state, issue, None)))
}

/// Starts watching an issue: anyone who can read it may watch it; members may add others.
#[utoipa::path(post, path = "/api/v1/issues/{id}/watchers", tag = "issues", params(("id" = String, Path)), request_body = WatcherInput,
    responses((status = 200, body = IssueResponse), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn watch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WatcherInput>,
) -> ApiResult<Json<IssueResponse>> {
    set_watching(&state, &user, &id, &input, true).await
}

/// Stops watching an issue (body as for watching).
#[utoipa::path(delete, path = "/api/v1/issues/{id}/watchers", tag = "issues", params(("id" = String, Path)), request_body = WatcherInput,
    responses((status = 200, body = IssueResponse), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn unwatch(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<WatcherInput>,
) -> ApiResult<Json<IssueResponse>> {
    set_watching(&state, &user, &id, &input, false).await
}

/// An issue's comments, oldest first.
#[utoipa::path(get, path = "/api/v1/issues/{id}/comments", tag = "issues", params(("id" = String, Path)),
    responses((status = 200, body = CommentList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn comments(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CommentList>> {
    Ok(Json(CommentList {
        items: state.store.comments(&issue_ref(&id)?).await?,
    }))
}

/// Who changed what on an issue, and when.
#[utoipa::path(get, path = "/api/v1/issues/{id}/activity", tag = "issues", params(("id" = String, Path)),
    responses((status = 200, body = ActivityList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn activity(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ActivityList>> {
    Ok(Json(ActivityList {
        items: state.store.activity(&issue_ref(&id)?).await?,
    }))
}
