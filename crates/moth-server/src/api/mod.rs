//! The JSON API under `/api/v1`, and its OpenAPI description generated from these handlers.

pub mod accounts;
pub mod attachments;
pub mod intake;
pub mod issues;
pub mod links;
pub mod matching;
pub mod metrics;
pub mod projects;
pub mod search;
pub mod similar;

use crate::state::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, patch, post};
use utoipa::OpenApi;

/// Every route of the API. JSON bodies are bounded by `JsonBody`; uploads by their routes' limits.
pub fn router(state: &AppState) -> Router<AppState> {
    let upload_limit = state.config.limits.attachment_bytes + 64 * 1024;
    Router::new()
        .route(
            "/api/v1/projects",
            post(projects::create).get(projects::list),
        )
        .route(
            "/api/v1/projects/{key}",
            get(projects::get).patch(projects::update),
        )
        .route(
            "/api/v1/projects/{key}/intake-key",
            post(projects::rotate_intake_key),
        )
        .route(
            "/api/v1/projects/{key}/issues",
            post(issues::create).get(issues::list),
        )
        .route(
            "/api/v1/issues/{id}",
            get(issues::get).patch(issues::update),
        )
        .route(
            "/api/v1/issues/{id}/comments",
            post(issues::add_comment).get(issues::comments),
        )
        .route("/api/v1/issues/{id}/activity", get(issues::activity))
        .route(
            "/api/v1/issues/{id}/links",
            get(links::list).post(links::add),
        )
        .route(
            "/api/v1/issues/{id}/links/{kind}/{target}",
            delete(links::remove),
        )
        .route("/api/v1/issues/{id}/similar", get(similar::for_issue))
        .route("/api/v1/projects/{key}/similar", get(similar::for_text))
        .route("/api/v1/projects/{key}/metrics", get(metrics::get))
        .route(
            "/api/v1/issues/{id}/watchers",
            post(issues::watch).delete(issues::unwatch),
        )
        .route(
            "/api/v1/issues/{id}/attachments",
            post(attachments::upload)
                .layer(DefaultBodyLimit::max(upload_limit))
                .get(attachments::list),
        )
        .route("/api/v1/attachments/{id}", get(attachments::download))
        .route(
            "/api/v1/intake/{intake_key}",
            post(intake::receive)
                .options(intake::preflight)
                .layer(DefaultBodyLimit::max(state.config.intake.body_bytes)),
        )
        .route(
            "/api/v1/intake/{intake_key}/match",
            post(matching::probe)
                .options(intake::preflight)
                .layer(DefaultBodyLimit::max(state.config.intake.body_bytes)),
        )
        .route("/api/v1/search", get(search::search))
        .route("/api/v1/me", get(accounts::me))
        .route(
            "/api/v1/tokens",
            post(accounts::create_token).get(accounts::list_tokens),
        )
        .route("/api/v1/tokens/{id}", delete(accounts::revoke_token))
        .route(
            "/api/v1/users",
            get(accounts::list_users).post(accounts::create_user),
        )
        .route("/api/v1/users/{id}", patch(accounts::change_user))
        .route("/api/v1/openapi.json", get(openapi_json))
        .layer(DefaultBodyLimit::disable())
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Moth", description = "A self-hosted bug and issue tracker. Scripts authenticate with `Authorization: Bearer <token>`; pages use a session cookie."),
    paths(
        projects::create, projects::list, projects::get, projects::update, projects::rotate_intake_key,
        issues::create, issues::list, issues::get, issues::update, issues::add_comment, issues::comments, issues::activity, issues::watch, issues::unwatch,
        links::list, links::add, links::remove,
        attachments::upload, attachments::list, attachments::download, intake::receive, matching::probe, metrics::get, search::search, similar::for_issue, similar::for_text,
        accounts::me, accounts::create_token, accounts::list_tokens, accounts::revoke_token, accounts::list_users, accounts::create_user, accounts::change_user,
        crate::ops::healthz, crate::ops::readyz, crate::metrics::render, crate::pages::account::login_form, crate::pages::account::login, crate::pages::account::logout,
    ),
    components(schemas(crate::error::ErrorBody, moth_core::intake::IntakeReportInput, moth_core::intake::GuestInput, moth_core::FieldChange, moth_core::Reporter, moth_core::UserSummary, moth_core::IssueFields, moth_core::metrics::ProjectMetrics, moth_core::metrics::WeekFigures, moth_core::metrics::RegressionCount)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

/// Declares bearer tokens and session cookies as the ways to authenticate.
struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3 description.
async fn openapi_json() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(ApiDoc::openapi())
}
