//! Who a page is for: the signed-in user, their role, and the token that proves a form was
//! posted from one of Moth's own pages (cross-site request forgery protection).

use super::PageError;
use crate::auth::{SESSION_COOKIE, authenticate, cookie};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use moth_core::User;
use sha2::{Digest, Sha256};

/// The signed-in user of a page request; without a session the page redirects to sign-in.
#[derive(Debug, Clone)]
pub struct PageSession {
    pub user: User,
    /// Put in every form as `csrf`; derived from the session secret, so another site cannot
    /// know it, and it changes with every sign-in.
    pub csrf: String,
}

impl PageSession {
    /// Refuses a form whose `csrf` field is not this session's.
    pub fn check_csrf(&self, sent: &str) -> Result<(), PageError> {
        let expected = self.csrf.as_bytes();
        let sent = sent.as_bytes();
        // Constant-time comparison: the token is a secret.
        let same = expected.len() == sent.len()
            && expected
                .iter()
                .zip(sent)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if same {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "this form was not sent from a Moth page of your session (it may have been open for too long); reload the page and try again".into(),
            )
            .into())
        }
    }

    /// Who is acting, for the history.
    pub fn actor(&self) -> moth_store::Actor {
        moth_store::Actor::user(self.user.id)
    }

    pub fn is_member(&self) -> bool {
        self.user.role.can_write_issues()
    }

    pub fn is_admin(&self) -> bool {
        self.user.role.is_admin()
    }

    /// Refuses viewers.
    pub fn require_member(&self) -> Result<(), PageError> {
        if self.is_member() {
            Ok(())
        } else {
            Err(ApiError::Forbidden(
                "viewers can read but not change issues; ask an admin for the member role".into(),
            )
            .into())
        }
    }

    /// Refuses everyone but admins.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only admins can change this".into()).into())
        }
    }
}

fn csrf_token(secret: &str) -> String {
    hex::encode(Sha256::digest(format!("moth-csrf:{secret}").as_bytes()))
}

/// Where to come back to after signing in: only a local path.
fn next_path(parts: &Parts) -> String {
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    serde_urlencoded::to_string([("next", path)]).unwrap_or_default()
}

impl FromRequestParts<AppState> for PageSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(session) = parts.extensions.get::<PageSession>() {
            return Ok(session.clone());
        }
        let user = authenticate(parts, state)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        let Some(user) = user else {
            return Err(Redirect::to(&format!("/login?{}", next_path(parts))).into_response());
        };
        let secret = cookie(parts, SESSION_COOKIE)
            .or_else(|| {
                parts
                    .headers
                    .get(axum::http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
            })
            .unwrap_or("");
        let session = PageSession {
            csrf: csrf_token(secret),
            user,
        };
        parts.extensions.insert(session.clone());
        Ok(session)
    }
}
