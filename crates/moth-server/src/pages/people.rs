//! People: admins invite by link, change roles and deactivate accounts; everyone manages
//! their own API tokens; an invited person sets their name and password.

use super::session::PageSession;
use super::{Nav, PageResult, date, form, render};
use crate::auth::{hash_password, new_secret, secret_hash};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use moth_core::{ApiToken, Email, Name, Password, Role, User};
use moth_store::{Invitation, UserChange};
use serde::Deserialize;

/// How long an invitation link works.
const INVITATION_DAYS: i64 = 7;

/// The people routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users))
        .route("/admin/users/{id}", post(change_user))
        .route("/admin/invitations", post(invite))
        .route(
            "/invite/{token}",
            get(invitation_form).post(accept_invitation),
        )
        .route("/account/tokens", get(tokens).post(create_token))
        .route("/account/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<User>,
    invitations: Vec<Invitation>,
    /// A link just made, shown once.
    invitation_link: Option<String>,
    error: Option<(String, String)>,
    invite_email: String,
    invite_role: String,
    roles: Vec<&'static str>,
}

async fn users_page(
    state: &AppState,
    session: &PageSession,
) -> Result<UsersPage, super::PageError> {
    Ok(UsersPage {
        nav: Nav::new(session),
        users: state.store.users().await?,
        invitations: state.store.pending_invitations().await?,
        invitation_link: None,
        error: None,
        invite_email: String::new(),
        invite_role: "member".into(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
    })
}

/// `GET /admin/users` (admins).
async fn users(State(state): State<AppState>, session: PageSession) -> PageResult {
    session.require_admin()?;
    Ok(render(StatusCode::OK, users_page(&state, &session).await?)?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UserForm {
    csrf: String,
    role: String,
    active: String,
}

/// `POST /admin/users/{id}`: a new role, or deactivation (`active=no`).
async fn change_user(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    session.require_admin()?;
    let input: UserForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let change = UserChange {
        role: Some(input.role.as_str())
            .filter(|r| !r.is_empty())
            .map(Role::parse)
            .transpose()?,
        active: match input.active.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
    };
    match state.store.change_user(id, change, session.actor()).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(moth_store::StoreError::Conflict { field, message }) => {
            let mut page = users_page(&state, &session).await?;
            page.error = Some((field.to_string(), message));
            Ok(render(StatusCode::CONFLICT, page)?)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

/// `POST /admin/invitations`: makes a link to send to the person; it is shown once.
async fn invite(State(state): State<AppState>, session: PageSession, body: Bytes) -> PageResult {
    session.require_admin()?;
    let input: InviteForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let parsed =
        Email::parse(&input.email).and_then(|email| Ok((email, Role::parse(&input.role)?)));
    let outcome = match parsed {
        Ok((email, role)) => {
            let (secret, hash) = new_secret("invite");
            let expires = time::OffsetDateTime::now_utc() + time::Duration::days(INVITATION_DAYS);
            state
                .store
                .create_invitation(&email, role, &hash, expires, session.actor())
                .await
                .map(|_| secret)
                .map_err(ApiError::from)
        }
        Err(e) => Err(e.into()),
    };
    let mut page = users_page(&state, &session).await?;
    match outcome {
        Ok(secret) => {
            page.invitation_link = Some(format!("{}/invite/{secret}", state.config.public_url));
            Ok(render(StatusCode::OK, page)?)
        }
        Err(error) => {
            let (status, _, message, field) = error.parts();
            if status.is_server_error() {
                return Err(error.into());
            }
            page.error = Some((field.unwrap_or_default(), message));
            page.invite_email = input.email;
            page.invite_role = input.role;
            Ok(render(status, page)?)
        }
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    email: String,
    role: &'static str,
    name: String,
    error: Option<String>,
}

/// `GET /invite/{token}`: the invited person chooses their name and password.
async fn invitation_form(State(state): State<AppState>, Path(token): Path<String>) -> PageResult {
    let invitation = state
        .store
        .invitation(&secret_hash(&token))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(
                "this invitation link was used already or has expired; ask an admin for a new one"
                    .into(),
            )
        })?;
    Ok(render(
        StatusCode::OK,
        InvitationPage {
            email: invitation.email,
            role: invitation.role.as_str(),
            name: String::new(),
            error: None,
        },
    )?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct AcceptForm {
    name: String,
    password: String,
}

/// `POST /invite/{token}`: creates the account and signs the person in.
async fn accept_invitation(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: Bytes,
) -> PageResult {
    let input: AcceptForm = form(&body)?;
    let hash = secret_hash(&token);
    let invitation = state.store.invitation(&hash).await?.ok_or_else(|| {
        ApiError::NotFound(
            "this invitation link was used already or has expired; ask an admin for a new one"
                .into(),
        )
    })?;
    let checked = Name::parse("name", &input.name)
        .and_then(|name| Ok((name, Password::parse(&input.password)?)));
    let (name, password) = match checked {
        Ok(ok) => ok,
        Err(e) => {
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                InvitationPage {
                    email: invitation.email,
                    role: invitation.role.as_str(),
                    name: input.name,
                    error: Some(e.message),
                },
            )?);
        }
    };
    let password_hash = hash_password(password.expose()).await?;
    let user = state
        .store
        .accept_invitation(&hash, name.as_str(), &password_hash)
        .await?;
    Ok(super::account::start_session(&state, user.id, "/").await?)
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    nav: Nav,
    tokens: Vec<ApiToken>,
    /// A token just made, shown once.
    created: Option<String>,
    error: Option<String>,
}

impl TokensPage {
    fn when(at: &Option<time::OffsetDateTime>) -> String {
        at.map(date).unwrap_or_else(|| "—".into())
    }
}

async fn tokens_page(
    state: &AppState,
    session: &PageSession,
) -> Result<TokensPage, super::PageError> {
    Ok(TokensPage {
        nav: Nav::new(session),
        tokens: state.store.api_tokens(session.user.id).await?,
        created: None,
        error: None,
    })
}

/// `GET /account/tokens`: the signed-in person's API tokens.
async fn tokens(State(state): State<AppState>, session: PageSession) -> PageResult {
    Ok(render(
        StatusCode::OK,
        tokens_page(&state, &session).await?,
    )?)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TokenForm {
    csrf: String,
    name: String,
}

/// `POST /account/tokens`: a new token, shown once.
async fn create_token(
    State(state): State<AppState>,
    session: PageSession,
    body: Bytes,
) -> PageResult {
    let input: TokenForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let mut page = tokens_page(&state, &session).await?;
    match Name::parse("name", &input.name) {
        Ok(name) => {
            let (secret, hash) = new_secret("moth");
            state
                .store
                .create_api_token(session.user.id, name.as_str(), &hash, None)
                .await?;
            page.tokens = state.store.api_tokens(session.user.id).await?;
            page.created = Some(secret);
            Ok(render(StatusCode::OK, page)?)
        }
        Err(e) => {
            page.error = Some(e.message);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, page)?)
        }
    }
}

/// `POST /account/tokens/{id}/revoke`.
async fn revoke_token(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<i64>,
    body: Bytes,
) -> PageResult {
    let input: TokenForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    state.store.revoke_api_token(session.user.id, id).await?;
    Ok(Redirect::to("/account/tokens").into_response())
}
