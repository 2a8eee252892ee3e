//! Server-rendered pages: each area is a module with its own routes, sharing the helpers here.

pub mod account;
pub mod board;
pub mod bulk;
pub mod charts;
pub mod context;
pub mod issue;
pub mod links;
pub mod listing;
pub mod metrics;
pub mod overview;
pub mod palette;
pub mod people;
pub mod projects;
pub mod releases;
pub mod session;
pub mod triage;

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
        .route("/assets/moth.js", get(page_script))
        .merge(projects::router())
        .merge(issue::router())
        .merge(links::router())
        .merge(triage::router())
        .merge(board::router())
        .merge(people::router())
        .merge(releases::router())
        .merge(palette::router())
        .merge(bulk::router())
}

/// An error shown as a page: the same status and message as the API's error, in HTML.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<moth_store::StoreError> for PageError {
    fn from(error: moth_store::StoreError) -> Self {
        PageError(error.into())
    }
}

impl From<moth_core::DomainError> for PageError {
    fn from(error: moth_core::DomainError) -> Self {
        PageError(error.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self.0 {
            tracing::error!(error = format!("{error:#}"), "internal error");
        }
        let (status, _, message, _) = self.0.parts();
        let heading = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::CONFLICT => "Changed meanwhile",
            StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => "That did not work",
            _ => "Something went wrong",
        };
        let page = MessagePage {
            heading: heading.into(),
            message,
        };
        match page.render() {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => status.into_response(),
        }
    }
}

/// Whether a form was posted by the page script asking for a JSON answer (quick actions of
/// the triage inbox and the board) rather than by a plain form, which gets a page.
pub fn wants_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The message for one field of a form's error, if the error is about that field.
pub fn field_error<'a>(error: &'a Option<(String, String)>, field: &str) -> Option<&'a str> {
    error
        .as_ref()
        .filter(|(f, _)| f == field)
        .map(|(_, m)| m.as_str())
}

/// What a page handler answers.
pub type PageResult = Result<Response, PageError>;

/// The navigation bar: who is signed in, the project being looked at and the current tab.
#[derive(Debug, Clone)]
pub struct Nav {
    pub user_name: String,
    pub role: &'static str,
    pub csrf: String,
    pub is_admin: bool,
    /// The project key and name, on a project's pages.
    pub project: Option<(String, String)>,
    /// Which tab is current: `bugs`, `work`, `all`, `triage`, `board`, `releases`,
    /// `metrics`, `overview`, `settings`, or empty.
    pub tab: &'static str,
    /// On an issue's page, its id: the page refreshes when that issue changes.
    pub live_issue: Option<String>,
}

impl Nav {
    /// The bar for a page outside any project.
    pub fn new(session: &session::PageSession) -> Self {
        Nav {
            user_name: session.user.name.clone(),
            role: session.user.role.as_str(),
            csrf: session.csrf.clone(),
            is_admin: session.is_admin(),
            project: None,
            tab: "",
            live_issue: None,
        }
    }

    /// The bar for one of a project's pages.
    pub fn project(
        session: &session::PageSession,
        project: &moth_core::Project,
        tab: &'static str,
    ) -> Self {
        Nav {
            project: Some((project.key.clone(), project.name.clone())),
            tab,
            ..Nav::new(session)
        }
    }
}

/// A day as people read it in lists: `2026-11-25`.
pub fn date(at: time::OffsetDateTime) -> String {
    let d = at.date();
    format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A moment as people read it on an issue: `2026-11-25 14:03 UTC`.
pub fn moment(at: time::OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", date(at), at.hour(), at.minute())
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

/// The script that enhances the pages (keyboard shortcuts, copy buttons, console filters).
pub async fn page_script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/javascript; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("../../../../web/assets/moth.js"),
    )
        .into_response()
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
