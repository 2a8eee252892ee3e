//! `GET /api/v1/search`: the query language across the projects the caller may read.

use crate::access;
use crate::api::issues::IssueResponse;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::QueryMap;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use moth_core::Query;
use moth_store::SearchRequest;
use serde::Serialize;
use utoipa::ToSchema;

/// The query parameters search accepts.
const SEARCH_PARAMS: &[&str] = &["q", "limit", "cursor"];

/// Matched words marked in safe HTML: everything is escaped except `<mark>` and `</mark>`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HighlightResponse {
    /// The title with its matched words marked.
    #[schema(example = "Payment <mark>crashes</mark> on checkout")]
    pub title: String,
    /// A short excerpt of the description, bug-report fields, comments or console messages.
    pub snippet: String,
}

/// One found issue with its highlight.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchItem {
    #[serde(flatten)]
    pub issue: IssueResponse,
    pub highlight: HighlightResponse,
}

/// A page of results, best first; pass `next_cursor` back as `cursor` for the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchItem>,
    pub next_cursor: Option<String>,
}

/// Searches issues with the query language (see the README), ranked and highlighted.
///
/// With words, results are ranked: title matches first, then newest first, among the newest
/// 1000 matches. Without words, issues matching the filters come newest first.
#[utoipa::path(get, path = "/api/v1/search", tag = "search",
    params(("q" = Option<String>, Query, description = "the query language, e.g. type:bug status:open fixed:>=2.3 updated:<7d \"payment failed\" -flaky pay*"),
        ("limit" = Option<i64>, Query, description = "1 to 200, default 50"), ("cursor" = Option<String>, Query)),
    responses((status = 200, body = SearchResults),
        (status = 400, description = "the query is malformed: the message, position and hint say where and what to write", body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all)]
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    query: QueryMap,
) -> ApiResult<Json<SearchResults>> {
    if let Some(unknown) = query
        .0
        .keys()
        .find(|k| !SEARCH_PARAMS.contains(&k.as_str()))
    {
        return Err(ApiError::invalid(
            unknown,
            format!(
                "unknown query parameter {unknown:?}; use {}",
                SEARCH_PARAMS.join(", ")
            ),
        ));
    }
    let mut parsed = Query::parse(query.get("q").unwrap_or(""))?;
    parsed.resolve_me(&user.0.email);
    let request = SearchRequest {
        query: parsed,
        scope: access::readable_projects(&user.0),
        limit: moth_core::listing::parse_page_size(query.get("limit"))?,
        cursor: query.get("cursor").map(str::to_string),
    };
    let page = state.store.search(&request).await?;
    Ok(Json(SearchResults {
        items: page
            .items
            .into_iter()
            .map(|hit| SearchItem {
                issue: IssueResponse::new(&state, hit.issue, None),
                highlight: HighlightResponse {
                    title: hit.highlight.title,
                    snippet: hit.highlight.snippet,
                },
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}
