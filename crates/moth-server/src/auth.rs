//! Who is asking: passwords (argon2), sessions and API tokens (stored only as hashes), roles,
//! and the throttle that slows password guessing.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use moth_core::{Role, User};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "moth_session";

/// Hashes a password with argon2id (off the async threads: it is slow on purpose).
pub async fn hash_password(password: &str) -> ApiResult<String> {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("hashing a password failed: {e}")))
}

/// Checks a password against its stored hash.
pub async fn verify_password(hash: &str, password: &str) -> bool {
    let (hash, password) = (hash.to_string(), password.to_string());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A new random secret with a readable prefix, and the hash under which it is stored.
pub fn new_secret(prefix: &str) -> (String, String) {
    let secret = format!("{prefix}_{}", random_text());
    let hash = secret_hash(&secret);
    (secret, hash)
}

/// 32 random bytes as URL-safe base64.
fn random_text() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The key the status links of reports sent with an idempotency key are derived with: made
/// at random once per server and kept in the database (`server_secrets`).
#[derive(Clone)]
pub struct StatusLinkKey([u8; 32]);

impl StatusLinkKey {
    /// Its name among the server's secrets.
    pub const NAME: &'static str = "status_link_key";

    /// A new random key, as stored.
    pub fn generate() -> String {
        random_text()
    }

    /// The key as stored, or none when the text is not one.
    pub fn from_stored(text: &str) -> Option<Self> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .map(Self)
    }
}

/// The status link's secret of a report sent with an idempotency key, and its hash: derived
/// from the key, so a resend is answered with the same link although only its hash is stored.
/// The derivation is keyed with the server's own [`StatusLinkKey`]: someone who learns an
/// idempotency key (it travels in a header that proxies may log) cannot make the link.
pub fn status_secret_for(
    key: &StatusLinkKey,
    project_key: &str,
    idempotency_key: &str,
) -> (String, String) {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes a key of any length");
    mac.update(b"moth status link\0");
    mac.update(project_key.as_bytes());
    mac.update(b"\0");
    mac.update(idempotency_key.as_bytes());
    let secret = format!(
        "status_{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    );
    let hash = secret_hash(&secret);
    (secret, hash)
}

/// The stored form of a secret: its SHA-256 (secrets are random, so no salt is needed).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The signed-in user of a request, by bearer token or session cookie.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub User);

impl CurrentUser {
    /// Refuses unless the user may file and edit issues.
    pub fn require_member(&self) -> ApiResult<()> {
        if self.0.role.can_write_issues() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "viewers can read but not change issues; ask an admin for the member role".into(),
            ))
        }
    }

    /// Refuses unless the user is an admin.
    pub fn require_admin(&self) -> ApiResult<()> {
        if self.0.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only admins can do this".into()))
        }
    }

    pub fn actor(&self) -> moth_store::Actor {
        moth_store::Actor::user(self.0.id)
    }
}

/// Reads one cookie's value from the request headers.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Finds the user a request speaks for, if any; a bad credential is an error, none is `None`.
pub async fn authenticate(parts: &Parts, state: &AppState) -> ApiResult<Option<User>> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().unwrap_or("");
        let Some(token) = value
            .strip_prefix("Bearer ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return Err(ApiError::Unauthenticated(
                "use Authorization: Bearer <token>".into(),
            ));
        };
        return match state.store.token_user(&secret_hash(token)).await? {
            Some(user) => Ok(Some(user)),
            None => Err(ApiError::Unauthenticated(
                "the API token is unknown, expired or revoked".into(),
            )),
        };
    }
    if let Some(secret) = cookie(parts, SESSION_COOKIE) {
        return Ok(state.store.session_user(&secret_hash(secret)).await?);
    }
    Ok(None)
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(user.clone());
        }
        match authenticate(parts, state).await? {
            Some(user) => {
                let current = CurrentUser(user);
                parts.extensions.insert(current.clone());
                Ok(current)
            }
            None => Err(ApiError::Unauthenticated(
                "sign in, or send Authorization: Bearer <token> (create one with `moth token create`)".into(),
            )),
        }
    }
}

/// Counts failed sign-ins per e-mail and per client address and refuses more for a while.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    /// Failures allowed within [`Self::WINDOW`] before sign-in is refused.
    pub const MAX_FAILURES: usize = 5;
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    fn keys(email: &str, addr: Option<IpAddr>) -> Vec<String> {
        let mut keys = vec![format!("email:{}", email.trim().to_lowercase())];
        if let Some(addr) = addr {
            keys.push(format!("addr:{addr}"));
        }
        keys
    }

    /// How long the caller must wait, if it is throttled now.
    pub fn wait(&self, email: &str, addr: Option<IpAddr>) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        Self::keys(email, addr)
            .into_iter()
            .filter_map(|key| {
                let times = failures.get_mut(&key)?;
                times.retain(|t| now.duration_since(*t) < Self::WINDOW);
                // Per address, allow more: several people may share one.
                let limit = if key.starts_with("addr:") {
                    Self::MAX_FAILURES * 4
                } else {
                    Self::MAX_FAILURES
                };
                (times.len() >= limit)
                    .then(|| Self::WINDOW - now.duration_since(times[times.len() - limit]))
            })
            .max()
    }

    pub fn record_failure(&self, email: &str, addr: Option<IpAddr>) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() > 100_000 {
            failures.retain(|_, times| times.iter().any(|t| now.duration_since(*t) < Self::WINDOW));
        }
        for key in Self::keys(email, addr) {
            failures.entry(key).or_default().push(now);
        }
    }

    pub fn record_success(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&format!("email:{}", email.trim().to_lowercase()));
    }
}

/// A signed-in user whose role may file and edit issues (admin or member).
pub struct Member(pub CurrentUser);

impl FromRequestParts<AppState> for Member {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require_member()?;
        Ok(Member(user))
    }
}

/// A signed-in admin.
pub struct Admin(pub CurrentUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        user.require_admin()?;
        Ok(Admin(user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_verify_only_against_their_hash() {
        let hash = hash_password("correct horse battery").await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery").await);
        assert!(!verify_password(&hash, "wrong horse battery").await);
        assert!(!verify_password("not a hash", "x").await);
    }

    #[test]
    fn secrets_are_random_and_stored_hashed() {
        let (a, hash_a) = new_secret("moth");
        let (b, _) = new_secret("moth");
        assert_ne!(a, b);
        assert!(a.starts_with("moth_"));
        assert_eq!(secret_hash(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }

    #[test]
    fn status_links_of_resent_reports_need_the_server_key() {
        let key = StatusLinkKey::from_stored(&StatusLinkKey::generate()).unwrap();
        let other = StatusLinkKey::from_stored(&StatusLinkKey::generate()).unwrap();
        let uuid = "0193a5f2-7c1e-7d3a-9b1f-2c4e5a6b7c8d";
        let (link, hash) = status_secret_for(&key, "WEB", uuid);
        assert_eq!(
            status_secret_for(&key, "WEB", uuid),
            (link.clone(), hash.clone())
        );
        assert_eq!(secret_hash(&link), hash);
        assert_ne!(status_secret_for(&other, "WEB", uuid).0, link);
        assert_ne!(status_secret_for(&key, "API", uuid).0, link);
        assert!(link.starts_with("status_") && !link.contains(uuid));
        assert!(StatusLinkKey::from_stored("too short").is_none());
    }

    #[test]
    fn the_throttle_refuses_after_repeated_failures_for_one_email() {
        let throttle = LoginThrottle::default();
        let addr: Option<IpAddr> = "127.0.0.1".parse().ok();
        for _ in 0..LoginThrottle::MAX_FAILURES {
            assert!(throttle.wait("ana@example.com", addr).is_none());
            throttle.record_failure("ana@example.com", addr);
        }
        assert!(throttle.wait("ana@example.com", addr).is_some());
        assert!(
            throttle.wait("bob@example.com", addr).is_none(),
            "other accounts on the same address still work"
        );
        throttle.record_success("ana@example.com");
        assert!(throttle.wait("ana@example.com", addr).is_none());
    }
}
