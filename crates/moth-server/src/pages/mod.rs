//! Server-rendered pages: each area is a module with its own routes, sharing the helpers here.

pub mod account;
pub mod charts;
pub mod metrics;
pub mod overview;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(account::home))
        .route("/setup", post(account::setup))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route("/assets/moth.css", get(stylesheet))
        .route("/projects/{key}/metrics", get(metrics::page))
        .route("/projects/{key}/metrics/{file}", get(metrics::csv))
        .route("/projects/{key}/overview", get(overview::page))
}

/// A page with one heading and one message.
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub heading: String,
    pub message: String,
}

/// Renders a template as an HTML answer with the given status.
pub fn render(status: StatusCode, page: impl Template) -> ApiResult<Response> {
    let html = page.render().map_err(|e| ApiError::Internal(e.into()))?;
    Ok((status, Html(html)).into_response())
}

/// Reads an `application/x-www-form-urlencoded` body.
pub fn form<T: for<'de> Deserialize<'de>>(body: &Bytes) -> ApiResult<T> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::Malformed(format!("could not read the form: {e}")))
}

/// Moth's own stylesheet.
pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../../web/assets/moth.css"),
    )
        .into_response()
}
