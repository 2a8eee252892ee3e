//! What every handler shares: the store, attachment files, settings, metrics and throttles.

use crate::auth::LoginThrottle;
use crate::error::{ApiError, ApiResult};
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

/// What the widget's intake endpoint accepts, and how fast.
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Largest report body (JSON, screenshot and attachments together), in bytes.
    pub body_bytes: usize,
    /// Largest screenshot, in bytes.
    pub screenshot_bytes: usize,
    /// Most attachments besides the screenshot.
    pub attachments: usize,
    pub limits: moth_core::intake::IntakeLimits,
    pub rates: crate::ratelimit::IntakeRates,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            body_bytes: 20 * 1024 * 1024,
            screenshot_bytes: 10 * 1024 * 1024,
            attachments: 5,
            limits: Default::default(),
            rates: Default::default(),
        }
    }
}

/// Settings the HTTP layer needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Base of the links Moth writes, without a trailing slash.
    pub public_url: String,
    pub limits: Limits,
    pub intake: IntakeSettings,
    /// How long a sign-in lasts.
    pub session_days: i64,
}

impl ServerConfig {
    pub fn new(public_url: &str) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_string(),
            limits: Limits::default(),
            intake: IntakeSettings::default(),
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
    pub intake_limiter: Arc<crate::ratelimit::IntakeLimiter>,
    /// The event log, fanned out to open pages.
    pub live: Arc<crate::live::LiveFeed>,
    /// Quality figures already computed, reused until the event log moves.
    pub figures: Arc<crate::api::metrics::FiguresCache>,
    /// Counts the pages share (per type and status, per release, the overview), reused until
    /// the event log moves.
    pub pages: Arc<crate::cache::PageCache>,
    /// The key of resent reports' status links, read from the database at first use.
    status_link_key: Arc<tokio::sync::OnceCell<crate::auth::StatusLinkKey>>,
}

impl AppState {
    pub fn new(store: Store, files: AttachmentFiles, config: ServerConfig) -> Self {
        let intake_limiter = Arc::new(crate::ratelimit::IntakeLimiter::new(config.intake.rates));
        Self {
            live: crate::live::LiveFeed::new(store.clone()),
            store,
            files,
            config: Arc::new(config),
            metrics: Arc::new(Metrics::new()),
            login_throttle: Arc::new(LoginThrottle::default()),
            figures: Arc::default(),
            pages: Arc::default(),
            intake_limiter,
            status_link_key: Arc::default(),
        }
    }

    /// The key of resent reports' status links: made and stored by the first server to need
    /// it, then read once per process.
    pub async fn status_link_key(&self) -> ApiResult<crate::auth::StatusLinkKey> {
        use crate::auth::StatusLinkKey;
        self.status_link_key
            .get_or_try_init(|| async {
                let stored = self
                    .store
                    .server_secret(StatusLinkKey::NAME, &StatusLinkKey::generate())
                    .await?;
                StatusLinkKey::from_stored(&stored).ok_or_else(|| {
                    ApiError::Internal(anyhow::anyhow!(
                        "the stored {} is not a key; delete its row from server_secrets to make a new one",
                        StatusLinkKey::NAME
                    ))
                })
            })
            .await
            .cloned()
    }

    /// The web page of an issue.
    pub fn issue_url(&self, id: &str) -> String {
        format!("{}/issues/{id}", self.config.public_url)
    }

    /// The reporter's page for a report.
    pub fn status_url(&self, token: &str) -> String {
        format!("{}/status/{token}", self.config.public_url)
    }

    /// Where an attachment's bytes download.
    pub fn attachment_url(&self, id: &str) -> String {
        format!("{}/api/v1/attachments/{id}", self.config.public_url)
    }
}
