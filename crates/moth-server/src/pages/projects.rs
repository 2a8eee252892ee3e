//! Creating and configuring projects: key, name, components, versions, allowed widget origins,
//! and the intake key with its rotation and the snippet to paste into a site.

use super::session::PageSession;
use super::{Nav, PageResult, form, render};
use crate::api::projects::{ProjectChangeInput, new_intake_key};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::get;
use moth_core::{Name, Project, ProjectKey};
use moth_store::NewProject;
use serde::Deserialize;

/// The project pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/new", get(new_form).post(create))
        .route("/projects/{key}", get(super::listing::page))
        .route(
            "/projects/{key}/settings",
            get(settings).post(save_settings),
        )
        .route(
            "/projects/{key}/settings/intake-key",
            axum::routing::post(rotate_intake_key),
        )
}

#[derive(Template)]
#[template(path = "project_new.html")]
struct NewProjectPage {
    nav: Nav,
    error: Option<(String, String)>,
    key: String,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewProjectForm {
    csrf: String,
    key: String,
    name: String,
}

/// `GET /projects/new`: the form to create a project (admins).
async fn new_form(session: PageSession) -> PageResult {
    session.require_admin()?;
    Ok(render(
        StatusCode::OK,
        NewProjectPage {
            nav: Nav::new(&session),
            error: None,
            key: String::new(),
            name: String::new(),
        },
    )?)
}

/// `POST /projects/new`: creates the project and opens its settings.
async fn create(State(state): State<AppState>, session: PageSession, body: Bytes) -> PageResult {
    session.require_admin()?;
    let input: NewProjectForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let again = |field: &str, message: String| NewProjectPage {
        nav: Nav::new(&session),
        error: Some((field.to_string(), message)),
        key: input.key.clone(),
        name: input.name.clone(),
    };
    let key = match ProjectKey::parse(input.key.trim()) {
        Ok(key) => key,
        Err(e) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                again("key", e.message),
            )?);
        }
    };
    let name = match Name::parse("name", &input.name) {
        Ok(name) => name,
        Err(e) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                again("name", e.message),
            )?);
        }
    };
    let new = NewProject {
        key,
        name,
        intake_key: new_intake_key(),
    };
    match state.store.create_project(new, session.actor()).await {
        Ok(project) => {
            Ok(Redirect::to(&format!("/projects/{}/settings", project.key)).into_response())
        }
        Err(moth_store::StoreError::Conflict { field, message }) => {
            Ok(render(StatusCode::CONFLICT, again(field, message))?)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "project_settings.html")]
struct SettingsPage {
    nav: Nav,
    project: Project,
    public_url: String,
    error: Option<(String, String)>,
    saved: bool,
    name: String,
    components: String,
    versions: String,
    allowed_origins: String,
}

impl SettingsPage {
    fn of(nav: Nav, project: Project, public_url: String) -> Self {
        SettingsPage {
            nav,
            name: project.name.clone(),
            components: project.components.join("\n"),
            versions: project.versions.join("\n"),
            allowed_origins: project.allowed_origins.join("\n"),
            project,
            public_url,
            error: None,
            saved: false,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SettingsForm {
    csrf: String,
    name: String,
    components: String,
    versions: String,
    allowed_origins: String,
}

/// One entry a line (or comma); blank lines are dropped.
fn lines(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn public_url(state: &AppState) -> String {
    state.config.public_url.trim_end_matches('/').to_string()
}

/// `GET /projects/{key}/settings` (admins).
async fn settings(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
) -> PageResult {
    session.require_admin()?;
    let project = state.store.project(&key).await?;
    let nav = Nav::project(&session, &project, "settings");
    Ok(render(
        StatusCode::OK,
        SettingsPage::of(nav, project, public_url(&state)),
    )?)
}

/// `POST /projects/{key}/settings`: saves the name and lists; errors are shown by the field.
async fn save_settings(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_admin()?;
    let input: SettingsForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let project = state.store.project(&key).await?;
    let change = ProjectChangeInput {
        name: Some(input.name.clone()),
        allowed_origins: Some(lines(&input.allowed_origins)),
        components: Some(lines(&input.components)),
        versions: Some(lines(&input.versions)),
    };
    let result = match change.parse() {
        Ok(change) => state
            .store
            .update_project(&key, change, session.actor())
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(saved) => {
            let nav = Nav::project(&session, &saved, "settings");
            let mut page = SettingsPage::of(nav, saved, public_url(&state));
            page.saved = true;
            Ok(render(StatusCode::OK, page)?)
        }
        Err(error) => {
            let (status, _, message, field) = error.parts();
            if status.is_server_error() {
                return Err(error.into());
            }
            let nav = Nav::project(&session, &project, "settings");
            let mut page = SettingsPage::of(nav, project, public_url(&state));
            page.error = Some((field.unwrap_or_default(), message));
            page.name = input.name;
            page.components = input.components;
            page.versions = input.versions;
            page.allowed_origins = input.allowed_origins;
            Ok(render(status, page)?)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CsrfOnly {
    csrf: String,
}

/// `POST /projects/{key}/settings/intake-key`: the old key stops working at once.
async fn rotate_intake_key(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_admin()?;
    let input: CsrfOnly = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let project = state
        .store
        .rotate_intake_key(&key, &new_intake_key(), session.actor())
        .await?;
    let nav = Nav::project(&session, &project, "settings");
    let mut page = SettingsPage::of(nav, project, public_url(&state));
    page.saved = true;
    Ok(render(StatusCode::OK, page)?)
}
