//! First run, sign in and out, and the home page.

use super::session::PageSession;
use super::{MessagePage, Nav, form, render};
use crate::api::accounts::parse_new_user;
use crate::auth::{SESSION_COOKIE, new_secret, secret_hash, verify_password};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use moth_core::Project;
use serde::Deserialize;
use std::net::SocketAddr;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    error: Option<String>,
    name: String,
    email: String,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    error: Option<String>,
    email: String,
    next: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    nav: Nav,
    projects: Vec<Project>,
}

/// `GET /`: the first-run form while nobody has an account, else the home page.
pub async fn home(State(state): State<AppState>, mut parts: Parts) -> ApiResult<Response> {
    if state.store.count_users().await? == 0 {
        return render(
            StatusCode::OK,
            SetupPage {
                error: None,
                name: String::new(),
                email: String::new(),
            },
        );
    }
    let session = match PageSession::from_request_parts(&mut parts, &state).await {
        Ok(session) => session,
        Err(redirect_or_error) => return Ok(redirect_or_error),
    };
    let projects = state.store.projects().await?;
    render(
        StatusCode::OK,
        HomePage {
            nav: Nav::new(&session),
            projects,
        },
    )
}

#[derive(Deserialize)]
struct SetupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    /// Where to go after signing in: a path on this server.
    #[serde(default)]
    next: String,
}

/// Only a path on this server: never another site (`//evil.example`, `/\\evil`).
fn local_path(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    if ok { next } else { "/" }
}

/// The sign-in page's query: where to go afterwards.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    pub next: String,
}

/// `POST /setup`: creates the first admin and signs them in; refused once anyone exists.
pub async fn setup(State(state): State<AppState>, body: Bytes) -> ApiResult<Response> {
    let input: SetupForm = form(&body)?;
    if state.store.count_users().await? > 0 {
        return render(
            StatusCode::CONFLICT,
            MessagePage {
                heading: "Already set up".into(),
                message: "Moth already has an administrator. Sign in instead.".into(),
            },
        );
    }
    let again = |error: String| SetupPage {
        error: Some(error),
        name: input.name.clone(),
        email: input.email.clone(),
    };
    let new = match parse_new_user(&input.email, &input.name, "admin", &input.password).await {
        Ok(new) => new,
        Err(ApiError::Invalid { message, .. }) => {
            return render(StatusCode::UNPROCESSABLE_ENTITY, again(message));
        }
        Err(other) => return Err(other),
    };
    let admin = match state.store.create_first_admin(new).await {
        Ok(admin) => admin,
        Err(moth_store::StoreError::Conflict { message, .. }) => {
            return render(StatusCode::CONFLICT, again(message));
        }
        Err(other) => return Err(other.into()),
    };
    tracing::info!(email = %admin.email, "first admin created");
    start_session(&state, admin.id, "/").await
}

/// Creates a session and answers with its cookie and a redirect.
pub(crate) async fn start_session(state: &AppState, user_id: i64, to: &str) -> ApiResult<Response> {
    let (secret, hash) = new_secret("session");
    let days = state.config.session_days;
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(days);
    state.store.create_session(user_id, &hash, expires).await?;
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        days * 86_400
    );
    let mut response = Redirect::to(to).into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::Internal(e.into()))?,
    );
    Ok(response)
}

/// The sign-in page.
#[utoipa::path(get, path = "/login", tag = "pages", responses((status = 200, description = "the sign-in form", content_type = "text/html")))]
pub async fn login_form(
    State(state): State<AppState>,
    axum::extract::Query(query): axum::extract::Query<LoginQuery>,
) -> ApiResult<Response> {
    if state.store.count_users().await? == 0 {
        return Ok(Redirect::to("/").into_response());
    }
    render(
        StatusCode::OK,
        LoginPage {
            error: None,
            email: String::new(),
            next: local_path(&query.next).to_string(),
        },
    )
}

/// Signs in with the form fields `email` and `password`; sets the session cookie and redirects.
#[utoipa::path(post, path = "/login", tag = "pages",
    request_body(content_type = "application/x-www-form-urlencoded", description = "fields email and password"),
    responses((status = 303, description = "signed in; the session cookie is set"), (status = 401, description = "wrong e-mail or password"), (status = 429, description = "too many failed attempts")))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> ApiResult<Response> {
    let input: LoginForm = form(&body)?;
    let addr = Some(peer.ip());
    if let Some(wait) = state.login_throttle.wait(&input.email, addr) {
        let minutes = match wait.as_secs().div_ceil(60) {
            1 => "a minute".to_string(),
            n => format!("{n} minutes"),
        };
        let mut response = render(
            StatusCode::TOO_MANY_REQUESTS,
            LoginPage {
                error: Some(format!("Too many failed attempts. Try again in {minutes}.")),
                email: input.email.clone(),
                next: local_path(&input.next).to_string(),
            },
        )?;
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(response);
    }
    let email = input.email.trim().to_lowercase();
    let credentials = state.store.user_credentials(&email).await?;
    let verified = match credentials
        .as_ref()
        .and_then(|c| c.password_hash.as_deref())
    {
        Some(hash) => verify_password(hash, &input.password).await,
        None => {
            // Spend the same time as a real check, so timing does not reveal which e-mails exist.
            let _ = verify_password("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$KD0BZDXBUyd9jX7J0y3Vw3i/nWqF+qjdpXUkyv3Bx3Q", &input.password).await;
            false
        }
    };
    match credentials {
        Some(c) if verified && c.user.active => {
            state.login_throttle.record_success(&email);
            start_session(&state, c.user.id, local_path(&input.next)).await
        }
        _ => {
            state.login_throttle.record_failure(&email, addr);
            render(
                StatusCode::UNAUTHORIZED,
                LoginPage {
                    error: Some("Wrong e-mail or password.".into()),
                    next: local_path(&input.next).to_string(),
                    email: input.email,
                },
            )
        }
    }
}

/// Signs out: ends the session and clears its cookie.
#[utoipa::path(post, path = "/logout", tag = "pages", responses((status = 303, description = "signed out")))]
pub async fn logout(State(state): State<AppState>, parts: Parts) -> ApiResult<Response> {
    if let Some(secret) = crate::auth::cookie(&parts, SESSION_COOKIE) {
        state.store.delete_session(&secret_hash(secret)).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    *response.status_mut() = StatusCode::SEE_OTHER;
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("moth_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    Ok(response)
}
