//! Moth over HTTP: the JSON API of CONTRACT.md, the pages, authentication, metrics, and the
//! middleware every request passes through (request ids, logs, limits, security headers).

pub mod access;
pub mod api;
pub mod auth;
pub mod cache;
pub mod error;
pub mod extract;
pub mod live;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod ratelimit;
pub mod state;
pub mod status;
pub mod widget;

pub use state::{AppState, Limits, ServerConfig};

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Request, Uri, header};
use axum::middleware;
use axum::routing::get;
use error::ApiError;
use std::net::SocketAddr;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: every route with its middleware.
pub fn app(state: AppState) -> Router {
    let pages = pages::router()
        .route("/status/{token}", get(status::page))
        .route("/status/{token}/screenshot", get(status::screenshot))
        .route("/status/{token}/events", get(live::http::report_stream))
        .route("/widget.js", get(widget::script))
        .route("/widget/capture.js", get(widget::capture_script))
        .route("/demo", get(widget::demo))
        .route("/widget/demo.js", get(widget::demo_script))
        .route("/events", get(live::http::stream))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(metrics::render));
    let headers = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ));
    Router::new()
        .merge(api::router(&state))
        .merge(pages)
        .route_layer(middleware::from_fn_with_state(state.clone(), metrics::track))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(headers)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request<_>| {
                            let request_id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %request_id)
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                // gzip for clients that ask; its default predicate leaves out small bodies,
                // images and server-sent event streams (which must flush event by event).
                .layer(CompressionLayer::new().gzip(true)),
        )
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("nothing is served at {}", uri.path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

/// Serves the application on a bound listener until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let live = state.live.clone();
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        // Live streams never end by themselves; end them so draining finishes.
        live.close();
    })
    .await
}
