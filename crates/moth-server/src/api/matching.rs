//! `POST /api/v1/intake/{intake_key}/match`: before sending, the widget asks whether a report
//! looks like a known one, so the reporter can add to it. Guarded like intake itself: the
//! intake key, the project's allowed origins (with CORS) and the same rate limits.

use super::intake::{check_origin, origin, project_for_key, with_cors};
use crate::error::ApiResult;
use crate::extract::parse_json;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use moth_core::intake::MatchProbeInput;
use serde::Serialize;
use std::net::SocketAddr;
use utoipa::ToSchema;

/// The known issue a report looks like: only its key, title and how many reported it.
#[derive(Debug, Serialize, ToSchema)]
pub struct KnownIssueAnswer {
    #[schema(example = "WEB-12")]
    pub id: String,
    pub title: String,
    /// People who reported it already.
    pub others: i64,
}

/// `{"match": null}` when the report looks new.
#[derive(Debug, Serialize, ToSchema)]
pub struct MatchAnswer {
    #[serde(rename = "match")]
    pub known: Option<KnownIssueAnswer>,
}

/// Whether a report (its `page_url`, `errors`, `console`, `network`, `actions`; other fields
/// are ignored) matches a known issue. Nothing is stored.
#[utoipa::path(post, path = "/api/v1/intake/{intake_key}/match", tag = "intake", params(("intake_key" = String, Path)),
    request_body = MatchProbeInput,
    responses((status = 200, body = MatchAnswer), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(()))]
pub async fn probe(
    State(state): State<AppState>,
    Path(intake_key): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let origin = origin(&headers);
    let answer = answer(&state, &intake_key, peer, origin, &body).await;
    with_cors(answer.unwrap_or_else(IntoResponse::into_response), origin)
}

async fn answer(
    state: &AppState,
    intake_key: &str,
    peer: SocketAddr,
    origin: Option<&str>,
    body: &[u8],
) -> ApiResult<Response> {
    state.intake_limiter.check(intake_key, peer.ip())?;
    let project = project_for_key(state, intake_key).await?;
    check_origin(&project, origin)?;
    let input: MatchProbeInput = parse_json(body)?;
    let fingerprints = input.fingerprints(&state.config.intake.limits)?;
    let known = match fingerprints.match_key() {
        Some(key) => state.store.known_issue(&project.key, &key.hash).await?,
        None => None,
    };
    let known = known.map(|k| KnownIssueAnswer {
        id: k.id,
        title: k.title,
        others: k.reporters,
    });
    Ok(Json(MatchAnswer { known }).into_response())
}
