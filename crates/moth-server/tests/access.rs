//! Accounts and access: first run, sign-in, sessions, tokens, throttling and the role matrix.

mod common;

use common::{TestApp, error_of};
use moth_core::Role;
use moth_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::json;

moth_store::conformance!(
    first_run_creates_the_admin_and_nothing_else_is_reachable,
    sign_in_sets_a_session_cookie_and_sign_out_ends_it,
    sessions_are_secure_cookies_behind_https,
    repeated_wrong_passwords_are_throttled,
    tokens_are_shown_once_and_revocable,
    every_endpoint_enforces_roles,
);

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("moth_session=") && !v.starts_with("moth_session=;"))
        .map(str::to_string)
}

async fn first_run_creates_the_admin_and_nothing_else_is_reachable(store: Store) {
    let app = TestApp::start(store).await;
    let page = app
        .client
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("action=\"/setup\"") && html.contains("name=\"email\""),
        "{html}"
    );
    let login = app
        .client
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        login.status().is_redirection(),
        "sign-in waits for the first admin"
    );
    assert_eq!(login.headers()["location"], "/");
    let api = app
        .client
        .get(format!("{}/api/v1/projects", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

    let weak = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&[
            ("name", "Root"),
            ("email", "root@example.com"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        weak.text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    assert_eq!(
        app.store.count_users().await.unwrap(),
        0,
        "a refused form creates nobody"
    );

    let form = [
        ("name", "<b>Root</b>"),
        ("email", "root@example.com"),
        ("password", "correct horse battery"),
    ];
    let created = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&created).expect("signed in after setup");
    let home = app
        .client
        .get(format!("{}/", app.base))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    let html = home.text().await.unwrap();
    assert!(!html.contains("<b>Root</b>"), "names are escaped: {html}");
    assert!(
        html.contains("&#60;b&#62;Root") || html.contains("&lt;b&gt;Root"),
        "the name is shown as typed: {html}"
    );
    let again = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&[
            ("name", "Eve"),
            ("email", "eve@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(app.store.count_users().await.unwrap(), 1);
    assert_eq!(
        app.store
            .user_credentials("root@example.com")
            .await
            .unwrap()
            .unwrap()
            .user
            .role,
        Role::Admin
    );
}

async fn sign_in_sets_a_session_cookie_and_sign_out_ends_it(store: Store) {
    let app = TestApp::start(store).await;
    let form = [
        ("name", "Root"),
        ("email", "root@example.com"),
        ("password", "correct horse battery"),
    ];
    app.client
        .post(format!("{}/setup", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    let wrong = app
        .client
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", "root@example.com"),
            ("password", "wrong password!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(session_cookie(&wrong).is_none());
    let right = app
        .client
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", "ROOT@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), StatusCode::SEE_OTHER);
    let cookie = session_cookie(&right).unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let pair = cookie.split(';').next().unwrap().to_string();
    let me: serde_json::Value = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "root@example.com");
    let out = app
        .client
        .post(format!("{}/logout", app.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = app
        .client
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(
        after.status(),
        StatusCode::UNAUTHORIZED,
        "the session ended on the server"
    );
}

async fn sessions_are_secure_cookies_behind_https(store: Store) {
    let app = TestApp::start_with(store, |config| {
        config.public_url = "https://moth.example.com".into()
    })
    .await;
    let form = [
        ("name", "Root"),
        ("email", "root@example.com"),
        ("password", "correct horse battery"),
    ];
    let created = app
        .client
        .post(format!("{}/setup", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(session_cookie(&created).unwrap().contains("; Secure"));
}

async fn repeated_wrong_passwords_are_throttled(store: Store) {
    let app = TestApp::start(store).await;
    let form = [
        ("name", "Root"),
        ("email", "root@example.com"),
        ("password", "correct horse battery"),
    ];
    app.client
        .post(format!("{}/setup", app.base))
        .form(&form)
        .send()
        .await
        .unwrap();
    for _ in 0..5 {
        let wrong = app
            .client
            .post(format!("{}/login", app.base))
            .form(&[
                ("email", "root@example.com"),
                ("password", "guess guess guess"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let blocked = app
        .client
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", "root@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        blocked.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
    assert!(
        session_cookie(&blocked).is_none(),
        "even the right password waits"
    );
}

async fn tokens_are_shown_once_and_revocable(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (status, created) = app
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_string();
    assert!(created["expires_at"].is_string());
    let (status, _) = app.get("/api/v1/projects", &token).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = app.get("/api/v1/tokens", &admin).await;
    assert!(
        !list.to_string().contains(&token),
        "listed tokens never show their secret"
    );
    let id = created["id"].as_i64().unwrap();
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/v1/projects", &token).await;
    assert!(
        error_of(status, &body, StatusCode::UNAUTHORIZED)["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
    let (status, body) = app.get("/api/v1/projects", "moth_not-a-real-token").await;
    error_of(status, &body, StatusCode::UNAUTHORIZED);
    let missing = app
        .request(Method::GET, "/api/v1/projects", None)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let basic = app
        .request(Method::GET, "/api/v1/projects", None)
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    let me = app
        .store
        .user_credentials("admin@example.com")
        .await
        .unwrap()
        .unwrap()
        .user;
    let (expired, hash) = moth_server::auth::new_secret("moth");
    let yesterday = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    app.store
        .create_api_token(me.id, "old", &hash, Some(yesterday))
        .await
        .unwrap();
    let (status, body) = app.get("/api/v1/projects", &expired).await;
    assert!(
        error_of(status, &body, StatusCode::UNAUTHORIZED)["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let (status, body) = app
        .post(
            "/api/v1/tokens",
            &admin,
            json!({"name": "x", "expires_in_days": 0}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "expires_in_days"
    );
}

/// One endpoint and the status each role gets: (method, path, body, admin, member, viewer).
type MatrixRow = (
    Method,
    &'static str,
    Option<serde_json::Value>,
    u16,
    u16,
    u16,
);

/// Role x endpoint x expected status: what each role may do, and that the others may not.
async fn every_endpoint_enforces_roles(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let member = app.token_for("member@example.com", Role::Member).await;
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Seed"}),
    )
    .await;
    const OK: u16 = 200;
    const CREATED: u16 = 201;
    const FORBIDDEN: u16 = 403;
    const NO_CONTENT: u16 = 204;
    const NOT_FOUND: u16 = 404;
    const CONFLICT: u16 = 409;
    // (method, path, body, admin, member, viewer); anonymous is always 401.
    let matrix: Vec<MatrixRow> = vec![
        (Method::GET, "/api/v1/projects", None, OK, OK, OK),
        (Method::GET, "/api/v1/projects/WEB", None, OK, OK, OK),
        (Method::GET, "/api/v1/projects/WEB/issues", None, OK, OK, OK),
        (Method::GET, "/api/v1/issues/WEB-1", None, OK, OK, OK),
        (
            Method::GET,
            "/api/v1/issues/WEB-1/comments",
            None,
            OK,
            OK,
            OK,
        ),
        (
            Method::GET,
            "/api/v1/issues/WEB-1/activity",
            None,
            OK,
            OK,
            OK,
        ),
        (
            Method::GET,
            "/api/v1/issues/WEB-1/attachments",
            None,
            OK,
            OK,
            OK,
        ),
        (Method::GET, "/api/v1/issues/WEB-1/links", None, OK, OK, OK),
        (Method::GET, "/api/v1/me", None, OK, OK, OK),
        (Method::GET, "/api/v1/tokens", None, OK, OK, OK),
        (
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "mine"})),
            CREATED,
            CREATED,
            CREATED,
        ),
        (
            Method::POST,
            "/api/v1/projects/WEB/issues",
            Some(json!({"type": "task", "title": "T"})),
            CREATED,
            CREATED,
            FORBIDDEN,
        ),
        (
            Method::PATCH,
            "/api/v1/issues/WEB-1",
            Some(json!({"priority": "high"})),
            OK,
            OK,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/issues/WEB-1/comments",
            Some(json!({"body": "hi"})),
            CREATED,
            CREATED,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/issues/WEB-1/links",
            Some(json!({"kind": "relates_to", "target": "WEB-2"})),
            // The admin's turn comes after the member's: allowed, but the link exists already.
            CONFLICT,
            CREATED,
            FORBIDDEN,
        ),
        (
            Method::DELETE,
            "/api/v1/issues/WEB-2/links/relates_to/WEB-1",
            None,
            // Allowed, but the member removed it already.
            NOT_FOUND,
            NO_CONTENT,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/projects",
            Some(json!({"key": "NEWP", "name": "New"})),
            CREATED,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::PATCH,
            "/api/v1/projects/WEB",
            Some(json!({"name": "Renamed"})),
            OK,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (
            Method::POST,
            "/api/v1/projects/WEB/intake-key",
            Some(json!({})),
            OK,
            FORBIDDEN,
            FORBIDDEN,
        ),
        (Method::GET, "/api/v1/users", None, OK, FORBIDDEN, FORBIDDEN),
        (
            Method::POST,
            "/api/v1/users",
            Some(
                json!({"email": "new@example.com", "name": "New", "role": "viewer", "password": "long enough pw"}),
            ),
            CREATED,
            FORBIDDEN,
            FORBIDDEN,
        ),
    ];
    for (method, path, body, for_admin, for_member, for_viewer) in matrix {
        // Members and viewers go first so the admin's creations do not collide with theirs.
        for (who, token, expected) in [
            ("viewer", &viewer, for_viewer),
            ("member", &member, for_member),
            ("admin", &admin, for_admin),
        ] {
            let (status, answer) = app.send(method.clone(), path, token, body.clone()).await;
            assert_eq!(status.as_u16(), expected, "{who} {method} {path}: {answer}");
            if expected == FORBIDDEN {
                assert_eq!(answer["error"]["code"], "forbidden");
            }
        }
        let mut anonymous = app.request(method.clone(), path, None);
        if let Some(body) = &body {
            anonymous = anonymous.json(body);
        }
        assert_eq!(
            anonymous.send().await.unwrap().status(),
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
    }
    assert_eq!(
        app.issue_count("WEB").await,
        3,
        "the viewer's refused issue was not filed"
    );
}
