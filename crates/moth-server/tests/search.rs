//! `GET /api/v1/search` and the query language in project lists, over HTTP on SQLite and
//! PostgreSQL.

mod common;

use common::{TestApp, error_of};
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

moth_store::conformance!(
    search_finds_ranks_and_highlights_across_projects,
    malformed_queries_are_400_with_position_and_hint,
    hostile_queries_never_fail,
    search_pages_and_parameters,
    project_lists_take_the_query_language,
);

fn url(path: &str, params: &[(&str, &str)]) -> String {
    format!("{path}?{}", serde_urlencoded::to_string(params).unwrap())
}

async fn search(app: &TestApp, token: &str, q: &str) -> (StatusCode, Value) {
    app.get(&url("/api/v1/search", &[("q", q)]), token).await
}

fn ids(body: &Value) -> BTreeSet<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

fn set(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Projects WEB and API with a few issues; returns the admin's token.
async fn tracker(app: &TestApp) -> String {
    let admin = app.with_project().await;
    let (status, body) = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"key": "API", "name": "API"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for (key, issue) in [
        (
            "WEB",
            json!({"type": "bug", "title": "Payment crashes on checkout", "severity": "critical", "labels": ["checkout"]}),
        ),
        (
            "WEB",
            json!({"type": "bug", "title": "Cart empties", "description": "after a crash of the <b>cart</b> service", "labels": ["flaky"]}),
        ),
        (
            "WEB",
            json!({"type": "feature", "title": "Dark mode", "assignee": "admin@example.com"}),
        ),
        (
            "API",
            json!({"type": "bug", "title": "Timeout in payments gateway", "steps_to_reproduce": "call /pay twice"}),
        ),
    ] {
        let (status, body) = app
            .post(&format!("/api/v1/projects/{key}/issues"), &admin, issue)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app
        .post(
            "/api/v1/issues/API-1/comments",
            &admin,
            json!({"body": "Happens when the **upstream** wobbles"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    admin
}

async fn search_finds_ranks_and_highlights_across_projects(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;

    let (status, body) = search(&app, &viewer, "crash").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), set(&["WEB-1", "WEB-2"]));
    // The title match ranks first, and both carry marked, escaped highlights.
    assert_eq!(body["items"][0]["id"], "WEB-1");
    assert_eq!(
        body["items"][0]["highlight"]["title"],
        "Payment <mark>crashes</mark> on checkout"
    );
    let snippet = body["items"][1]["highlight"]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<mark>crash</mark>"), "{snippet}");
    // Escaped on SQLite; PostgreSQL's headline drops markup-like tags altogether.
    assert!(
        !snippet.contains("<b>") && snippet.contains("cart"),
        "{snippet}"
    );
    assert!(
        body["items"][0]["url"]
            .as_str()
            .unwrap()
            .ends_with("/WEB-1")
    );
    assert!(body["next_cursor"].is_null());

    let (_, body) = search(&app, &viewer, "pay*").await;
    assert_eq!(ids(&body), set(&["WEB-1", "API-1"]));
    let (_, body) = search(&app, &viewer, "wobbles").await;
    assert_eq!(ids(&body), set(&["API-1"]), "comments are searched");
    let (_, body) = search(&app, &viewer, "crash -label:flaky").await;
    assert_eq!(ids(&body), set(&["WEB-1"]));
    let (_, body) = search(&app, &viewer, "type:bug project:API").await;
    assert_eq!(ids(&body), set(&["API-1"]));
    let (_, body) = search(&app, &admin, "assignee:me").await;
    assert_eq!(ids(&body), set(&["WEB-3"]));
    let (_, body) = search(&app, &viewer, "assignee:me").await;
    assert!(ids(&body).is_empty());
    let (_, body) = search(&app, &viewer, "").await;
    assert_eq!(ids(&body).len(), 4, "an empty query lists everything");

    let (status, body) = app.get("/api/v1/openapi.json", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["paths"]["/api/v1/search"]["get"].is_object());
}

async fn malformed_queries_are_400_with_position_and_hint(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    let (status, body) = search(&app, &admin, "sevrity:critical").await;
    let error = error_of(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(error["code"], "malformed_query");
    assert_eq!(
        error["message"],
        "unknown field 'sevrity' at 1, did you mean 'severity'?"
    );
    assert_eq!(error["position"], 1);
    assert_eq!(error["hint"], "did you mean 'severity'?");
    assert_eq!(error["field"], "q");
    for (q, position) in [
        ("type:bug status:opne", 17),
        ("fixed:>=two", 9),
        ("updated:<7 days", 10),
        ("is:", 4),
        ("crash http://x", 7),
    ] {
        let (status, body) = search(&app, &admin, q).await;
        let error = error_of(status, &body, StatusCode::BAD_REQUEST);
        assert_eq!(error["position"], position, "{q}: {body}");
        assert!(error["hint"].is_string(), "{q}: {body}");
    }
    // The same on a project list, before any other check.
    let (status, body) = app
        .get(
            &url("/api/v1/projects/WEB/issues", &[("q", "stauts:open")]),
            &admin,
        )
        .await;
    let error = error_of(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(error["hint"], "did you mean 'status'?");
}

async fn hostile_queries_never_fail(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    for q in [
        "\"",
        "\"unbalanced",
        "*",
        "NEAR(crash",
        "crash AND (OR NOT",
        "')); drop table issues; --",
        "{title}: crash",
        "crash^ ~ :* & | !",
        "\u{0}\u{2}",
        "-",
        "%",
    ] {
        for path in ["/api/v1/search", "/api/v1/projects/WEB/issues"] {
            let (status, body) = app.get(&url(path, &[("q", q)]), &admin).await;
            assert!(
                status == StatusCode::OK || status == StatusCode::BAD_REQUEST,
                "{path} {q:?}: {status} {body}"
            );
            if status == StatusCode::BAD_REQUEST {
                assert!(body["error"]["position"].is_number(), "{q:?}: {body}");
            }
        }
    }
    assert_eq!(app.issue_count("WEB").await, 3);
}

async fn search_pages_and_parameters(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    for q in ["crash", "type:bug"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("q", q), ("limit", "1")];
            if let Some(c) = &cursor {
                params.push(("cursor", c));
            }
            let (status, body) = app.get(&url("/api/v1/search", &params), &admin).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            seen.extend(ids(&body));
            match body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let unique: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!(seen.len(), unique.len(), "{q}: {seen:?}");
        assert!(!seen.is_empty());
    }
    let (status, body) = app
        .get(
            &url("/api/v1/search", &[("q", "crash"), ("cursor", "nonsense")]),
            &admin,
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "cursor"
    );
    let (status, body) = app
        .get(
            &url("/api/v1/search", &[("q", "crash"), ("limit", "0")]),
            &admin,
        )
        .await;
    error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = app
        .get(&url("/api/v1/search", &[("query", "crash")]), &admin)
        .await;
    error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = app
        .request(reqwest::Method::GET, "/api/v1/search?q=crash", None)
        .send()
        .await
        .map(|r| (r.status(), ()))
        .unwrap();
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn project_lists_take_the_query_language(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    let list = |params: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let (status, body) = app
                .get(&url("/api/v1/projects/WEB/issues", &params), &admin)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            ids(&body)
        }
    };
    assert_eq!(list(vec![("q", "crash")]).await, set(&["WEB-1", "WEB-2"]));
    assert_eq!(
        list(vec![("q", "crash severity:critical")]).await,
        set(&["WEB-1"])
    );
    // The filter parameters still work, together with q.
    assert_eq!(
        list(vec![("q", "crash"), ("label", "flaky")]).await,
        set(&["WEB-2"])
    );
    assert_eq!(
        list(vec![("q", "assignee:me type:feature")]).await,
        set(&["WEB-3"])
    );
    assert_eq!(
        list(vec![("q", "pay*")]).await,
        set(&["WEB-1"]),
        "only this project"
    );
}
