//! The metrics API, the metrics page with its charts and CSV, and the stakeholder overview.

mod common;

use common::{TestApp, error_of};
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::json;

moth_store::conformance!(
    every_role_reads_the_figures_and_strangers_do_not,
    bad_windows_are_refused_with_the_field_named,
    figures_follow_what_happens_to_issues,
    pages_show_to_every_role_and_send_strangers_to_sign_in,
    hostile_names_and_titles_are_escaped_in_html_svg_and_csv,
    csv_downloads_carry_each_charts_numbers,
    the_overview_says_what_is_broken_fixed_and_next,
);

const HOSTILE_NAME: &str = "<script>alert(\"name\")</script> & 'Q'";
const HOSTILE_TITLE: &str = "Pay \"now\" <img src=x onerror=alert(1)>";

/// A page fetched with a user's session cookie: status, content type and body.
async fn page(app: &TestApp, path: &str, email: &str) -> (StatusCode, String, String) {
    let (name, secret) = app.session_cookie(email).await;
    let response = app
        .client
        .get(format!("{}{path}", app.base))
        .header("cookie", format!("{name}={secret}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

async fn file(app: &TestApp, token: &str, body: serde_json::Value) -> String {
    let (status, issue) = app.post("/api/v1/projects/WEB/issues", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{issue}");
    issue["id"].as_str().unwrap().to_string()
}

async fn every_role_reads_the_figures_and_strangers_do_not(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let member = app.token_for("member@example.com", Role::Member).await;
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;
    for token in [&admin, &member, &viewer] {
        let (status, body) = app.get("/api/v1/projects/WEB/metrics", token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        for field in [
            "created_by_type",
            "open_by_type",
            "open_bugs_by_severity",
            "weekly",
            "mean_time_to_resolve_hours_by_severity",
            "reopen_rate",
            "regressions",
        ] {
            assert!(body.get(field).is_some(), "{field} missing from {body}");
        }
        assert_eq!(body["weekly"].as_array().unwrap().len(), 12, "{body}");
    }
    let anonymous = app
        .request(reqwest::Method::GET, "/api/v1/projects/WEB/metrics", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = app.get("/api/v1/projects/NOPE/metrics", &viewer).await;
    error_of(status, &body, StatusCode::NOT_FOUND);
    let (_, doc) = app.get("/api/v1/openapi.json", &viewer).await;
    assert!(doc["paths"]["/api/v1/projects/{key}/metrics"]["get"].is_object());
}

async fn bad_windows_are_refused_with_the_field_named(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    for (query, field) in [
        ("from=yesterday", "from"),
        ("to=2026-02-30", "to"),
        ("from=2026-03-01&to=2026-02-01", "from"),
        ("from=1900-01-01", "from"),
    ] {
        let (status, body) = app
            .get(&format!("/api/v1/projects/WEB/metrics?{query}"), &admin)
            .await;
        let error = error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error["field"], field, "{query}: {body}");
    }
    let (status, body) = app
        .get(
            "/api/v1/projects/WEB/metrics?from=2026-01-05&to=2026-01-18",
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let weeks: Vec<_> = body["weekly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["week"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(weeks, vec!["2026-W02", "2026-W03"]);
    let (status, body) = app
        .get(
            "/api/v1/projects/WEB/metrics?from=2026-01-05T00:00:00Z&to=2026-01-06T12:00:00%2B01:00",
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["to"], "2026-01-06T11:00:00Z");
}

async fn figures_follow_what_happens_to_issues(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let crash = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Crash", "severity": "critical"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Glitch", "severity": "minor"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "performance", "title": "Slow", "severity": "major"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Dark mode"}),
    )
    .await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{crash}"),
            &admin,
            json!({"status": "resolved", "resolution": "fixed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, m) = app.get("/api/v1/projects/WEB/metrics", &admin).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(m["created_by_type"]["bug"], 2);
    assert_eq!(m["created_by_type"]["feature"], 1);
    assert_eq!(m["open_by_type"]["bug"], 1);
    assert_eq!(m["open_by_type"]["performance"], 1);
    assert_eq!(m["open_bugs_by_severity"]["critical"], 0);
    assert_eq!(
        m["open_bugs_by_severity"]["major"], 1,
        "performance counts as a defect"
    );
    assert_eq!(m["open_bugs_by_severity"]["minor"], 1);
    let this_week = m["weekly"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(this_week["created_bugs"], 3);
    assert_eq!(this_week["resolved_bugs"], 1);
    assert_eq!(this_week["created_other"], 1);
    assert_eq!(this_week["resolved_other"], 0);
    assert!(m["mean_time_to_resolve_hours_by_severity"]["critical"].is_number());
    assert!(m["mean_time_to_resolve_hours_by_severity"]["minor"].is_null());
    assert_eq!(m["reopen_rate"], 0.0);
    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{crash}"),
            &admin,
            json!({"status": "triaged"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, m) = app.get("/api/v1/projects/WEB/metrics", &admin).await;
    assert_eq!(m["reopen_rate"], 1.0, "{m}");
    assert_eq!(m["open_bugs_by_severity"]["critical"], 1);
}

async fn pages_show_to_every_role_and_send_strangers_to_sign_in(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    app.token_for("member@example.com", Role::Member).await;
    app.token_for("viewer@example.com", Role::Viewer).await;
    for email in [
        "admin@example.com",
        "member@example.com",
        "viewer@example.com",
    ] {
        let (status, content_type, html) = page(&app, "/projects/WEB/metrics", email).await;
        assert_eq!(status, StatusCode::OK, "{email}: {html}");
        assert!(content_type.starts_with("text/html"));
        assert_eq!(html.matches("<svg").count(), 6, "six charts");
        assert_eq!(html.matches("<details>").count(), 6, "six tables");
        assert!(html.contains("/projects/WEB/metrics/weekly.csv"));
        assert!(html.contains(r#"role="img""#) && html.contains("aria-labelledby="));
        let (status, _, html) = page(&app, "/projects/WEB/overview", email).await;
        assert_eq!(status, StatusCode::OK, "{email}: {html}");
        assert!(
            html.contains("Nothing serious is broken right now."),
            "{html}"
        );
    }
    for path in [
        "/projects/WEB/metrics",
        "/projects/WEB/overview",
        "/projects/WEB/metrics/weekly.csv",
    ] {
        let response = app
            .client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
        let location = response.headers()["location"].to_str().unwrap();
        assert!(location.starts_with("/login"), "{path}: {location}");
    }
    // The page says what is missing, as every page's 404 does.
    for (path, missing) in [
        ("/projects/NOPE/metrics", "project NOPE does not exist"),
        ("/projects/NOPE/overview", "project NOPE does not exist"),
        (
            "/projects/NOPE/metrics/weekly.csv",
            "project NOPE does not exist",
        ),
        ("/projects/WEB/metrics/nothing.csv", "No such chart"),
    ] {
        let (status, content_type, html) = page(&app, path, "viewer@example.com").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(content_type.starts_with("text/html"), "{path}");
        assert!(html.contains(missing), "{path}: {html}");
    }
    let (status, _, html) = page(
        &app,
        "/projects/WEB/metrics?from=nonsense",
        "viewer@example.com",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains(r#"aria-invalid="true""#) && html.contains("is not a date"),
        "{html}"
    );
    assert!(html.contains(r#"value="nonsense""#), "keeps what was typed");
}

async fn hostile_names_and_titles_are_escaped_in_html_svg_and_csv(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.token_for("admin@example.com", Role::Admin).await;
    let (status, body) = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"key": "WEB", "name": HOSTILE_NAME}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": HOSTILE_TITLE, "severity": "critical"}),
    )
    .await;
    let (status, _, html) = page(&app, "/projects/WEB/metrics", "admin@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        !html.contains("'Q'") && !html.contains("\"name\""),
        "quotes escaped too"
    );
    let svg_start = html.find("<svg").unwrap();
    let svg = &html[svg_start..html[svg_start..].find("</svg>").unwrap() + svg_start];
    assert!(
        svg.contains("&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt; &amp; &#39;Q&#39;"),
        "{svg}"
    );
    let (status, _, html) = page(&app, "/projects/WEB/overview", "admin@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !html.contains("<script>") && !html.contains("<img"),
        "{html}"
    );
    assert!(
        html.contains("onerror=alert(1)&gt;") || html.contains("onerror=alert(1)&#62;"),
        "the title shows, escaped: {html}"
    );
    let (status, _, csv) = page(
        &app,
        "/projects/WEB/metrics/open-by-type.csv",
        "admin@example.com",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !csv.contains("script"),
        "the CSV holds numbers, not the name: {csv}"
    );
}

async fn csv_downloads_carry_each_charts_numbers(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "A", "severity": "major"}),
    )
    .await;
    file(&app, &admin, json!({"type": "task", "title": "B"})).await;
    let response = {
        let (name, secret) = app.session_cookie("admin@example.com").await;
        app.client
            .get(format!(
                "{}/projects/WEB/metrics/open-by-type.csv",
                app.base
            ))
            .header("cookie", format!("{name}={secret}"))
            .send()
            .await
            .unwrap()
    };
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"WEB-open-by-type.csv\""
    );
    let csv = response.text().await.unwrap();
    assert_eq!(
        csv,
        "type,open\r\nbug,1\r\nfeature,0\r\nimprovement,0\r\ntask,1\r\nquestion,0\r\ndocs,0\r\nperformance,0\r\nsupport,0\r\n"
    );
    let (_, _, csv) = page(
        &app,
        "/projects/WEB/metrics/open-bugs-by-severity.csv",
        "admin@example.com",
    )
    .await;
    assert_eq!(
        csv,
        "severity,open_bugs\r\ncritical,0\r\nmajor,1\r\nminor,0\r\ntrivial,0\r\nunset,0\r\n"
    );
    let (_, _, csv) = page(
        &app,
        "/projects/WEB/metrics/weekly.csv?from=2026-01-05&to=2026-01-18",
        "admin@example.com",
    )
    .await;
    assert_eq!(
        csv,
        "week,starts_on,created_bugs,resolved_bugs,created_other,resolved_other\r\n\
         2026-W02,2026-01-05,0,0,0,0\r\n2026-W03,2026-01-12,0,0,0,0\r\n"
    );
    let (_, _, csv) = page(
        &app,
        "/projects/WEB/metrics/weekly.csv",
        "admin@example.com",
    )
    .await;
    let last = csv.lines().last().unwrap();
    assert!(last.ends_with(",1,0,1,0"), "{csv}");
    assert_eq!(csv.lines().count(), 13);
    for chart in ["time-to-resolve", "reopen-rate", "regressions"] {
        let (status, _, csv) = page(
            &app,
            &format!("/projects/WEB/metrics/{chart}.csv"),
            "admin@example.com",
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{chart}");
        assert!(csv.ends_with("\r\n") && csv.contains(','), "{chart}: {csv}");
    }
    let (status, _, _) = page(
        &app,
        "/projects/WEB/metrics/weekly.csv?from=junk",
        "admin@example.com",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn the_overview_says_what_is_broken_fixed_and_next(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.token_for("viewer@example.com", Role::Viewer).await;
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"versions": ["1.0.0", "1.1.0", "2.0.0"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Checkout is down", "severity": "critical"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Wrong totals", "severity": "major"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Typo in footer", "severity": "trivial"}),
    )
    .await;
    let fixed = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Login loop", "severity": "major"}),
    )
    .await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{fixed}"),
            &admin,
            json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": "1.0.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let planned = file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Gift cards"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{planned}"),
        &admin,
        json!({"fixed_in_version": "1.1.0"}),
    )
    .await;
    let later = file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Loyalty points"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{later}"),
        &admin,
        json!({"fixed_in_version": "2.0.0"}),
    )
    .await;

    let (status, _, html) = page(&app, "/projects/WEB/overview", "viewer@example.com").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("1 critical problem is open, and 1 major."),
        "{html}"
    );
    assert!(html.contains("Checkout is down") && html.contains("Wrong totals"));
    assert!(
        !html.contains("Typo in footer"),
        "trivial bugs are not 'broken'"
    );
    let fixed_section =
        &html[html.find("fixed-heading").unwrap()..html.find("next-heading").unwrap()];
    assert!(
        fixed_section.contains("Login loop") && fixed_section.contains("fixed today in 1.0.0"),
        "{fixed_section}"
    );
    let next_section = &html[html.find("next-heading").unwrap()..];
    assert!(
        next_section.contains("next release, 1.1.0"),
        "{next_section}"
    );
    assert!(next_section.contains("Gift cards") && !next_section.contains("Loyalty points"));
    assert!(
        !html.contains("<form method=\"post\" action=\"/api"),
        "read-only"
    );
}
