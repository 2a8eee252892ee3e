//! Duplicate detection and regressions by build, through intake over HTTP, on SQLite and
//! PostgreSQL: the same error twice is one issue, a fixed bug seen again in a newer build
//! reopens, an older build is told to update, and without a version triage decides.

mod common;

use common::{TestApp, error_of};
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

moth_store::conformance!(
    the_same_error_twice_is_one_issue_with_two_occurrences,
    a_fixed_bug_seen_in_a_newer_build_reopens_as_a_regression,
    a_report_from_before_the_fix_leaves_it_resolved_and_says_update,
    without_a_version_a_match_is_only_a_triage_candidate,
    the_widget_asks_before_sending_whether_a_report_is_known,
    reports_of_one_problem_sent_at_once_are_one_issue_and_one_regression,
);

/// A report of the checkout crash; `order` varies the ids in it as real occurrences do.
fn crash(order: u32, email: &str, app_version: Option<&str>, build: Option<&str>) -> Value {
    json!({
        "title": format!("Checkout broke for order {order}"),
        "reporter": {"name": email.split('@').next(), "email": email},
        "page_url": format!("https://shop.example.com/orders/{order}/pay?session=s{order}"),
        "context": {"app_version": app_version, "build": build},
        "errors": [{
            "message": format!("TypeError: cannot read total of order {order}"),
            "stack": format!("TypeError: x\n    at pay (https://shop.example.com/assets/app.{order:08x}.js:10:{order})\n    at onClick (https://shop.example.com/assets/app.{order:08x}.js:99:1)")
        }],
        "network": [{"method": "POST", "url": format!("https://shop.example.com/api/orders/{order}/pay"), "status": 500}],
        "actions": [{"kind": "click", "target": "button#pay"}]
    })
}

async fn setup(app: &TestApp) -> (String, String) {
    let admin = app.with_project().await;
    let key = app.get("/api/v1/projects/WEB", &admin).await.1["intake_key"]
        .as_str()
        .unwrap()
        .to_string();
    (admin, key)
}

async fn page(app: &TestApp, url: &str) -> String {
    app.client
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn fix(app: &TestApp, admin: &str, version: &str) {
    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-1",
            admin,
            json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": version}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_same_error_twice_is_one_issue_with_two_occurrences(store: Store) {
    let app = TestApp::start(store).await;
    let (admin, key) = setup(&app).await;
    let first = app
        .file_report(&key, &crash(17, "ana@example.com", Some("2.3.0"), None))
        .await;
    assert_eq!(
        (&first["id"], &first["duplicate_of"], &first["outcome"]),
        (&json!("WEB-1"), &Value::Null, &json!("filed"))
    );
    let second = app
        .file_report(&key, &crash(98234, "bob@example.com", Some("2.3.0"), None))
        .await;
    assert_eq!(
        (&second["id"], &second["duplicate_of"], &second["outcome"]),
        (&json!("WEB-1"), &json!("WEB-1"), &json!("duplicate"))
    );
    assert_ne!(first["status_url"], second["status_url"]);
    assert_eq!(app.issue_count("WEB").await, 1, "one issue for one error");

    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["duplicate_count"], 1);
    assert_eq!(issue["affected_reporters"], 2);
    assert_eq!(
        issue["title"], "Checkout broke for order 17",
        "the original keeps its title"
    );
    assert_eq!(
        issue["context"]["errors"][0]["message"], "TypeError: cannot read total of order 17",
        "and its own context"
    );
    let third = app
        .file_report(&key, &crash(5, "ana@example.com", Some("2.3.0"), None))
        .await;
    assert_eq!(third["duplicate_of"], "WEB-1");
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(
        (&issue["duplicate_count"], &issue["affected_reporters"]),
        (&json!(2), &json!(2)),
        "the same person twice is one affected reporter"
    );
    let (_, activity) = app.get("/api/v1/issues/WEB-1/activity", &admin).await;
    let occurrences = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "report.duplicate")
        .count();
    assert_eq!(occurrences, 2, "{activity}");

    // Developers see the count and what the reports were matched by.
    let (name, secret) = app.session_cookie("admin@example.com").await;
    let html = app
        .client
        .get(format!("{}/issues/WEB-1", app.base))
        .header("cookie", format!("{name}={secret}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("2 people reported it"), "{html}");
    assert!(
        html.contains("TypeError: cannot read total of order &#60;n&#62;"),
        "{html}"
    );
    assert!(html.contains("another report of this problem arrived"));

    // Each reporter's link follows the original.
    app.patch(
        "/api/v1/issues/WEB-1",
        &admin,
        json!({"status": "in_progress"}),
    )
    .await;
    let html = page(&app, second["status_url"].as_str().unwrap()).await;
    assert!(
        html.contains("Checkout broke for order 17") && html.contains("working on it"),
        "{html}"
    );
    for internal in ["TypeError", "ana@example.com", "app.js"] {
        assert!(!html.contains(internal), "{internal} leaked: {html}");
    }

    // Another error is another issue.
    let mut other = crash(17, "cy@example.com", None, None);
    other["errors"][0]["message"] = json!("RangeError: invalid currency");
    assert_eq!(app.file_report(&key, &other).await["id"], "WEB-2");
    // A report without an error or a failing request is never matched.
    let plain = json!({"title": "The logo is blurry", "page_url": "https://shop.example.com/"});
    assert_eq!(app.file_report(&key, &plain).await["id"], "WEB-3");
    assert_eq!(app.file_report(&key, &plain).await["id"], "WEB-4");
}

async fn a_fixed_bug_seen_in_a_newer_build_reopens_as_a_regression(store: Store) {
    let app = TestApp::start(store).await;
    let (admin, key) = setup(&app).await;
    app.file_report(
        &key,
        &crash(1, "ana@example.com", Some("2.3.0"), Some("2.3.0+481")),
    )
    .await;
    let watcher = app.token_for("dev@example.com", Role::Member).await;
    app.post(
        "/api/v1/issues/WEB-1/watchers",
        &admin,
        json!({"email": "dev@example.com"}),
    )
    .await;
    fix(&app, &admin, "2.3.1").await;
    let before = app.store.last_event_id().await.unwrap();

    let again = app
        .file_report(
            &key,
            &crash(2, "bob@example.com", Some("2.3.1"), Some("2.3.1+502")),
        )
        .await;
    assert_eq!(
        (&again["id"], &again["outcome"]),
        (&json!("WEB-1"), &json!("regression"))
    );
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &watcher).await;
    assert_eq!(issue["status"], "triaged", "{issue}");
    assert_eq!(issue["regression"], true);
    assert_eq!(issue["resolution"], Value::Null);
    assert_eq!(issue["reopen_count"], 1);
    assert_eq!(issue["fixed_in_version"], "2.3.1");
    assert_eq!(
        issue["affects_version"], "2.3.1",
        "it regressed in the release the report came from"
    );
    assert_eq!(app.issue_count("WEB").await, 1);

    // The history says which report and build; the log tells the watchers' pages.
    let (_, activity) = app.get("/api/v1/issues/WEB-1/activity", &admin).await;
    let reopened = activity["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "issue.updated" && e["changes"].to_string().contains("regression"))
        .unwrap_or_else(|| panic!("{activity}"));
    let detail = reopened["detail"].as_str().unwrap();
    assert!(
        detail.contains("2.3.1+502") && detail.contains("report"),
        "{detail}"
    );
    let events = app.store.events_after(before, 50).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "issue.updated" && e.issue.as_deref() == Some("WEB-1")),
        "{events:?}"
    );
    let html = page(&app, again["status_url"].as_str().unwrap()).await;
    assert!(html.contains("came back after a fix"), "{html}");

    // The exact build of the fix counts as "at or above" it too.
    fix(&app, &admin, "2.4.0").await;
    let same = app
        .file_report(&key, &crash(3, "cy@example.com", Some("2.4.0"), None))
        .await;
    assert_eq!(same["outcome"], "regression");
    assert_eq!(
        app.get("/api/v1/issues/WEB-1", &admin).await.1["reopen_count"],
        2
    );
}

async fn a_report_from_before_the_fix_leaves_it_resolved_and_says_update(store: Store) {
    let app = TestApp::start(store).await;
    let (admin, key) = setup(&app).await;
    app.file_report(&key, &crash(1, "ana@example.com", Some("2.3.0"), None))
        .await;
    fix(&app, &admin, "2.3.1").await;
    let old = app
        .file_report(
            &key,
            &crash(2, "bob@example.com", Some("2.3.0"), Some("2.3.0+999")),
        )
        .await;
    assert_eq!(
        (&old["id"], &old["duplicate_of"], &old["outcome"]),
        (&json!("WEB-1"), &json!("WEB-1"), &json!("already_fixed"))
    );
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(
        (&issue["status"], &issue["resolution"], &issue["regression"]),
        (&json!("resolved"), &json!("fixed"), &json!(false))
    );
    assert_eq!(issue["duplicate_count"], 1);
    let html = page(&app, old["status_url"].as_str().unwrap()).await;
    assert!(html.contains("Fixed in 2.3.1, please update."), "{html}");
    assert_eq!(app.issue_count("WEB").await, 1);
}

async fn without_a_version_a_match_is_only_a_triage_candidate(store: Store) {
    let app = TestApp::start(store).await;
    let (admin, key) = setup(&app).await;
    app.file_report(&key, &crash(1, "ana@example.com", Some("2.3.0"), None))
        .await;
    fix(&app, &admin, "2.3.1").await;
    let unknown = app
        .file_report(&key, &crash(2, "bob@example.com", None, None))
        .await;
    assert_eq!(
        (
            &unknown["id"],
            &unknown["duplicate_of"],
            &unknown["outcome"]
        ),
        (&json!("WEB-2"), &Value::Null, &json!("filed"))
    );
    let (_, original) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(
        (&original["status"], &original["regression"]),
        (&json!("resolved"), &json!(false)),
        "never reopened without a version"
    );
    let (_, candidate) = app.get("/api/v1/issues/WEB-2", &admin).await;
    assert_eq!(candidate["possible_regression_of"], "WEB-1");
    assert_eq!(candidate["status"], "new");

    let (name, secret) = app.session_cookie("admin@example.com").await;
    let inbox = app
        .client
        .get(format!("{}/projects/WEB/triage", app.base))
        .header("cookie", format!("{name}={secret}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(inbox.contains("May be a regression of"), "{inbox}");
    assert!(inbox.contains("/issues/WEB-1"), "{inbox}");

    // Later reports of it join the open candidate rather than filing a third issue.
    let next = app
        .file_report(&key, &crash(3, "cy@example.com", Some("2.3.1"), None))
        .await;
    assert_eq!(
        (&next["id"], &next["outcome"]),
        (&json!("WEB-2"), &json!("duplicate"))
    );
}

async fn probe(app: &TestApp, key: &str, body: &str, origin: Option<&str>) -> reqwest::Response {
    let mut request = app
        .client
        .post(format!("{}/api/v1/intake/{key}/match", app.base))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

async fn the_widget_asks_before_sending_whether_a_report_is_known(store: Store) {
    let app = TestApp::start(store).await;
    let (admin, key) = setup(&app).await;
    let report = crash(1, "ana@example.com", Some("2.3.0"), None);
    let answer: Value = probe(&app, &key, &report.to_string(), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"match": null}));
    app.file_report(&key, &report).await;
    app.file_report(&key, &crash(2, "bob@example.com", None, None))
        .await;
    app.file_report(&key, &crash(3, "cy@example.com", None, None))
        .await;

    let response = probe(
        &app,
        &key,
        &crash(4, "dee@example.com", None, None).to_string(),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(
        answer,
        json!({"match": {"id": "WEB-1", "title": "Checkout broke for order 1", "others": 3}}),
        "only the key, the title and a count reach the reporter"
    );
    assert_eq!(app.issue_count("WEB").await, 1, "asking stores nothing");

    // Allowed origins and CORS as for intake.
    app.patch(
        "/api/v1/projects/WEB",
        &admin,
        json!({"allowed_origins": ["https://shop.example.com"]}),
    )
    .await;
    let body = crash(5, "e@example.com", None, None).to_string();
    let allowed = probe(&app, &key, &body, Some("https://shop.example.com")).await;
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/intake/{key}/match", app.base),
        )
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let foreign = probe(&app, &key, &body, Some("https://evil.example")).await;
    let status = foreign.status();
    error_of(
        status,
        &foreign.json().await.unwrap(),
        StatusCode::FORBIDDEN,
    );

    // Bad input is a clear JSON error.
    let bad = probe(&app, &key, "{not json", None).await;
    let status = bad.status();
    error_of(status, &bad.json().await.unwrap(), StatusCode::BAD_REQUEST);
    let bad = probe(&app, &key, r#"{"errors": "boom"}"#, None).await;
    let status = bad.status();
    error_of(
        status,
        &bad.json().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    let flood = json!({"errors": vec![json!({"message": "x"}); 1000]}).to_string();
    let bad = probe(&app, &key, &flood, None).await;
    let status = bad.status();
    let error = error_of(
        status,
        &bad.json().await.unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(error["field"], "errors");
    let unknown = probe(&app, "intake_nope", &body, None).await;
    let status = unknown.status();
    error_of(
        status,
        &unknown.json().await.unwrap(),
        StatusCode::NOT_FOUND,
    );
}

/// How many answers said each outcome.
fn outcomes(answers: &[Value]) -> std::collections::BTreeMap<&str, usize> {
    let mut counted = std::collections::BTreeMap::new();
    for answer in answers {
        *counted
            .entry(answer["outcome"].as_str().unwrap())
            .or_default() += 1;
    }
    counted
}

/// Reports arriving together are written in one batch, decided in order in memory: the first
/// files the issue and the others join it, a person is counted once, and after a fix the first
/// report from a newer build reopens it while the rest join the reopened issue.
async fn reports_of_one_problem_sent_at_once_are_one_issue_and_one_regression(store: Store) {
    let app = TestApp::start(store).await;
    let (admin, key) = setup(&app).await;
    let people = ["ana@example.com", "bob@example.com", "cy@example.com"];
    let reports: Vec<Value> = (0..12u32)
        .map(|n| {
            let mut report = crash(100 + n, people[n as usize % 3], Some("2.3.0"), None);
            if n >= 10 {
                // Without an e-mail: each counts as a person of its own.
                report.as_object_mut().unwrap().remove("reporter");
            }
            report
        })
        .collect();
    let answers = futures::future::join_all(reports.iter().map(|r| app.file_report(&key, r))).await;
    assert_eq!(outcomes(&answers), [("duplicate", 11), ("filed", 1)].into());
    assert!(answers.iter().all(|a| a["id"] == "WEB-1"), "{answers:?}");
    assert_eq!(app.issue_count("WEB").await, 1);
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(
        (&issue["duplicate_count"], &issue["affected_reporters"]),
        (&json!(11), &json!(5)),
        "three people and two reports without an e-mail"
    );

    fix(&app, &admin, "2.3.1").await;
    let newer: Vec<Value> = (0..6u32)
        .map(|n| crash(200 + n, "dee@example.com", Some("2.4.0"), None))
        .collect();
    let answers = futures::future::join_all(newer.iter().map(|r| app.file_report(&key, r))).await;
    assert_eq!(
        outcomes(&answers),
        [("duplicate", 5), ("regression", 1)].into()
    );
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["status"], "triaged");
    assert_eq!(issue["reopen_count"], 1, "reopened once");
    assert_eq!(
        (&issue["duplicate_count"], &issue["affected_reporters"]),
        (&json!(17), &json!(6)),
        "one more person, six more occurrences"
    );
    assert_eq!(app.issue_count("WEB").await, 1);
}
