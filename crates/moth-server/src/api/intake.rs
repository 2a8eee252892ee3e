//! `POST /api/v1/intake/{intake_key}`: reports from the widget and the extension. No user
//! credential; the intake key, the project's allowed origins and rate limits guard it.

use crate::error::{ApiError, ApiResult};
use crate::extract::parse_json;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use moth_core::Project;
use moth_core::intake::{IdempotencyKey, IntakeLimits, IntakeReport, IntakeReportInput};
use moth_core::screenshot::check_screenshot;
use moth_store::{CapturedContext, NewAttachment, NewReport};
use serde::Serialize;
use std::net::SocketAddr;
use utoipa::ToSchema;

/// What the widget hears back: the issue the report is on and the reporter's status link.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeAnswer {
    /// The new issue, or the known one the report joined.
    pub id: String,
    pub status_url: String,
    /// The issue this report was merged into, when it was recognised as a duplicate.
    pub duplicate_of: Option<String>,
    /// `filed`, `duplicate` (added to a known issue), `regression` (it reopened a fixed one)
    /// or `already_fixed` (fixed in a later version than the report's).
    #[schema(example = "filed")]
    pub outcome: &'static str,
}

/// One uploaded file, held until the report is accepted.
struct Upload {
    filename: String,
    content_type: String,
    bytes: Bytes,
    is_screenshot: bool,
}

/// The origin a browser sent, if any.
pub(crate) fn origin(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .filter(|o| !o.is_empty() && *o != "null")
}

/// Whether the origin is a browser extension's page (Moth's extension sends one on its POST).
fn is_extension(origin: &str) -> bool {
    [
        "chrome-extension://",
        "moz-extension://",
        "safari-web-extension://",
    ]
    .iter()
    .any(|scheme| origin.starts_with(scheme))
}

/// Refuses an origin the project does not allow; no origin (a script) is fine, and so is a
/// browser extension: allowed origins stop other web sites from filing with a copied key, no
/// web page can send an extension's origin, and the extension holds the key as a script does.
pub(crate) fn check_origin(project: &Project, origin: Option<&str>) -> ApiResult<()> {
    match origin {
        Some(origin) if !project.allowed_origins.is_empty() && !is_extension(origin) => {
            let origin = origin.trim_end_matches('/').to_ascii_lowercase();
            if project.allowed_origins.contains(&origin) {
                Ok(())
            } else {
                Err(ApiError::Forbidden(format!(
                    "reports from {origin} are not accepted by this project; an admin can add it to allowed_origins"
                )))
            }
        }
        _ => Ok(()),
    }
}

/// Adds the CORS headers that let the allowed origin read the answer.
pub(crate) fn with_cors(mut response: Response, origin: Option<&str>) -> Response {
    if let Some(origin) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

pub(crate) async fn project_for_key(state: &AppState, intake_key: &str) -> ApiResult<Project> {
    state.store.project_by_intake_key(intake_key).await?.ok_or_else(|| {
        ApiError::NotFound("this intake key is unknown or was rotated; copy the current snippet from the project's settings".into())
    })
}

/// Answers the browser's preflight for allowed origins.
pub async fn preflight(
    State(state): State<AppState>,
    Path(intake_key): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let project = project_for_key(&state, &intake_key).await?;
    let origin = origin(&headers);
    check_origin(&project, origin)?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, idempotency-key"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    Ok(with_cors(response, origin))
}

/// Files a captured report: multipart with a `report` part (JSON), an optional `screenshot`
/// (PNG, JPEG or WebP) and repeatable `attachment` parts. All or nothing.
#[utoipa::path(post, path = "/api/v1/intake/{intake_key}", tag = "intake", params(("intake_key" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "a random id of this report (a UUID), the same on every resend; or the report's idempotency_key")),
    request_body(content_type = "multipart/form-data", description = "parts: report (JSON, see IntakeReportInput), screenshot, attachment"),
    responses((status = 201, body = IntakeAnswer), (status = 200, body = IntakeAnswer, description = "sent before with the same idempotency key: the first answer, nothing stored"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 413, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)),
    security(()))]
pub async fn receive(
    State(state): State<AppState>,
    Path(intake_key): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let origin = origin(request.headers()).map(str::to_string);
    let answer = file_report(&state, &intake_key, peer, origin.as_deref(), request).await;
    with_cors(
        answer.unwrap_or_else(IntoResponse::into_response),
        origin.as_deref(),
    )
}

async fn file_report(
    state: &AppState,
    intake_key: &str,
    peer: SocketAddr,
    origin: Option<&str>,
    request: Request,
) -> ApiResult<Response> {
    state.intake_limiter.check(intake_key, peer.ip())?;
    let project = project_for_key(state, intake_key).await?;
    check_origin(&project, origin)?;
    let settings = &state.config.intake;
    let headers = request.headers().clone();
    let mut multipart = crate::extract::bounded_multipart(
        request,
        state,
        settings.body_bytes,
        "a part named report",
    )
    .await?;
    let mut report: Option<IntakeReport> = None;
    let mut uploads: Vec<Upload> = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(crate::extract::multipart_error)?
    {
        let name = field.name().unwrap_or("").to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field.content_type().map(str::to_string);
        let bytes = field
            .bytes()
            .await
            .map_err(crate::extract::multipart_error)?;
        match name.as_str() {
            "report" if report.is_none() => {
                let limits = settings.limits.clone();
                report = Some(off_the_runtime(move || read_report(&bytes, &limits)).await?);
            }
            "report" => {
                return Err(ApiError::invalid(
                    "report",
                    "send one report part, not several",
                ));
            }
            "screenshot" if uploads.iter().any(|u| u.is_screenshot) => {
                return Err(ApiError::invalid(
                    "screenshot",
                    "send one screenshot part, not several",
                ));
            }
            "screenshot" => {
                if bytes.len() > settings.screenshot_bytes {
                    return Err(ApiError::TooLarge(format!(
                        "the screenshot is larger than {} MiB",
                        settings.screenshot_bytes / (1024 * 1024)
                    )));
                }
                let info = check_screenshot(&bytes, content_type.as_deref())?;
                let extension = info.format.content_type().trim_start_matches("image/");
                uploads.push(Upload {
                    filename: format!("screenshot.{extension}"),
                    content_type: info.format.content_type().to_string(),
                    bytes,
                    is_screenshot: true,
                });
            }
            "attachment" => {
                if uploads.iter().filter(|u| !u.is_screenshot).count() >= settings.attachments {
                    return Err(ApiError::invalid(
                        "attachment",
                        format!("at most {} attachments per report", settings.attachments),
                    ));
                }
                if bytes.len() > state.config.limits.attachment_bytes {
                    return Err(ApiError::TooLarge(
                        "an attachment is larger than the attachment size limit".into(),
                    ));
                }
                uploads.push(Upload {
                    filename: crate::api::attachments::clean_filename(filename.as_deref()),
                    content_type: crate::api::attachments::clean_content_type(
                        content_type.as_deref(),
                    ),
                    bytes,
                    is_screenshot: false,
                });
            }
            other => {
                return Err(ApiError::invalid(
                    other,
                    format!("unknown part {other:?}; send report, screenshot and attachment parts"),
                ));
            }
        }
    }
    let report =
        report.ok_or_else(|| ApiError::invalid("report", "the report part (JSON) is missing"))?;
    let idempotency_key = idempotency_key(&headers, report.idempotency_key.clone())?;
    let (status_token, status_token_hash) = match &idempotency_key {
        Some(key) => crate::auth::status_secret_for(
            &state.status_link_key().await?,
            &project.key,
            key.as_str(),
        ),
        None => crate::auth::new_secret("status"),
    };
    let match_key = report.fingerprints.match_key();
    let new = NewReport {
        match_key,
        issue: report.issue,
        reporter_name: report.reporter_name,
        reporter_email: report.reporter_email,
        page_url: report.page_url,
        app_version: report.app_version,
        build: report.build,
        context: CapturedContext::from(report.context),
        status_token_hash,
        idempotency_key_hash: idempotency_key.map(|key| crate::auth::secret_hash(key.as_str())),
    };
    // Bytes are durable before the transaction that records them; if it fails they are removed.
    let mut attachments = Vec::with_capacity(uploads.len());
    for upload in uploads {
        let id = uuid::Uuid::now_v7().to_string();
        let object_key = format!("attachments/{}/{id}", project.key);
        let size = upload.bytes.len() as i64;
        state.files.put(&object_key, upload.bytes).await?;
        attachments.push(NewAttachment {
            id,
            filename: upload.filename,
            content_type: upload.content_type,
            size,
            object_key,
            is_screenshot: upload.is_screenshot,
        });
    }
    let keys: Vec<String> = attachments.iter().map(|a| a.object_key.clone()).collect();
    let filed = match state
        .store
        .receive_report(&project.key, new, attachments)
        .await
    {
        Ok(filed) => filed,
        Err(error) => {
            for key in keys {
                let _ = state.files.delete(&key).await;
            }
            return Err(error.into());
        }
    };
    if filed.replayed {
        // Sent before: nothing new was stored, so the files written for it go.
        for key in keys {
            let _ = state.files.delete(&key).await;
        }
    }
    // Whether a new report may be a regression is for triage, not for the reporter.
    let outcome = filed.outcome.answer();
    let id = filed.issue.to_string();
    tracing::info!(issue = %id, project = %project.key, outcome, replayed = filed.replayed, "report received");
    let duplicate_of = (outcome != "filed").then(|| id.clone());
    let answer = IntakeAnswer {
        id,
        status_url: state.status_url(&status_token),
        duplicate_of,
        outcome,
    };
    let status = if filed.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(answer)).into_response())
}

/// Reads the report part: its JSON, every limit, secrets scrubbed, the captured parts written
/// as the text to store.
fn read_report(bytes: &[u8], limits: &IntakeLimits) -> ApiResult<IntakeReport> {
    let input: IntakeReportInput = parse_json(bytes)?;
    Ok(IntakeReport::parse(input, limits)?)
}

/// Runs CPU-heavy work (parsing and scrubbing a report of up to 20 MiB) on the blocking pool:
/// the runtime's few workers stay free to drive the group-commit writer, whose every statement
/// waits for one of them, instead of keeping it waiting behind other requests' parsing.
async fn off_the_runtime<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("reading a report stopped: {e}")))?
}

/// The report's idempotency key: the `Idempotency-Key` header or the report's
/// `idempotency_key` field (which needs no CORS preflight); both must agree when both are sent.
fn idempotency_key(
    headers: &HeaderMap,
    in_report: Option<IdempotencyKey>,
) -> ApiResult<Option<IdempotencyKey>> {
    let Some(header) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(in_report);
    };
    let header = header.to_str().map_err(|_| {
        ApiError::invalid(
            "idempotency_key",
            "the Idempotency-Key header must be visible ASCII",
        )
    })?;
    let key = IdempotencyKey::parse(header)?;
    match in_report {
        Some(other) if other != key => Err(ApiError::invalid(
            "idempotency_key",
            "the Idempotency-Key header and the report's idempotency_key differ",
        )),
        _ => Ok(Some(key)),
    }
}

/// The header a client names a report's idempotency key in.
const IDEMPOTENCY_KEY: &str = "idempotency-key";
