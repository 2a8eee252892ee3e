//! The API of CONTRACT.md over real HTTP, on SQLite and PostgreSQL.

mod common;

use common::{TestApp, error_of, small_limits};
use moth_core::Role;
use moth_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::collections::HashSet;

moth_store::conformance!(
    projects_are_created_listed_and_configured,
    an_issue_goes_through_its_life,
    lists_filter_sort_and_page,
    comments_and_history,
    people_watch_issues,
    attachments_upload_and_download_with_their_type,
    numbers_stay_unique_when_clients_create_at_once,
    operations_endpoints_answer,
);

async fn projects_are_created_listed_and_configured(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (status, body) = app.get("/api/v1/projects", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["items"][0]["key"], "WEB");
    let intake_key = body["items"][0]["intake_key"].as_str().unwrap().to_string();
    assert!(intake_key.starts_with("intake_"));
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"allowed_origins": ["https://Shop.example.com/"], "components": ["checkout", "search"], "versions": ["2.10.0", "2.9.1", "2.3.0-beta.1"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["allowed_origins"], json!(["https://shop.example.com"]));
    assert_eq!(
        body["versions"],
        json!(["2.3.0-beta.1", "2.9.1", "2.10.0"]),
        "versions kept in release order"
    );
    let (status, body) = app
        .post("/api/v1/projects/WEB/intake-key", &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(body["intake_key"].as_str().unwrap(), intake_key);
    assert!(
        app.store
            .project_by_intake_key(&intake_key)
            .await
            .unwrap()
            .is_none(),
        "the old key stops working"
    );
    let (status, body) = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"key": "WEB", "name": "Again"}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::CONFLICT)["field"],
        "key"
    );
    let (status, body) = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"key": "web-1", "name": "Bad"}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "key"
    );
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"allowed_origins": ["shop.example.com/path"]}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "allowed_origins"
    );
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"versions": ["latest"]}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "versions"
    );
    let (status, body) = app.get("/api/v1/projects/NOPE", &admin).await;
    error_of(status, &body, StatusCode::NOT_FOUND);
}

async fn an_issue_goes_through_its_life(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let member = app.token_for("dev@example.com", Role::Member).await;
    let (status, issue) = app
        .post(
            "/api/v1/projects/WEB/issues",
            &member,
            json!({
                "type": "bug", "title": "Checkout button does nothing", "severity": "major", "priority": "high",
                "description": "Clicked Pay, nothing happened", "steps_to_reproduce": "1. Open /checkout\n2. Click Pay",
                "expected": "Payment page", "actual": "Nothing", "environment": "Chrome 131 on Windows 11",
                "labels": ["checkout"], "affects_version": "2.3.0", "assignee": "dev@example.com"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issue}");
    for field in [
        "id",
        "number",
        "project",
        "type",
        "title",
        "description",
        "status",
        "resolution",
        "severity",
        "priority",
        "reporter",
        "assignee",
        "labels",
        "component",
        "affects_version",
        "fixed_in_version",
        "regression",
        "reopen_count",
        "duplicate_of",
        "duplicate_count",
        "created_at",
        "updated_at",
        "resolved_at",
        "url",
    ] {
        assert!(
            issue.get(field).is_some(),
            "the issue carries {field}: {issue}"
        );
    }
    assert_eq!(issue["id"], "WEB-1");
    assert_eq!(issue["status"], "new");
    assert_eq!(issue["reporter"]["email"], "dev@example.com");
    assert_eq!(issue["assignee"]["email"], "dev@example.com");
    assert_eq!(issue["url"], format!("{}/issues/WEB-1", app.base));
    assert!(
        time::OffsetDateTime::parse(
            issue["created_at"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    let (status, got) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, issue, "the answer at creation is what is stored");
    assert_eq!(got["steps_to_reproduce"], "1. Open /checkout\n2. Click Pay");
    assert_eq!(got["attachments"], json!([]));

    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-1",
            &member,
            json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("in_progress"))
    );
    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-1",
            &member,
            json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": "2.3.1"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (
            body["resolution"].as_str(),
            body["fixed_in_version"].as_str()
        ),
        (Some("fixed"), Some("2.3.1"))
    );
    assert!(body["resolved_at"].is_string());
    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-1",
            &member,
            json!({"status": "triaged"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["resolution"].clone(), body["reopen_count"].clone()),
        (json!(null), json!(1))
    );
    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-1",
            &member,
            json!({"assignee": null, "labels": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (body["assignee"].clone(), body["labels"].clone()),
        (json!(null), json!([]))
    );

    app.post(
        "/api/v1/projects/WEB/issues",
        &member,
        json!({"type": "bug", "title": "Same thing again"}),
    )
    .await;
    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-2",
            &member,
            json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-1"}),
        )
        .await;
    assert_eq!(
        (status, body["duplicate_of"].as_str()),
        (StatusCode::OK, Some("WEB-1"))
    );
    assert_eq!(
        app.get("/api/v1/issues/WEB-1", &admin).await.1["duplicate_count"],
        1
    );
}

async fn lists_filter_sort_and_page(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let specs = [
        ("bug", Some("critical"), "low"),
        ("bug", Some("major"), "urgent"),
        ("bug", Some("minor"), "high"),
        ("feature", None, "high"),
        ("performance", Some("major"), "medium"),
        ("task", None, "none"),
    ];
    for (n, (issue_type, severity, priority)) in specs.iter().enumerate() {
        let mut body =
            json!({"type": issue_type, "title": format!("Issue {n}"), "priority": priority});
        if let Some(severity) = severity {
            body["severity"] = json!(severity);
        }
        assert_eq!(
            app.post("/api/v1/projects/WEB/issues", &admin, body)
                .await
                .0,
            StatusCode::CREATED
        );
    }
    let ids = |body: &serde_json::Value| {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let (status, body) = app
        .get("/api/v1/projects/WEB/issues?type=bug&status=open&severity=major,critical&sort=priority&limit=50", &admin)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids(&body), ["WEB-2", "WEB-1"], "urgent before low");
    let (_, body) = app
        .get("/api/v1/projects/WEB/issues?type=feature,task", &admin)
        .await;
    assert_eq!(ids(&body), ["WEB-6", "WEB-4"], "newest first by default");
    let (_, body) = app
        .get(
            "/api/v1/projects/WEB/issues?priority=high&sort=created",
            &admin,
        )
        .await;
    assert_eq!(ids(&body), ["WEB-3", "WEB-4"]);
    let mut seen = Vec::new();
    let mut path = "/api/v1/projects/WEB/issues?limit=4&sort=-priority".to_string();
    loop {
        let (status, body) = app.get(&path, &admin).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        seen.extend(ids(&body));
        match body["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/projects/WEB/issues?limit=4&sort=-priority&cursor={cursor}")
            }
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 6);
    let (status, body) = app
        .get("/api/v1/projects/WEB/issues?stauts=open", &admin)
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "stauts"
    );
    let (status, body) = app
        .get("/api/v1/projects/WEB/issues?status=opened", &admin)
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "status"
    );
    let (status, body) = app
        .get("/api/v1/projects/WEB/issues?cursor=garbage", &admin)
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "cursor"
    );
    let (status, body) = app
        .get("/api/v1/projects/WEB/issues?limit=1000", &admin)
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "limit"
    );
}

async fn comments_and_history(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Crash"}),
    )
    .await;
    let (status, comment) = app
        .post(
            "/api/v1/issues/WEB-1/comments",
            &admin,
            json!({"body": "Seen in **2.3.0** <script>alert(1)</script>"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{comment}");
    assert!(
        comment["body_html"]
            .as_str()
            .unwrap()
            .contains("<strong>2.3.0</strong>")
    );
    assert!(!comment["body_html"].as_str().unwrap().contains("<script"));
    let (_, comments) = app.get("/api/v1/issues/WEB-1/comments", &admin).await;
    assert_eq!(comments["items"].as_array().unwrap().len(), 1);
    let (status, body) = app
        .post(
            "/api/v1/issues/WEB-1/comments",
            &admin,
            json!({"body": "   "}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "body"
    );
    app.patch(
        "/api/v1/issues/WEB-1",
        &admin,
        json!({"priority": "urgent"}),
    )
    .await;
    let (status, activity) = app.get("/api/v1/issues/WEB-1/activity", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<_> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issue.created", "comment.added", "issue.updated"]);
    let change = &activity["items"][2]["changes"][0];
    assert_eq!(
        (
            change["field"].as_str(),
            change["from"].as_str(),
            change["to"].as_str()
        ),
        (Some("priority"), Some("none"), Some("urgent"))
    );
    assert_eq!(activity["items"][2]["actor"]["email"], "admin@example.com");
}

async fn attachments_upload_and_download_with_their_type(store: Store) {
    let app = TestApp::start_with(store, small_limits).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Crash"}),
    )
    .await;
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n fake but typed".to_vec();
    let form = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(png.clone())
                .file_name("shot.png")
                .mime_str("image/png")
                .unwrap(),
        )
        .part(
            "file",
            reqwest::multipart::Part::text("log line")
                .file_name("../../console.txt")
                .mime_str("text/plain")
                .unwrap(),
        );
    let response = app
        .request(
            Method::POST,
            "/api/v1/issues/WEB-1/attachments",
            Some(&admin),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(
        items[1]["filename"], "console.txt",
        "paths are stripped from file names"
    );
    let url = items[0]["url"].as_str().unwrap().to_string();
    let download = app
        .client
        .get(&url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "image/png");
    assert_eq!(download.headers()["x-content-type-options"], "nosniff");
    assert_eq!(download.bytes().await.unwrap().as_ref(), png.as_slice());
    assert_eq!(
        app.client.get(&url).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "downloads need a reader"
    );
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    let attachment = &issue["attachments"][0];
    for field in ["id", "filename", "content_type", "size", "url"] {
        assert!(attachment.get(field).is_some(), "{field}: {attachment}");
    }

    let big = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 64 * 1024]).file_name("big.bin"),
    );
    let response = app
        .request(
            Method::POST,
            "/api/v1/issues/WEB-1/attachments",
            Some(&admin),
        )
        .multipart(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let response = app
        .request(
            Method::POST,
            "/api/v1/issues/WEB-1/attachments",
            Some(&admin),
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (_, list) = app.get("/api/v1/issues/WEB-1/attachments", &admin).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        2,
        "refused uploads stored nothing"
    );
    let (status, body) = app.get("/api/v1/attachments/does-not-exist", &admin).await;
    error_of(status, &body, StatusCode::NOT_FOUND);
}

async fn numbers_stay_unique_when_clients_create_at_once(store: Store) {
    let app = std::sync::Arc::new(TestApp::start(store).await);
    let admin = app.with_project().await;
    let mut tasks = Vec::new();
    for n in 0..30 {
        let (app, admin) = (app.clone(), admin.clone());
        tasks.push(tokio::spawn(async move {
            let (status, body) = app
                .post(
                    "/api/v1/projects/WEB/issues",
                    &admin,
                    json!({"type": "task", "title": format!("Task {n}")}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["number"].as_i64().unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=30).collect::<Vec<_>>());
}

async fn operations_endpoints_answer(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Crash"}),
    )
    .await;
    let health = app
        .client
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    assert!(
        health.headers().contains_key("x-request-id"),
        "every response has a request id"
    );
    let ready: serde_json::Value = app
        .client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("moth_issues{type=\"bug\",status=\"new\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("moth_http_requests_total{method=\"POST\",route=\"/api/v1/projects/{key}/issues\",status=\"201\"} 1"), "{metrics}");
    assert!(
        metrics.contains("moth_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let response = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    // Answers are gzipped for clients that ask, and only for them; tiny ones are left alone.
    let encoding = |response: &reqwest::Response| {
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let gzipped = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(encoding(&gzipped).as_deref(), Some("gzip"));
    assert_eq!(
        &gzipped.bytes().await.unwrap()[..2],
        &[0x1f, 0x8b],
        "a gzip stream"
    );
    let plain = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(encoding(&plain), None);
    let tiny = app
        .client
        .get(format!("{}/healthz", app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(encoding(&tiny), None);
    for path in [
        "/api/v1/projects",
        "/api/v1/projects/{key}",
        "/api/v1/projects/{key}/intake-key",
        "/api/v1/projects/{key}/issues",
        "/api/v1/issues/{id}",
        "/api/v1/issues/{id}/comments",
        "/api/v1/issues/{id}/activity",
        "/api/v1/issues/{id}/attachments",
        "/api/v1/attachments/{id}",
        "/login",
        "/logout",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI documents {path}");
    }
    assert!(doc["components"]["schemas"].get("IssueResponse").is_some());
    let (status, body) = app.get("/api/v1/nothing-here", &admin).await;
    error_of(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(Method::DELETE, "/api/v1/projects", &admin, None)
        .await;
    error_of(status, &body, StatusCode::METHOD_NOT_ALLOWED);
}

async fn people_watch_issues(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let viewer = app.token_for("boss@example.com", Role::Viewer).await;
    app.token_for("dev@example.com", Role::Member).await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Crash"}),
    )
    .await;
    let (status, issue) = app
        .post("/api/v1/issues/WEB-1/watchers", &viewer, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "a stakeholder may watch: {issue}");
    let emails = |issue: &serde_json::Value| {
        issue["watchers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["email"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert!(emails(&issue).contains(&"boss@example.com".to_string()));
    let (status, body) = app
        .post(
            "/api/v1/issues/WEB-1/watchers",
            &viewer,
            json!({"email": "dev@example.com"}),
        )
        .await;
    error_of(status, &body, StatusCode::FORBIDDEN);
    let (status, issue) = app
        .post(
            "/api/v1/issues/WEB-1/watchers",
            &admin,
            json!({"email": "dev@example.com"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(emails(&issue).contains(&"dev@example.com".to_string()));
    let (status, issue) = app
        .send(
            Method::DELETE,
            "/api/v1/issues/WEB-1/watchers",
            &viewer,
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!emails(&issue).contains(&"boss@example.com".to_string()));
    let (status, body) = app
        .post(
            "/api/v1/issues/WEB-1/watchers",
            &admin,
            json!({"email": "ghost@example.com"}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "email"
    );
    let (_, activity) = app.get("/api/v1/issues/WEB-1/activity", &admin).await;
    let kinds: Vec<_> = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "issue.created",
            "watcher.added",
            "watcher.added",
            "watcher.removed"
        ]
    );
}
