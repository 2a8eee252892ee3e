//! `/api/v1/projects/{key}/metrics`: a project's quality figures, for every signed-in role.

use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::extract::QueryMap;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use moth_core::metrics::{MetricsWindow, ProjectMetrics};
use std::collections::HashMap;
use std::sync::Mutex;
use time::OffsetDateTime;

/// Figures already computed, per project and window, with the event id they were computed at.
///
/// At 100k issues in one window the aggregates take tens of milliseconds; every change appends
/// an event, so while the newest event id stays the same the figures cannot have changed, and
/// one indexed `max(id)` replaces them. Nodes sharing a database each keep their own copy and
/// all see the same log, so none serves figures older than the log.
#[derive(Debug, Default)]
pub struct FiguresCache {
    entries: Mutex<HashMap<FiguresKey, (i64, ProjectMetrics)>>,
}

/// Project, window start, and the window end when one was asked for (`None`: up to now).
type FiguresKey = (String, OffsetDateTime, Option<OffsetDateTime>);

/// Windows remembered at most; past this the cache starts over.
const CACHED_WINDOWS: usize = 256;

/// A project's figures for the window `query` asks for, from the cache while still true.
pub async fn figures(
    state: &AppState,
    project: &str,
    query: &QueryMap,
) -> ApiResult<ProjectMetrics> {
    let window = window(query)?;
    let open_ended = query.get("to").is_none_or(|t| t.trim().is_empty());
    let key: FiguresKey = (
        project.to_string(),
        window.from,
        (!open_ended).then_some(window.to),
    );
    // Read before computing: figures stored under this id are at least as new as it.
    let last_event = state.store.last_event_id().await?;
    let cached = state
        .figures
        .entries
        .lock()
        .expect("figures cache")
        .get(&key)
        .filter(|(at, _)| *at == last_event)
        .map(|(_, figures)| figures.clone());
    if let Some(mut figures) = cached {
        figures.to = window.to;
        return Ok(figures);
    }
    let figures = state.store.project_metrics(project, &window).await?;
    let mut entries = state.figures.entries.lock().expect("figures cache");
    if entries.len() >= CACHED_WINDOWS {
        entries.clear();
    }
    entries.insert(key, (last_event, figures.clone()));
    Ok(figures)
}

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
    Ok(Json(figures(&state, &key, &query).await?))
}
