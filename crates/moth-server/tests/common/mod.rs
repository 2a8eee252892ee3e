//! A real Moth on port 0 with a fresh database, and a client that talks HTTP to it.

#![allow(dead_code)]

pub mod capture;
pub mod extension;
pub mod flaky;

use moth_core::Role;
use moth_server::{AppState, Limits, ServerConfig};
use moth_store::{AttachmentFiles, NewUser, Store};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;

/// A running server, its store, and a client that follows no redirects.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    _files: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

impl TestApp {
    pub async fn start(store: Store) -> Self {
        Self::start_with(store, |_| {}).await
    }

    pub async fn start_with(store: Store, configure: impl FnOnce(&mut ServerConfig)) -> Self {
        let files = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut config = ServerConfig::new(&base);
        configure(&mut config);
        let state = AppState::new(
            store.clone(),
            AttachmentFiles::local(files.path()).unwrap(),
            config,
        );
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(moth_server::serve(listener, state, async move {
            let _ = rx.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Self {
            base,
            client,
            store,
            _files: files,
            _shutdown: tx,
        }
    }

    /// Creates a user with the role and returns an API token for them.
    pub async fn token_for(&self, email: &str, role: Role) -> String {
        let user = self
            .store
            .create_user(NewUser {
                email: email.into(),
                name: email.split('@').next().unwrap().into(),
                role,
                password_hash: None,
            })
            .await
            .unwrap();
        let (token, hash) = moth_server::auth::new_secret("moth");
        self.store
            .create_api_token(user.id, "test", &hash, None)
            .await
            .unwrap();
        token
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path, Some(token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, token, Some(body)).await
    }

    /// An admin token and a project WEB, the usual start of a test.
    pub async fn with_project(&self) -> String {
        let admin = self.token_for("admin@example.com", Role::Admin).await;
        let (status, body) = self
            .post(
                "/api/v1/projects",
                &admin,
                serde_json::json!({"key": "WEB", "name": "Web shop"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        admin
    }

    /// Project WEB's current intake key, as `token` reads it.
    pub async fn intake_key(&self, token: &str) -> String {
        let (status, project) = self.get("/api/v1/projects/WEB", token).await;
        assert_eq!(status, StatusCode::OK, "{project}");
        project["intake_key"].as_str().unwrap().to_string()
    }

    /// A signed-in session for an existing user, as the `name=value` of its cookie.
    pub async fn session_cookie(&self, email: &str) -> (String, String) {
        let user = self
            .store
            .user_credentials(email)
            .await
            .unwrap()
            .unwrap()
            .user;
        let (secret, hash) = moth_server::auth::new_secret("session");
        let expires = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
        self.store
            .create_session(user.id, &hash, expires)
            .await
            .unwrap();
        (moth_server::auth::SESSION_COOKIE.to_string(), secret)
    }

    /// The bytes at an attachment's `url` (absolute, or a path on this server).
    pub async fn download(&self, url: &str, token: &str) -> bytes::Bytes {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let response = self
            .client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.bytes().await.unwrap()
    }

    /// Sends a widget report (its JSON part only) to a project's intake key: the status and
    /// the answer (null when it is not JSON).
    pub async fn send_report(
        &self,
        intake_key: &str,
        report: &serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let form = reqwest::multipart::Form::new().part(
            "report",
            reqwest::multipart::Part::text(report.to_string())
                .mime_str("application/json")
                .unwrap(),
        );
        let response = self
            .client
            .post(format!("{}/api/v1/intake/{intake_key}", self.base))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or_default())
    }

    /// Files a widget report that must be accepted, and answers what intake said.
    pub async fn file_report(
        &self,
        intake_key: &str,
        report: &serde_json::Value,
    ) -> serde_json::Value {
        let (status, answer) = self.send_report(intake_key, report).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        answer
    }

    /// Where this server keeps attachment bytes.
    pub fn files_dir(&self) -> &std::path::Path {
        self._files.path()
    }

    pub async fn issue_count(&self, key: &str) -> i64 {
        self.store.project(key).await.unwrap().issue_count
    }
}

/// Limits small enough to test without sending megabytes.
pub fn small_limits(config: &mut ServerConfig) {
    config.limits = Limits {
        json_body_bytes: 64 * 1024,
        attachment_bytes: 32 * 1024,
    };
}

/// Asserts the contract's error shape and returns the error object.
pub fn error_of(status: StatusCode, body: &Value, expected: StatusCode) -> Value {
    assert_eq!(status, expected, "{body}");
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no error object in {body}"));
    assert!(error["code"].is_string(), "{body}");
    assert!(
        error["message"].as_str().is_some_and(|m| m.len() > 10),
        "the message says what to fix: {body}"
    );
    error.clone()
}

/// A site of one page, `html` at `path`, on another origin than Moth's (`localhost` against its
/// `127.0.0.1`); answers the site's origin.
pub async fn one_page_site(path: &str, html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = axum::Router::new().route(
        path,
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    tokio::spawn(async move { axum::serve(listener, site).await });
    format!("http://localhost:{port}")
}
