//! `GET /status/{token}`: what became of a report, in plain words for the person who sent it.
//! It shows nothing internal: no comments, no other reports, no captured console or network.

use crate::auth::secret_hash;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use moth_core::fingerprint::report_version;
use moth_core::{Issue, Resolution, Status};
use moth_store::ReportStatus;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    /// This page's live stream.
    events: String,
    title: String,
    headline: String,
    detail: Option<String>,
    screenshot: Option<String>,
    reported: String,
}

fn fixed_in(issue: &Issue) -> String {
    match &issue.fields.fixed_in_version {
        Some(version) => format!(
            "It is fixed in version {version}. If you still see the problem, please update."
        ),
        None => "The fix is on its way to you.".to_string(),
    }
}

/// The version a fix shipped in, when the report came from an older one: its reporter only
/// needs to update.
fn fixed_after_report(report: &ReportStatus) -> Option<&moth_core::Version> {
    let fields = &report.issue.fields;
    let fixed = fields.fixed_in_version.as_ref()?;
    let sent_from = report_version(report.app_version.as_deref(), report.build.as_deref())?;
    let done = fields.status.is_done()
        && matches!(
            fields.resolution,
            Some(Resolution::Fixed | Resolution::Done)
        );
    (done && &sent_from < fixed).then_some(fixed)
}

/// The headline and an optional second sentence for a reporter.
pub fn plain_words(report: &ReportStatus) -> (String, Option<String>) {
    let issue = &report.issue;
    let fields = &issue.fields;
    if let Some(fixed) = fixed_after_report(report) {
        return (
            format!("Fixed in {fixed}, please update."),
            Some(fixed_in(issue)),
        );
    }
    if fields.regression && fields.status.is_open() {
        return (
            "The problem came back after a fix, and we're working on it again.".into(),
            None,
        );
    }
    match (fields.status, fields.resolution) {
        (Status::New, _) => (
            "We received your report. The team will look at it soon.".into(),
            None,
        ),
        (Status::Triaged, _) => (
            "The team has looked at your report and planned the work.".into(),
            None,
        ),
        (Status::InProgress, _) => ("We're working on it.".into(), None),
        (Status::NeedsInfo, _) => (
            "The team needs a little more information to fix this.".into(),
            Some("If someone contacts you, your answer will help.".into()),
        ),
        (_, Some(Resolution::Fixed)) => ("Fixed.".into(), Some(fixed_in(issue))),
        (_, Some(Resolution::Done)) => ("Done.".into(), Some(fixed_in(issue))),
        (_, Some(Resolution::Duplicate)) => match &report.original {
            Some(original) if original.fields.resolution == Some(Resolution::Fixed) => (
                "This was a duplicate of a problem we already fixed.".into(),
                Some(fixed_in(original)),
            ),
            Some(original) if original.fields.status.is_open() => (
                "This was a duplicate of a problem we already know about.".into(),
                Some("We're tracking it there, and this page will say when it's fixed.".into()),
            ),
            _ => (
                "This was a duplicate of a problem we already know about.".into(),
                None,
            ),
        },
        (_, Some(Resolution::WontFix)) => ("The team decided not to change this.".into(), None),
        (_, Some(Resolution::CannotReproduce)) => (
            "The team could not make this happen on their side.".into(),
            Some("If it happens again, please send a new report: the details help.".into()),
        ),
        (_, Some(Resolution::ByDesign)) => ("This works the way it was designed to.".into(), None),
        (_, None) => ("The team has finished with this report.".into(), None),
    }
}

pub(crate) async fn report_for(state: &AppState, token: &str) -> ApiResult<ReportStatus> {
    state
        .store
        .report_status(&secret_hash(token))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(
                "no report has this link; check that the whole link was copied".into(),
            )
        })
}

/// The reporter's page.
pub async fn page(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let report = match report_for(&state, &token).await {
        Ok(report) => report,
        Err(ApiError::NotFound(message)) => {
            let page = crate::pages::MessagePage {
                heading: "Report not found".into(),
                message,
            };
            let html = page.render().map_err(|e| ApiError::Internal(e.into()))?;
            return Ok((StatusCode::NOT_FOUND, Html(html)).into_response());
        }
        Err(other) => return Err(other),
    };
    let (headline, detail) = plain_words(&report);
    let reported = report
        .reported_at
        .format(&time::macros::format_description!(
            "[day] [month repr:short] [year]"
        ))
        .unwrap_or_default();
    let page = StatusPage {
        events: format!("/status/{token}/events"),
        title: report.issue.fields.title.as_str().to_string(),
        headline,
        detail,
        screenshot: report
            .screenshot_attachment_id
            .as_ref()
            .map(|_| format!("/status/{token}/screenshot")),
        reported,
    };
    let html = page.render().map_err(|e| ApiError::Internal(e.into()))?;
    let mut response = Html(html).into_response();
    // The link is the reporter's secret: keep it out of caches and referrers.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(response)
}

/// The screenshot sent with the report, for the status page's thumbnail.
pub async fn screenshot(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let report = report_for(&state, &token).await?;
    let id = report
        .screenshot_attachment_id
        .ok_or_else(|| ApiError::NotFound("this report has no screenshot".into()))?;
    let attachment = state.store.attachment(&id).await?;
    let bytes = state.files.get(&attachment.object_key).await?;
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox; default-src 'none'"),
    );
    Ok(response)
}
