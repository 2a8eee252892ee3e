//! `/api/v1/projects/{key}/metrics`: a project's quality figures, for every signed-in role.

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::QueryMap;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use moth_core::metrics::{MetricsWindow, ProjectMetrics};
use time::OffsetDateTime;

/// Reads the `from` and `to` query parameters into a window (422 naming the bad one).
pub fn window(query: &QueryMap) -> ApiResult<MetricsWindow> {
    Ok(MetricsWindow::parse(
        query.get("from"),
        query.get("to"),
        OffsetDateTime::now_utc(),
    )?)
}

/// `GET /api/v1/projects/{key}/metrics`: the project's quality figures. Bugs are defects
/// (types `bug` and `performance`); windowed figures cover `from`..`to` (default: the last 12
/// ISO weeks), `open_*` are the state now, and `regressions` count every flagged issue.
#[utoipa::path(get, path = "/api/v1/projects/{key}/metrics", tag = "metrics",
    params(("key" = String, Path),
        ("from" = Option<String>, Query, description = "YYYY-MM-DD or RFC 3339; default: Monday 11 weeks before this week"),
        ("to" = Option<String>, Query, description = "YYYY-MM-DD (that whole day) or RFC 3339; default: now")),
    responses((status = 200, body = ProjectMetrics), (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
#[tracing::instrument(skip_all, fields(project = %key))]
pub async fn get(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(key): Path<String>,
    query: QueryMap,
) -> ApiResult<Json<ProjectMetrics>> {
    let window = window(&query)?;
    Ok(Json(state.store.project_metrics(&key, &window).await?))
}
