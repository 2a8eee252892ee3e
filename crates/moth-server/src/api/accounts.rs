//! Accounts over the API: who am I, my API tokens, and (for admins) users.

use crate::auth::{Admin, CurrentUser, hash_password, new_secret};
use crate::error::{ApiError, ApiResult};
use crate::extract::JsonBody;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moth_core::{ApiToken, Email, Name, Password, Role, User};
use moth_store::NewUser;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A token to create for oneself.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// A label to recognise the token by, such as "ci".
    pub name: String,
    /// Days until it expires; never when absent.
    pub expires_in_days: Option<i64>,
}

/// A token just created: `token` is shown this once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenCreated {
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

/// The caller's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiToken>,
}

/// An account to create (admins).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    pub email: String,
    pub name: String,
    #[schema(example = "member")]
    pub role: String,
    pub password: String,
}

/// Every account.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = User), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(user: CurrentUser) -> Json<User> {
    Json(user.0)
}

/// Creates an API token for the caller; the secret is in the answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = TokenInput,
    responses((status = 201, body = TokenCreated), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_token(
    State(state): State<AppState>,
    user: CurrentUser,
    JsonBody(input): JsonBody<TokenInput>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let name = Name::parse("name", &input.name)?;
    let expires_at = match input.expires_in_days {
        None => None,
        Some(days) if (1..=3650).contains(&days) => {
            Some(time::OffsetDateTime::now_utc() + time::Duration::days(days))
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "expires_in_days",
                "expires_in_days must be from 1 to 3650",
            ));
        }
    };
    let (token, hash) = new_secret("moth");
    let info = state
        .store
        .create_api_token(user.0.id, name.as_str(), &hash, expires_at)
        .await?;
    Ok((StatusCode::CREATED, Json(TokenCreated { token, info })))
}

/// The caller's tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts", responses((status = 200, body = TokenList)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        items: state.store.api_tokens(user.0.id).await?,
    }))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("token {id} does not exist")))?;
    state.store.revoke_api_token(user.0.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every account (admins).
#[utoipa::path(get, path = "/api/v1/users", tag = "accounts", responses((status = 200, body = UserList), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_users(State(state): State<AppState>, _admin: Admin) -> ApiResult<Json<UserList>> {
    Ok(Json(UserList {
        items: state.store.users().await?,
    }))
}

/// Creates an account (admins).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = UserInput,
    responses((status = 201, body = User), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_user(
    State(state): State<AppState>,
    _admin: Admin,
    JsonBody(input): JsonBody<UserInput>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = parse_new_user(&input.email, &input.name, &input.role, &input.password).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_user(user).await?),
    ))
}

/// Checks an account's fields and hashes its password.
pub async fn parse_new_user(
    email: &str,
    name: &str,
    role: &str,
    password: &str,
) -> ApiResult<NewUser> {
    let email = Email::parse(email)?;
    let name = Name::parse("name", name)?;
    let role = Role::parse(role)?;
    let password = Password::parse(password)?;
    Ok(NewUser {
        email: email.as_str().to_string(),
        name: name.into_string(),
        role,
        password_hash: Some(hash_password(password.expose()).await?),
    })
}

/// What an admin changes about an account; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserChangeInput {
    #[schema(example = "viewer")]
    pub role: Option<String>,
    /// `false` deactivates: the person is signed out everywhere and can no longer sign in.
    pub active: Option<bool>,
}

/// Changes a user's role or deactivates them (admins); the last active admin stays.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "accounts", params(("id" = i64, Path)), request_body = UserChangeInput,
    responses((status = 200, body = User), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<UserChangeInput>,
) -> ApiResult<Json<User>> {
    let change = moth_store::UserChange {
        role: input.role.as_deref().map(Role::parse).transpose()?,
        active: input.active,
    };
    Ok(Json(
        state.store.change_user(id, change, admin.actor()).await?,
    ))
}
