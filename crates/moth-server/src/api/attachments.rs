//! Attachments: upload files to an issue, list them, download their bytes.

use crate::api::issues::{AttachmentResponse, issue_ref};
use crate::auth::{CurrentUser, Member};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use moth_store::NewAttachment;
use serde::Serialize;
use utoipa::ToSchema;

/// The attachments just stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    pub items: Vec<AttachmentResponse>,
}

/// Keeps the last path component of a client's file name, without control characters.
pub(crate) fn clean_filename(name: Option<&str>) -> String {
    let name = name.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "attachment".to_string()
    } else {
        cleaned
    }
}

/// The declared content type if it is a well-formed media type, else a neutral one.
pub(crate) fn clean_content_type(declared: Option<&str>) -> String {
    declared
        .and_then(|t| t.parse::<mime::Mime>().ok())
        .map(|m| m.essence_str().to_string())
        .unwrap_or_else(|| "application/octet-stream".to_string())
}

/// Types a browser may show inline without running anything of the uploader's.
fn is_safe_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "text/plain" | "application/pdf"
    )
}

/// Uploads one or more files (multipart parts named `file`) to an issue.
#[utoipa::path(post, path = "/api/v1/issues/{id}/attachments", tag = "attachments", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", description = "one or more parts named file"),
    responses((status = 201, body = AttachmentList), (status = 413, body = crate::error::ErrorBody), (status = 415, body = crate::error::ErrorBody)))]
pub async fn upload(
    State(state): State<AppState>,
    Member(user): Member,
    Path(id): Path<String>,
    request: Request,
) -> ApiResult<(StatusCode, Json<AttachmentList>)> {
    let issue_ref = issue_ref(&id)?;
    state.store.issue(&issue_ref).await?;
    let limit = state.config.limits.attachment_bytes + 64 * 1024;
    let mut multipart =
        crate::extract::bounded_multipart(request, &state, limit, "parts named file").await?;
    let limit = state.config.limits.attachment_bytes;
    let mut stored = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::extract::multipart_error)?
    {
        if field.name() != Some("file") {
            return Err(ApiError::invalid(
                field.name().unwrap_or("part"),
                "only parts named file are accepted",
            ));
        }
        let filename = clean_filename(field.file_name());
        let content_type = clean_content_type(field.content_type());
        let bytes = field
            .bytes()
            .await
            .map_err(crate::extract::multipart_error)?;
        if bytes.len() > limit {
            return Err(ApiError::TooLarge(format!(
                "{filename} is larger than the {} MiB limit",
                limit / (1024 * 1024)
            )));
        }
        // Bytes are durable before the row that points at them commits.
        let attachment_id = uuid::Uuid::now_v7().to_string();
        let object_key = format!("attachments/{}/{attachment_id}", issue_ref.project);
        state.files.put(&object_key, bytes.clone()).await?;
        let new = NewAttachment {
            id: attachment_id,
            filename,
            content_type,
            size: bytes.len() as i64,
            object_key,
            is_screenshot: false,
        };
        stored.push(
            state
                .store
                .add_attachment(&issue_ref, new, user.actor())
                .await?,
        );
    }
    if stored.is_empty() {
        return Err(ApiError::invalid(
            "file",
            "the request held no file; send parts named file",
        ));
    }
    let items = stored
        .into_iter()
        .map(|a| AttachmentResponse::new(&state, a))
        .collect();
    Ok((StatusCode::CREATED, Json(AttachmentList { items })))
}

/// An issue's attachments.
#[utoipa::path(get, path = "/api/v1/issues/{id}/attachments", tag = "attachments", params(("id" = String, Path)),
    responses((status = 200, body = AttachmentList), (status = 404, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<AttachmentList>> {
    let issue_ref = issue_ref(&id)?;
    state.store.issue(&issue_ref).await?;
    let items = state
        .store
        .attachments(&issue_ref)
        .await?
        .into_iter()
        .map(|a| AttachmentResponse::new(&state, a))
        .collect();
    Ok(Json(AttachmentList { items }))
}

/// Downloads an attachment's bytes with the content type it was uploaded with.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "attachments", params(("id" = String, Path)),
    responses((status = 200, description = "the file's bytes"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn download(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let attachment = state.store.attachment(&id).await?;
    let bytes = state.files.get(&attachment.object_key).await?;
    let disposition = if is_safe_inline(&attachment.content_type) {
        "inline"
    } else {
        "attachment"
    };
    let filename: String = attachment
        .filename
        .chars()
        .map(|c| if c == '"' || !c.is_ascii() { '_' } else { c })
        .collect();
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Uploaded bytes never run as a page of Moth's origin.
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_their_paths_and_control_characters() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(
            clean_filename(Some("C:\\Users\\ana\\trace.log")),
            "trace.log"
        );
        assert_eq!(clean_filename(Some("a\u{0}b.txt")), "ab.txt");
        assert_eq!(clean_filename(None), "attachment");
        assert_eq!(clean_filename(Some(".hidden")), "hidden");
    }

    #[test]
    fn content_types_are_checked() {
        assert_eq!(clean_content_type(Some("image/png")), "image/png");
        assert_eq!(
            clean_content_type(Some("text/plain; charset=utf-8")),
            "text/plain"
        );
        assert_eq!(
            clean_content_type(Some("not a type")),
            "application/octet-stream"
        );
        assert!(!is_safe_inline("text/html"));
        assert!(!is_safe_inline("image/svg+xml"));
    }
}
