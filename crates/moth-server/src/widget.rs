//! The capture widget: the small loader at `/widget.js`, its on-demand part (form, screenshot,
//! editor) at `/widget/capture.js`, and a demo page that embeds it under the strict CSP.

use crate::auth::authenticate;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{HeaderName, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

/// `/widget.js`: the recorder the extension shares, then the loader, in one scope so that
/// neither leaves a global behind but `Moth`.
pub const WIDGET: &str = concat!(
    "(function () {\n",
    include_str!("../../../extension/recorder.js"),
    include_str!("../../../web/widget/moth.js"),
    "})();\n"
);
const CAPTURE: &str = include_str!("../../../web/widget/capture.js");
const DEMO_PAGE: &str = include_str!("../../../web/widget/demo.html");
const DEMO_SCRIPT: &str = include_str!("../../../web/widget/demo.js");
const JAVASCRIPT: &str = "application/javascript; charset=utf-8";

/// `GET /widget.js`: loaded by customers' pages on other origins, so resource policy allows it.
pub async fn script() -> Response {
    cross_origin_script(WIDGET)
}

/// `GET /widget/capture.js`: the form, screenshot and editor, loaded by `/widget.js` when the
/// button is hovered, focused or clicked.
pub async fn capture_script() -> Response {
    cross_origin_script(CAPTURE)
}

fn cross_origin_script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, JAVASCRIPT),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (
                HeaderName::from_static("cross-origin-resource-policy"),
                "cross-origin",
            ),
        ],
        body,
    )
        .into_response()
}

/// `GET /demo?key=...`: for admins, a page with buttons that log, throw and fail a request, so
/// a new team sees capture work; its script reads the intake key from the query string.
pub async fn demo(State(state): State<AppState>, parts: Parts) -> ApiResult<Response> {
    match authenticate(&parts, &state).await? {
        Some(user) if user.role.is_admin() => Ok(Html(DEMO_PAGE).into_response()),
        Some(_) => Err(ApiError::Forbidden(
            "only admins can open the demo page".into(),
        )),
        None => Ok(Redirect::to("/login").into_response()),
    }
}

/// `GET /widget/demo.js`: the demo page's script (inline scripts are forbidden by the CSP).
pub async fn demo_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, JAVASCRIPT),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        DEMO_SCRIPT,
    )
        .into_response()
}
