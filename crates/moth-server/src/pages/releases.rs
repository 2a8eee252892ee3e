//! Releases: every version with what is planned for it, fixed in it and reported against it,
//! and a page per version that keeps bugs that affect it apart from what it fixes.

use super::listing::Row;
use super::session::PageSession;
use super::{Nav, PageResult, render};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use moth_core::{Project, Version};
use moth_store::ReleaseCount;

/// Most issues a release page lists.
const RELEASE_ISSUES: i64 = 1000;

/// The release routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{key}/releases", get(releases))
        .route("/projects/{key}/releases/{version}", get(release))
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    nav: Nav,
    project: Project,
    releases: Vec<ReleaseCount>,
}

/// Newest version first, in version order (2.10.0 above 2.9.1); unparsable names last.
fn newest_first(counts: &mut [ReleaseCount]) {
    counts.sort_by(|a, b| {
        let va = Version::parse("version", &a.version).ok();
        let vb = Version::parse("version", &b.version).ok();
        vb.cmp(&va)
    });
}

/// `GET /projects/{key}/releases`.
async fn releases(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let mut counts = state
        .pages
        .release_counts(&state.store, &project.key)
        .await?;
    // Versions the project declared but no issue names yet are releases too.
    for version in &project.versions {
        if !counts.iter().any(|c| &c.version == version) {
            counts.push(ReleaseCount {
                version: version.clone(),
                ..ReleaseCount::default()
            });
        }
    }
    newest_first(&mut counts);
    Ok(render(
        StatusCode::OK,
        ReleasesPage {
            nav: Nav::project(&session, &project, "releases"),
            project,
            releases: counts,
        },
    )?)
}

#[derive(Template)]
#[template(path = "release.html")]
struct ReleasePage {
    nav: Nav,
    project: Project,
    version: String,
    planned: Vec<Row>,
    fixed: Vec<Row>,
    affecting_open: Vec<Row>,
    affecting_fixed: Vec<(Row, String)>,
}

/// `GET /projects/{key}/releases/{version}`.
async fn release(
    State(state): State<AppState>,
    session: PageSession,
    Path((key, version)): Path<(String, String)>,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let version = Version::parse("version", &version)?;
    let issues = state
        .store
        .release_issues(&project.key, version.as_str(), RELEASE_ISSUES)
        .await?;
    let mut page = ReleasePage {
        nav: Nav::project(&session, &project, "releases"),
        project,
        version: version.as_str().to_string(),
        planned: Vec::new(),
        fixed: Vec::new(),
        affecting_open: Vec::new(),
        affecting_fixed: Vec::new(),
    };
    for issue in &issues {
        let f = &issue.fields;
        let done = f.status.is_done();
        if f.fixed_in_version.as_ref() == Some(&version) {
            if done {
                page.fixed.push(Row::of(issue));
            } else {
                page.planned.push(Row::of(issue));
            }
        }
        if f.affects_version.as_ref() == Some(&version) {
            if done {
                let fixed_in = f
                    .fixed_in_version
                    .as_ref()
                    .map(|v| v.as_str().to_string())
                    .unwrap_or_default();
                page.affecting_fixed.push((Row::of(issue), fixed_in));
            } else {
                page.affecting_open.push(Row::of(issue));
            }
        }
    }
    Ok(render(StatusCode::OK, page)?)
}
