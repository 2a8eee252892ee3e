//! What every handler shares: the store, attachment files, settings, metrics and throttles.

use crate::auth::LoginThrottle;
use crate::metrics::Metrics;
use moth_store::{AttachmentFiles, Store};
use std::sync::Arc;

/// Limits on what a request may carry; each is a setting.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest JSON body, in bytes.
    pub json_body_bytes: usize,
    /// Largest attachment upload, in bytes.
    pub attachment_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            json_body_bytes: 2 * 1024 * 1024,
            attachment_bytes: 25 * 1024 * 1024,
        }
    }
}

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Base of the links Moth writes, without a trailing slash.
    pub public_url: String,
    pub limits: Limits,
    /// How long a sign-in lasts.
    pub session_days: i64,
}

impl ServerConfig {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            limits: Limits::default(),
            session_days: 30,
        }
    }

    /// Cookies are marked Secure when Moth is reached over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Shared by every handler through axum's `State`.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub files: AttachmentFiles,
    pub config: Arc<ServerConfig>,
    pub metrics: Arc<Metrics>,
    pub login_throttle: Arc<LoginThrottle>,
}

impl AppState {
    pub fn new(store: Store, files: AttachmentFiles, config: ServerConfig) -> Self {
        Self {
            store,
            files,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            login_throttle: Arc::new(LoginThrottle::default()),
        }
    }

    /// The web page of an issue.
    pub fn issue_url(&self, id: &str) -> String {
        format!("{}/issues/{id}", self.config.public_url)
    }

    /// Where an attachment's bytes download.
    pub fn attachment_url(&self, id: &str) -> String {
        format!("{}/api/v1/attachments/{id}", self.config.public_url)
    }
}
