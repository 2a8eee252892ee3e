//! The one error type of the HTTP layer, mapped once to a status and the JSON body of
//! CONTRACT.md. Internal errors are logged and never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use moth_core::DomainError;
use moth_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

/// Why a request failed, in terms a client can act on.
#[derive(Debug)]
pub enum ApiError {
    Malformed(String),
    /// A query of the query language that does not parse: 400 with its position and a hint.
    BadQuery(moth_core::QueryError),
    Unauthenticated(String),
    Forbidden(String),
    NotFound(String),
    MethodNotAllowed,
    Conflict {
        field: Option<&'static str>,
        message: String,
    },
    TooLarge(String),
    UnsupportedMediaType(String),
    Invalid {
        field: Option<String>,
        message: String,
    },
    RateLimited {
        retry_after_secs: u64,
        message: String,
    },
    Unavailable(String),
    Internal(anyhow::Error),
}

/// The JSON body of every error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong: a stable code, a message for people, and the field to fix if any.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    #[schema(example = "validation_failed")]
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a malformed query: the 1-based character position of the mistake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<usize>,
    /// For a malformed query: what to write instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// Shorthand for handler results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }

    pub(crate) fn parts(&self) -> (StatusCode, &'static str, String, Option<String>) {
        match self {
            ApiError::Malformed(m) => (
                StatusCode::BAD_REQUEST,
                "malformed_request",
                m.clone(),
                None,
            ),
            ApiError::BadQuery(e) => (
                StatusCode::BAD_REQUEST,
                "malformed_query",
                e.to_string(),
                Some("q".to_string()),
            ),
            ApiError::Unauthenticated(m) => {
                (StatusCode::UNAUTHORIZED, "unauthenticated", m.clone(), None)
            }
            ApiError::Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone(), None),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone(), None),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this path does not accept that method; see /api/v1/openapi.json".to_string(),
                None,
            ),
            ApiError::Conflict { field, message } => (
                StatusCode::CONFLICT,
                "conflict",
                message.clone(),
                field.map(str::to_string),
            ),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.clone(), None),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.clone(),
                None,
            ),
            ApiError::Invalid { field, message } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                message.clone(),
                field.clone(),
            ),
            ApiError::RateLimited { message, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                message.clone(),
                None,
            ),
            ApiError::Unavailable(m) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                m.clone(),
                None,
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "something went wrong on the server; it has been logged".to_string(),
                None,
            ),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        ApiError::Invalid {
            field: error.field.map(str::to_string),
            message: error.message,
        }
    }
}

impl From<moth_core::QueryError> for ApiError {
    fn from(error: moth_core::QueryError) -> Self {
        ApiError::BadQuery(error)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} does not exist")),
            StoreError::Conflict { field, message } => ApiError::Conflict {
                field: Some(field),
                message,
            },
            StoreError::Invalid(e) => e.into(),
            StoreError::Database(sqlx_error) if is_unavailable(&sqlx_error) => {
                tracing::error!(error = %sqlx_error, "database unavailable");
                ApiError::Unavailable("the database is not answering; try again shortly".into())
            }
            other => ApiError::Internal(other.into()),
        }
    }
}

fn is_unavailable(error: &moth_store::SqlxError) -> bool {
    matches!(
        error,
        moth_store::SqlxError::PoolTimedOut
            | moth_store::SqlxError::PoolClosed
            | moth_store::SqlxError::Io(_)
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            tracing::error!(error = format!("{error:#}"), "internal error");
        }
        let (status, code, message, field) = self.parts();
        let (position, hint) = match &self {
            ApiError::BadQuery(e) => (Some(e.position), e.hint.clone()),
            _ => (None, None),
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    field,
                    position,
                    hint,
                },
            }),
        )
            .into_response();
        if let ApiError::RateLimited {
            retry_after_secs, ..
        } = self
        {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(retry_after_secs.max(1)),
            );
        }
        response
    }
}
