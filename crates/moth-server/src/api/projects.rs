//! `/api/v1/projects`: create, list, read and configure projects; rotate intake keys.

use crate::auth::{Admin, CurrentUser, new_secret};
use crate::error::ApiResult;
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moth_core::{Name, Project, ProjectKey, Version, parse_origin};
use moth_store::{NewProject, ProjectChange};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A project to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectInput {
    #[schema(example = "WEB")]
    pub key: String,
    #[schema(example = "Web shop")]
    pub name: String,
}

/// Project settings to change; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectChangeInput {
    pub name: Option<String>,
    /// Origins the widget may report from; empty means any.
    pub allowed_origins: Option<Vec<String>>,
    pub components: Option<Vec<String>>,
    pub versions: Option<Vec<String>>,
}

/// Every project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectList {
    pub items: Vec<Project>,
}

pub(crate) fn new_intake_key() -> String {
    new_secret("intake").0
}

fn distinct(mut values: Vec<String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    values.retain(|v| seen.insert(v.clone()));
    values
}

impl ProjectChangeInput {
    pub(crate) fn parse(self) -> ApiResult<ProjectChange> {
        let bounded = |field: &'static str, list: &Option<Vec<String>>| -> ApiResult<()> {
            if list.as_ref().is_some_and(|l| l.len() > 200) {
                return Err(crate::error::ApiError::invalid(
                    field,
                    format!("at most 200 {field}"),
                ));
            }
            Ok(())
        };
        bounded("allowed_origins", &self.allowed_origins)?;
        bounded("components", &self.components)?;
        bounded("versions", &self.versions)?;
        Ok(ProjectChange {
            name: self
                .name
                .as_deref()
                .map(|n| Name::parse("name", n))
                .transpose()?,
            allowed_origins: self
                .allowed_origins
                .map(|list| {
                    list.iter()
                        .map(|o| parse_origin(o))
                        .collect::<Result<Vec<_>, _>>()
                        .map(distinct)
                })
                .transpose()?,
            components: self
                .components
                .map(|list| {
                    list.iter()
                        .map(|c| Name::parse("components", c).map(Name::into_string))
                        .collect::<Result<Vec<_>, _>>()
                        .map(distinct)
                })
                .transpose()?,
            versions: self
                .versions
                .map(|list| {
                    let mut versions = list
                        .iter()
                        .map(|v| Version::parse("versions", v))
                        .collect::<Result<Vec<_>, _>>()?;
                    versions.sort();
                    Ok::<_, moth_core::DomainError>(distinct(
                        versions.iter().map(|v| v.as_str().to_string()).collect(),
                    ))
                })
                .transpose()?,
        })
    }
}

/// Creates a project (admins).
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = ProjectInput,
    responses((status = 201, body = Project), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Admin(user): Admin,
    JsonBody(input): JsonBody<ProjectInput>,
) -> ApiResult<(StatusCode, Json<Project>)> {
    let project = NewProject {
        key: ProjectKey::parse(input.key.trim())?,
        name: Name::parse("name", &input.name)?,
        intake_key: new_intake_key(),
    };
    let created = state.store.create_project(project, user.actor()).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Lists every project.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", responses((status = 200, body = ProjectList)))]
pub async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> ApiResult<Json<ProjectList>> {
    Ok(Json(ProjectList {
        items: state.store.projects().await?,
    }))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{key}", tag = "projects", params(("key" = String, Path)),
    responses((status = 200, body = Project), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    _user: CurrentUser,
    Path(key): Path<String>,
) -> ApiResult<Json<Project>> {
    Ok(Json(state.store.project(&key).await?))
}

/// Changes a project's name, allowed origins, components or versions (admins).
#[utoipa::path(patch, path = "/api/v1/projects/{key}", tag = "projects", params(("key" = String, Path)), request_body = ProjectChangeInput,
    responses((status = 200, body = Project), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(key): Path<String>,
    JsonBody(input): JsonBody<ProjectChangeInput>,
) -> ApiResult<Json<Project>> {
    let change = input.parse()?;
    Ok(Json(
        state
            .store
            .update_project(&key, change, user.actor())
            .await?,
    ))
}

/// Replaces the intake key; the old one stops working at once (admins).
#[utoipa::path(post, path = "/api/v1/projects/{key}/intake-key", tag = "projects", params(("key" = String, Path)),
    responses((status = 200, body = Project), (status = 404, body = crate::error::ErrorBody)))]
pub async fn rotate_intake_key(
    State(state): State<AppState>,
    Admin(user): Admin,
    Path(key): Path<String>,
) -> ApiResult<Json<Project>> {
    Ok(Json(
        state
            .store
            .rotate_intake_key(&key, &new_intake_key(), user.actor())
            .await?,
    ))
}
