//! Issues that read like one: `GET /api/v1/issues/{id}/similar` for a filed issue and
//! `GET /api/v1/projects/{key}/similar?title=…` for text being typed. Suggestions only;
//! nothing here ever marks a duplicate.

use crate::access;
use crate::api::issues::issue_ref;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryMap;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use moth_store::{ProjectScope, SimilarIssue, SimilarOptions, SimilarText};
use serde::Serialize;
use utoipa::ToSchema;

/// One suggestion.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarItem {
    #[schema(example = "WEB-12")]
    pub id: String,
    pub title: String,
    #[schema(example = "new")]
    pub status: String,
    /// Higher is more alike, from 0 to 1; compare within one answer only.
    pub score: f64,
}

/// Suggestions, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimilarList {
    pub items: Vec<SimilarItem>,
}

impl SimilarList {
    pub fn of(found: Vec<SimilarIssue>) -> Self {
        Self {
            items: found
                .into_iter()
                .map(|s| SimilarItem {
                    id: s.id,
                    title: s.title,
                    status: s.status.as_str().to_string(),
                    score: s.score,
                })
                .collect(),
        }
    }
}

/// Refuses query parameters a route does not know, naming the ones it does.
fn known_params(query: &QueryMap, known: &[&str]) -> ApiResult<()> {
    match query.0.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(ApiError::invalid(
            unknown,
            format!(
                "unknown query parameter {unknown:?}; use {}",
                known.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Whether `scope` lets its holder read `key`.
fn may_read(scope: &ProjectScope, key: &str) -> bool {
    match scope {
        ProjectScope::All => true,
        ProjectScope::Only(keys) => keys.iter().any(|k| k == key),
    }
}

/// Issues that read like this one (title weighing more than description), best first;
/// never the issue itself. From every project the caller may read, or with `same_project=true`
/// only from the issue's own project (the only issues it can be marked a duplicate of; the
/// issue page and triage ask for those).
#[utoipa::path(get, path = "/api/v1/issues/{id}/similar", tag = "issues",
    params(("id" = String, Path, example = "WEB-12"), ("limit" = Option<i64>, Query, description = "1 to 50, default 10"),
        ("same_project" = Option<bool>, Query, description = "only the issue's own project; default false: every project the caller may read")),
    responses((status = 200, body = SimilarList), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all, fields(issue = %id))]
pub async fn for_issue(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    query: QueryMap,
) -> ApiResult<Json<SimilarList>> {
    known_params(&query, &["limit", "same_project"])?;
    let issue_ref = issue_ref(&id)?;
    let mut scope = access::readable_projects(&user.0);
    // An issue the caller may not read is answered as unknown, as everywhere else.
    if !may_read(&scope, issue_ref.project.as_str()) {
        return Err(ApiError::NotFound(format!("{id} does not exist")));
    }
    let limit = moth_core::similar::parse_limit(query.get("limit"))?;
    match query.get("same_project").map(str::trim) {
        None | Some("" | "false") => {}
        Some("true") => scope = ProjectScope::Only(vec![issue_ref.project.to_string()]),
        Some(_) => {
            return Err(ApiError::invalid(
                "same_project",
                "same_project must be true or false",
            ));
        }
    }
    let found = state
        .store
        .similar_issues(&issue_ref, &SimilarOptions::new(scope, limit))
        .await?;
    Ok(Json(SimilarList::of(found)))
}

/// Issues of a project that read like text not filed yet (a new issue's title as it is
/// typed, and its description if given), best first.
#[utoipa::path(get, path = "/api/v1/projects/{key}/similar", tag = "issues",
    params(("key" = String, Path, example = "WEB"), ("title" = String, Query), ("description" = Option<String>, Query),
        ("limit" = Option<i64>, Query, description = "1 to 50, default 10")),
    responses((status = 200, body = SimilarList), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all, fields(project = %key))]
pub async fn for_text(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(key): Path<String>,
    query: QueryMap,
) -> ApiResult<Json<SimilarList>> {
    known_params(&query, &["title", "description", "limit"])?;
    if !may_read(&access::readable_projects(&user.0), &key) {
        return Err(ApiError::NotFound(format!("project {key} does not exist")));
    }
    let project = state.store.project(&key).await?;
    let limit = moth_core::similar::parse_limit(query.get("limit"))?;
    let text = SimilarText {
        title: query.get("title").unwrap_or("").to_string(),
        description: query.get("description").unwrap_or("").to_string(),
        component: None,
    };
    let options = SimilarOptions::new(ProjectScope::Only(vec![project.key]), limit);
    let found = state.store.similar_to_text(&text, &options).await?;
    Ok(Json(SimilarList::of(found)))
}
