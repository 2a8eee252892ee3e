//! Request extractors whose every rejection is a readable error of the contract.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use bytes::BytesMut;
use futures::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// A JSON body: 415 without a JSON content type, 413 over the size limit, 400 when it is not
/// JSON, 422 when it is JSON of the wrong shape.
pub struct JsonBody<T>(pub T);

/// Reads a body of at most `limit` bytes. An oversized body is read on (and thrown away) up
/// to a cap before the 413 is sent, so that ordinary clients see the answer instead of a
/// connection closed under them.
pub async fn read_limited(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let drain_cap = limit.saturating_mul(8).max(16 * 1024 * 1024);
    let mut stream = body.into_data_stream();
    let mut buffer = BytesMut::new();
    let mut total = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::Malformed(format!("could not read the request body: {e}")))?;
        total = total.saturating_add(chunk.len());
        if total > drain_cap {
            break;
        }
        if total <= limit {
            buffer.extend_from_slice(&chunk);
        }
    }
    if total > limit {
        return Err(ApiError::TooLarge(format!(
            "the request body is larger than {} KiB; send less, or attach big files separately",
            limit / 1024
        )));
    }
    Ok(buffer.freeze())
}

/// A multipart body of at most `limit` bytes, read (and drained past the limit) before parsing;
/// `parts_hint` tells the client which parts to send when the body is not multipart.
pub async fn bounded_multipart(
    request: Request,
    state: &AppState,
    limit: usize,
    parts_hint: &str,
) -> Result<axum::extract::Multipart, ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = read_limited(body, limit).await?;
    let request = Request::from_parts(parts, Body::from(bytes));
    axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| {
            ApiError::UnsupportedMediaType(format!(
                "send multipart/form-data with {parts_hint} ({})",
                e.body_text()
            ))
        })
}

/// A multipart body that does not parse. Size is checked before parsing, by [`read_limited`].
pub fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::Malformed(format!(
        "could not read the multipart body: {}",
        error.body_text()
    ))
}

/// Names the field a serde data error is about, when its message says.
fn field_of(message: &str) -> Option<String> {
    for marker in ["unknown field `", "missing field `"] {
        if let Some(start) = message.find(marker) {
            let rest = &message[start + marker.len()..];
            return rest.find('`').map(|end| rest[..end].to_string());
        }
    }
    None
}

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let is_json = content_type.parse::<mime::Mime>().is_ok_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(format!(
                "send the body as JSON with Content-Type: application/json (got {:?})",
                if content_type.is_empty() {
                    "nothing"
                } else {
                    content_type
                }
            )));
        }
        let bytes = read_limited(req.into_body(), state.config.limits.json_body_bytes).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// Parses JSON bytes with the contract's distinction between malformed (400) and invalid (422).
pub fn parse_json<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            ApiError::Invalid {
                field: field_of(&message),
                message,
            }
        }
        _ => ApiError::Malformed(format!("the body is not valid JSON: {e}")),
    })
}

/// Query parameters as a plain map; each handler parses the ones it knows.
pub struct QueryMap(pub std::collections::HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query)
            .map(QueryMap)
            .map_err(|e| ApiError::Malformed(format!("could not read the query string: {e}")))
    }
}

impl QueryMap {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}
