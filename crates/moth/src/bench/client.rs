//! The benchmark's HTTP client: one connection pool, the token on every request, and any
//! unexpected status turned into an error that shows the answer.

use anyhow::{Context, bail};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Serialize;
use serde_json::json;

/// The project every issue is filed in.
pub const PROJECT: &str = "BENCH";

/// How much of an unexpected answer's body an error shows.
const SHOWN_BODY_CHARS: usize = 4000;

/// Moth's API as the benchmark uses it, shared by every concurrent request.
pub struct Api {
    http: reqwest::Client,
    base_url: String,
    authorization: String,
}

impl Api {
    /// A client for the server at `base_url`, authenticated with an API token.
    pub fn new(base_url: &str, token: &str) -> anyhow::Result<Self> {
        // No proxy: the benchmark's traffic must stay on loopback whatever the environment says.
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("cannot build the HTTP client")?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            authorization: format!("Bearer {token}"),
        })
    }

    /// Creates project BENCH and lets its issues name the given components.
    pub async fn create_project(&self, components: &[&str]) -> anyhow::Result<()> {
        let body = json!({"key": PROJECT, "name": "Benchmark"});
        self.send_json(Method::POST, "/api/v1/projects", &body, StatusCode::CREATED)
            .await?;
        let settings = json!({"components": components});
        let path = format!("/api/v1/projects/{PROJECT}");
        self.send_json(Method::PATCH, &path, &settings, StatusCode::OK)
            .await?;
        Ok(())
    }

    /// Files an issue in project BENCH.
    pub async fn create_issue(&self, draft: impl Serialize) -> anyhow::Result<()> {
        let path = format!("/api/v1/projects/{PROJECT}/issues");
        self.send_json(Method::POST, &path, &draft, StatusCode::CREATED)
            .await?;
        Ok(())
    }

    /// Marks issue BENCH-`number` resolved as fixed.
    pub async fn resolve_issue(&self, number: usize) -> anyhow::Result<()> {
        let path = format!("/api/v1/issues/{PROJECT}-{number}");
        let change = json!({"status": "resolved", "resolution": "fixed"});
        self.send_json(Method::PATCH, &path, &change, StatusCode::OK)
            .await?;
        Ok(())
    }

    /// Sets an issue's priority: a small change that appends an event.
    pub async fn set_priority(&self, number: usize, priority: &str) -> anyhow::Result<()> {
        let path = format!("/api/v1/issues/{PROJECT}-{number}");
        let change = json!({"priority": priority});
        self.send_json(Method::PATCH, &path, &change, StatusCode::OK)
            .await?;
        Ok(())
    }

    /// Comments on an issue.
    pub async fn comment(&self, id: &str, body: &str) -> anyhow::Result<()> {
        let path = format!("/api/v1/issues/{id}/comments");
        self.send_json(
            Method::POST,
            &path,
            &json!({"body": body}),
            StatusCode::CREATED,
        )
        .await?;
        Ok(())
    }

    /// GETs a path and returns the body of its 200 answer.
    pub async fn get(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        expect(self.request(Method::GET, path), StatusCode::OK).await
    }

    async fn send_json(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
        expected: StatusCode,
    ) -> anyhow::Result<Vec<u8>> {
        expect(self.request(method, path).json(body), expected).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .header(reqwest::header::AUTHORIZATION, &self.authorization)
    }
}

/// Sends a request and returns its body, or fails with the status and body if the status is
/// not the expected one.
async fn expect(request: RequestBuilder, expected: StatusCode) -> anyhow::Result<Vec<u8>> {
    let (client, request) = request.build_split();
    let request = request.context("cannot build a request")?;
    let what = describe(&request);
    let response = client
        .execute(request)
        .await
        .with_context(|| format!("{what} failed"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .with_context(|| format!("{what}: cannot read the answer"))?;
    if status != expected {
        let text = String::from_utf8_lossy(&body);
        let shown: String = text.chars().take(SHOWN_BODY_CHARS).collect();
        bail!("{what} answered {status} (expected {expected}): {shown}");
    }
    Ok(body.into())
}

/// The method and target of a request, e.g. `GET /api/v1/issues/BENCH-7`.
fn describe(request: &reqwest::Request) -> String {
    let url = request.url();
    match url.query() {
        Some(query) => format!("{} {}?{query}", request.method(), url.path()),
        None => format!("{} {}", request.method(), url.path()),
    }
}
