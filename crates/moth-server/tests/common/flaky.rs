//! A stand-in for Moth between a reporter (the widget, the extension) and the real server, for
//! the outboxes' tests: while `down` is set, intake answers 503 without reaching Moth and
//! without CORS headers, as a load balancer in front of a restarting server would (a page sees
//! a network error); while `lose` is set, a report reaches Moth but its answer is lost on the way
//! back (503 again); otherwise every request is forwarded.

use axum::response::IntoResponse;
use reqwest::StatusCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The switches of a running stand-in.
#[derive(Clone, Default)]
pub struct Flaky {
    pub down: Arc<AtomicBool>,
    pub lose: Arc<AtomicBool>,
}

impl Flaky {
    /// Serves the stand-in for the Moth at `moth` on `listener`.
    pub fn serve(&self, listener: tokio::net::TcpListener, moth: String) {
        let client = reqwest::Client::new();
        let switches = self.clone();
        let proxy = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let (client, moth, switches) = (client.clone(), moth.clone(), switches.clone());
            async move { switches.forward(&client, &moth, request).await }
        });
        tokio::spawn(async move { axum::serve(listener, proxy).await });
    }

    async fn forward(
        &self,
        client: &reqwest::Client,
        moth: &str,
        request: axum::extract::Request,
    ) -> axum::response::Response {
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let intake = path.starts_with("/api/v1/intake/");
        if intake && self.down.load(Ordering::SeqCst) {
            return (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance").into_response();
        }
        let mut forward = client.request(request.method().clone(), format!("{moth}{path}"));
        for name in ["content-type", "origin", "idempotency-key"] {
            if let Some(value) = request.headers().get(name) {
                forward = forward.header(name, value.clone());
            }
        }
        let body = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .unwrap();
        let answer = forward.body(body).send().await.unwrap();
        if intake && self.lose.load(Ordering::SeqCst) {
            return (StatusCode::SERVICE_UNAVAILABLE, "the answer was lost").into_response();
        }
        let mut response = axum::response::Response::builder().status(answer.status());
        for (name, value) in answer.headers() {
            if !["content-length", "transfer-encoding", "connection"].contains(&name.as_str()) {
                response = response.header(name, value);
            }
        }
        response
            .body(axum::body::Body::from(answer.bytes().await.unwrap()))
            .unwrap()
    }
}
