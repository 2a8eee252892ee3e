//! People: invitations by link, roles and deactivation (never the last admin), and each
//! person's API tokens page, over HTTP as a browser would use them.

mod common;

use common::TestApp;
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::json;

moth_store::conformance!(
    an_invitation_link_creates_the_account_once,
    admins_change_roles_and_deactivate_but_keep_one_admin,
    people_make_and_revoke_their_own_tokens,
);

struct Session<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Session<'a> {
    async fn of(app: &'a TestApp, email: &str) -> Session<'a> {
        let (name, secret) = app.session_cookie(email).await;
        let mut session = Session {
            app,
            cookie: format!("{name}={secret}"),
            csrf: String::new(),
        };
        let (_, html) = session.get("/").await;
        session.csrf = after(&html, "name=\"csrf\" value=\"");
        session
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self
            .app
            .request(reqwest::Method::GET, path, None)
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let r = self
            .app
            .request(reqwest::Method::POST, path, None)
            .header("cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }
}

fn after(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    html[start..].split(['"', '<']).next().unwrap().to_string()
}

async fn an_invitation_link_creates_the_account_once(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    let admin = Session::of(&app, "admin@example.com").await;
    let (status, page) = admin
        .post(
            "/admin/invitations",
            &[("email", "new@example.com"), ("role", "member")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let link = after(&page, "readonly>");
    assert!(link.starts_with(&format!("{}/invite/", app.base)), "{link}");
    let path = link.trim_start_matches(&app.base).to_string();
    let (status, _) = admin
        .post(
            "/admin/invitations",
            &[("email", "admin@example.com"), ("role", "viewer")],
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "someone with an account is not invited"
    );
    let (status, page) = admin
        .post(
            "/admin/invitations",
            &[("email", "not-an-email"), ("role", "viewer")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("value=\"not-an-email\""),
        "what was typed is kept"
    );

    let form = app
        .request(reqwest::Method::GET, &path, None)
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    assert!(form.text().await.unwrap().contains("new@example.com"));
    let short = app
        .request(reqwest::Method::POST, &path, None)
        .form(&[("name", "Nia"), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let joined = app
        .request(reqwest::Method::POST, &path, None)
        .form(&[("name", "Nia <b>"), ("password", "a long enough password")])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::SEE_OTHER);
    assert!(
        joined.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("moth_session=")
    );
    let user = app
        .store
        .user_credentials("new@example.com")
        .await
        .unwrap()
        .unwrap()
        .user;
    assert_eq!((user.role, user.name.as_str()), (Role::Member, "Nia <b>"));
    let again = app
        .request(reqwest::Method::POST, &path, None)
        .form(&[("name", "Eve"), ("password", "another long password")])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "a link works once");
    let (_, people) = admin.get("/admin/users").await;
    assert!(people.contains("Nia &#60;b&#62;"), "names are escaped");

    let member = Session::of(&app, "new@example.com").await;
    let (status, _) = member.get("/admin/users").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = member
        .post(
            "/admin/invitations",
            &[("email", "x@example.com"), ("role", "admin")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn admins_change_roles_and_deactivate_but_keep_one_admin(store: Store) {
    let app = TestApp::start(store).await;
    let admin_token = app.with_project().await;
    let member_token = app.token_for("member@example.com", Role::Member).await;
    let member_id = app
        .store
        .user_credentials("member@example.com")
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    let admin_id = app
        .store
        .user_credentials("admin@example.com")
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    let admin = Session::of(&app, "admin@example.com").await;
    let member_session = Session::of(&app, "member@example.com").await;

    let (status, _) = admin
        .post(&format!("/admin/users/{member_id}"), &[("role", "viewer")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = app
        .post(
            "/api/v1/projects/WEB/issues",
            &member_token,
            json!({"type": "bug", "title": "x"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the new role applies at once"
    );

    let (status, _) = admin
        .post(&format!("/admin/users/{member_id}"), &[("active", "no")])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = member_session.get("/projects/WEB").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "a deactivated person is signed out"
    );
    let (status, _) = app.get("/api/v1/me", &member_token).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "and their tokens stop working"
    );

    let (status, page) = admin
        .post(&format!("/admin/users/{admin_id}"), &[("role", "member")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("at least one active admin"), "{page}");
    let (status, body) = app
        .patch(
            &format!("/api/v1/users/{admin_id}"),
            &admin_token,
            json!({"active": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, body) = app
        .patch(
            &format!("/api/v1/users/{member_id}"),
            &admin_token,
            json!({"active": true, "role": "member"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["active"].as_bool(), body["role"].as_str()),
        (Some(true), Some("member"))
    );
    let (status, _) = app
        .patch(
            &format!("/api/v1/users/{admin_id}"),
            &member_token,
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .patch(
            "/api/v1/users/9999",
            &admin_token,
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .patch(
            &format!("/api/v1/users/{member_id}"),
            &admin_token,
            json!({"role": "owner"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn people_make_and_revoke_their_own_tokens(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    app.token_for("viewer@example.com", Role::Viewer).await;
    let viewer = Session::of(&app, "viewer@example.com").await;
    let (status, page) = viewer.post("/account/tokens", &[("name", "laptop")]).await;
    assert_eq!(status, StatusCode::OK);
    let token = after(&page, "readonly>");
    let (status, me) = app.get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "viewer@example.com");
    let (_, list) = viewer.get("/account/tokens").await;
    assert!(list.contains("laptop"));
    assert!(!list.contains(&token), "a token is shown once");
    let id = after(&list, "/account/tokens/")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let (status, _) = viewer
        .post(&format!("/account/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = app.get("/api/v1/me", &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = viewer.post("/account/tokens", &[("name", "   ")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
