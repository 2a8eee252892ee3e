//! Every bad input gets the contract's JSON error, says what to fix, and changes nothing.

mod common;

use common::{TestApp, error_of, small_limits};
use moth_core::Role;
use moth_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

moth_store::conformance!(
    malformed_bodies_are_refused,
    unknown_values_and_broken_rules_are_refused_with_the_field_named,
    titles_must_be_real_titles,
    unknown_projects_and_issues_are_not_found,
    hostile_text_is_stored_as_typed_and_escaped_when_shown,
);

async fn raw(
    app: &TestApp,
    token: &str,
    path: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let response = app
        .request(Method::POST, path, Some(token))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn malformed_bodies_are_refused(store: Store) {
    let app = TestApp::start_with(store, small_limits).await;
    let admin = app.with_project().await;
    let path = "/api/v1/projects/WEB/issues";
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "application/json",
        "{\"type\": \"bug\", \"title\": ",
    )
    .await;
    assert_eq!(
        error_of(status, &body, StatusCode::BAD_REQUEST)["code"],
        "malformed_request"
    );
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "text/plain",
        "{\"type\": \"bug\", \"title\": \"x\"}",
    )
    .await;
    assert!(
        error_of(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE)["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "application/x-www-form-urlencoded",
        "type=bug&title=x",
    )
    .await;
    error_of(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = format!(
        "{{\"type\": \"bug\", \"title\": \"x\", \"description\": \"{}\"}}",
        "a".repeat(100 * 1024)
    );
    let (status, body) = raw(&app, &admin, path, "application/json", huge).await;
    error_of(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    let (status, body) = raw(&app, &admin, path, "application/json", "[1, 2, 3]").await;
    error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "application/json",
        "{\"type\": \"bug\"}",
    )
    .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "title"
    );
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "application/json",
        "{\"type\": \"bug\", \"title\": \"x\", \"colour\": \"red\"}",
    )
    .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "colour"
    );
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "application/json",
        "{\"type\": \"bug\", \"title\": 42}",
    )
    .await;
    error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.issue_count("WEB").await, 0, "nothing was filed");
    let (status, body) = raw(
        &app,
        &admin,
        path,
        "application/json; charset=utf-8",
        "{\"type\": \"bug\", \"title\": \"ok\"}",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

async fn unknown_values_and_broken_rules_are_refused_with_the_field_named(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects",
        &admin,
        json!({"key": "API", "name": "API"}),
    )
    .await;
    app.post(
        "/api/v1/projects/API/issues",
        &admin,
        json!({"type": "bug", "title": "Elsewhere"}),
    )
    .await;
    let path = "/api/v1/projects/WEB/issues";
    let cases = [
        (json!({"type": "defect", "title": "x"}), "type"),
        (
            json!({"type": "bug", "title": "x", "severity": "blocker"}),
            "severity",
        ),
        (
            json!({"type": "bug", "title": "x", "priority": "asap"}),
            "priority",
        ),
        (
            json!({"type": "feature", "title": "x", "severity": "major"}),
            "severity",
        ),
        (
            json!({"type": "bug", "title": "x", "affects_version": "latest"}),
            "affects_version",
        ),
        (
            json!({"type": "bug", "title": "x", "assignee": "nobody@example.com"}),
            "assignee",
        ),
        (
            json!({"type": "bug", "title": "x", "labels": ["a,b"]}),
            "labels",
        ),
    ];
    for (body, field) in cases {
        let (status, answer) = app.post(path, &admin, body.clone()).await;
        assert_eq!(
            error_of(status, &answer, StatusCode::UNPROCESSABLE_ENTITY)["field"],
            field,
            "{body}"
        );
    }
    let (_, feature_error) = app
        .post(
            path,
            &admin,
            json!({"type": "feature", "title": "x", "severity": "major"}),
        )
        .await;
    assert_eq!(
        feature_error["error"]["message"],
        "severity applies to bugs and performance issues only"
    );
    assert_eq!(
        app.issue_count("WEB").await,
        0,
        "no refused issue used a number"
    );

    app.post(
        path,
        &admin,
        json!({"type": "bug", "title": "Original", "priority": "high"}),
    )
    .await;
    let before = app.get("/api/v1/issues/WEB-1", &admin).await.1;
    let changes = [
        (json!({"status": "resolved"}), "resolution"),
        (
            json!({"status": "closed", "resolution": "works"}),
            "resolution",
        ),
        (json!({"status": "flying"}), "status"),
        (
            json!({"status": "resolved", "resolution": "duplicate"}),
            "duplicate_of",
        ),
        (
            json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-1"}),
            "duplicate_of",
        ),
        (
            json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "API-1"}),
            "duplicate_of",
        ),
        (
            json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-77"}),
            "duplicate_of",
        ),
        (json!({"title": "Changed", "type": "feature"}), "severity"),
        (
            json!({"priority": "high", "resolution": "fixed"}),
            "resolution",
        ),
        (json!({"fixed_in_version": "soon"}), "fixed_in_version"),
    ];
    app.patch("/api/v1/issues/WEB-1", &admin, json!({"severity": "major"}))
        .await;
    let before_severity = app.get("/api/v1/issues/WEB-1", &admin).await.1;
    for (body, field) in changes {
        let (status, answer) = app
            .patch("/api/v1/issues/WEB-1", &admin, body.clone())
            .await;
        assert_eq!(
            error_of(status, &answer, StatusCode::UNPROCESSABLE_ENTITY)["field"],
            field,
            "{body}"
        );
    }
    let after = app.get("/api/v1/issues/WEB-1", &admin).await.1;
    assert_eq!(after, before_severity, "refused changes changed nothing");
    assert_eq!(before["title"], after["title"]);
    let (status, answer) = app.patch("/api/v1/issues/WEB-1", &admin, json!({})).await;
    error_of(status, &answer, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn titles_must_be_real_titles(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let path = "/api/v1/projects/WEB/issues";
    for title in ["", "   \t  ", &"x".repeat(301)] {
        let (status, body) = app
            .post(path, &admin, json!({"type": "bug", "title": title}))
            .await;
        assert_eq!(
            error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
            "title"
        );
    }
    let ten_mb = "x".repeat(10 * 1024 * 1024);
    let (status, body) = app
        .post(path, &admin, json!({"type": "bug", "title": ten_mb}))
        .await;
    error_of(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    app.post(path, &admin, json!({"type": "bug", "title": "Kept"}))
        .await;
    let (status, body) = app
        .patch("/api/v1/issues/WEB-1", &admin, json!({"title": "  "}))
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "title"
    );
    assert_eq!(
        app.get("/api/v1/issues/WEB-1", &admin).await.1["title"],
        "Kept"
    );
    assert_eq!(app.issue_count("WEB").await, 1);
}

async fn unknown_projects_and_issues_are_not_found(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let member = app.token_for("dev@example.com", Role::Member).await;
    for path in [
        "/api/v1/projects/NOPE",
        "/api/v1/projects/NOPE/issues",
        "/api/v1/issues/WEB-9",
        "/api/v1/issues/nonsense",
        "/api/v1/issues/WEB-9/activity",
        "/api/v1/issues/WEB-9/comments",
    ] {
        let (status, body) = app.get(path, &admin).await;
        error_of(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = app
        .post(
            "/api/v1/projects/NOPE/issues",
            &member,
            json!({"type": "bug", "title": "x"}),
        )
        .await;
    error_of(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .patch("/api/v1/issues/WEB-9", &member, json!({"title": "x"}))
        .await;
    error_of(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            "/api/v1/issues/WEB-9/comments",
            &member,
            json!({"body": "x"}),
        )
        .await;
    error_of(status, &body, StatusCode::NOT_FOUND);
}

async fn hostile_text_is_stored_as_typed_and_escaped_when_shown(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let hostile = "<script>alert('x')</script>\"'; drop table issues; --";
    let fields = [
        "description",
        "steps_to_reproduce",
        "expected",
        "actual",
        "environment",
    ];
    let mut body = json!({"type": "bug", "title": hostile, "labels": [hostile.replace(',', "")]});
    for field in fields {
        body[field] = json!(hostile);
    }
    let (status, created) = app.post("/api/v1/projects/WEB/issues", &admin, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["title"], hostile);
    for field in fields {
        assert_eq!(issue[field], hostile, "{field} stored as typed");
    }
    let (status, _) = app
        .patch("/api/v1/projects/WEB", &admin, json!({"name": hostile}))
        .await;
    assert_eq!(status, StatusCode::OK);
    // A person signs in and sees the project name escaped on the home page.
    app.store
        .create_user(moth_store::NewUser {
            email: "person@example.com".into(),
            name: "Person".into(),
            role: Role::Viewer,
            password_hash: Some(
                moth_server::auth::hash_password("correct horse battery")
                    .await
                    .unwrap(),
            ),
        })
        .await
        .unwrap();
    let login = app
        .client
        .post(format!("{}/login", app.base))
        .form(&[
            ("email", "person@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let html = app
        .client
        .get(format!("{}/", app.base))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(
        html.contains("alert(&#39;x&#39;)") || html.contains("alert(&#x27;x&#x27;)"),
        "{html}"
    );
    assert_eq!(app.issue_count("WEB").await, 1, "the table survived");
}
