//! Similar issues over HTTP on SQLite and PostgreSQL: the API for filed issues and for text
//! being typed, and the pages that show the suggestions.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;

use common::{TestApp, error_of};
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

moth_store::conformance!(
    similar_issues_come_best_first_without_the_issue_itself,
    unknown_issues_bad_limits_and_credentials_are_refused,
    typed_titles_find_issues_of_their_project,
    the_issue_page_shows_similar_issues_and_triage_asks_for_them,
);

/// WEB-1 and WEB-3 report the same crash, WEB-2 something else; API-1 the crash again.
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
    for (key, title, description) in [
        (
            "WEB",
            "Checkout <b>crashes</b> with NullPointerException",
            "PaymentService.charge throws",
        ),
        ("WEB", "Login page slow", "ten seconds"),
        (
            "WEB",
            "NullPointerException in checkout",
            "PaymentService.charge fails",
        ),
        (
            "API",
            "Checkout NullPointerException again",
            "PaymentService",
        ),
    ] {
        let (status, body) = app
            .post(
                &format!("/api/v1/projects/{key}/issues"),
                &admin,
                json!({"type": "bug", "title": title, "description": description}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    admin
}

fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}

async fn similar_issues_come_best_first_without_the_issue_itself(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    let (status, body) = app.get("/api/v1/issues/WEB-3/similar", &admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = ids(&body);
    assert!(!found.contains(&"WEB-3".to_string()), "{body}");
    assert!(
        found.contains(&"WEB-1".to_string()) && found.contains(&"API-1".to_string()),
        "{body}"
    );
    assert!(!found.contains(&"WEB-2".to_string()), "{body}");
    let items = body["items"].as_array().unwrap();
    for pair in items.windows(2) {
        assert!(
            pair[0]["score"].as_f64() >= pair[1]["score"].as_f64(),
            "{body}"
        );
    }
    let first = &items[0];
    assert_eq!(first["status"], "new");
    assert!(first["title"].as_str().is_some() && first["score"].as_f64().unwrap() > 0.0);
    let (_, one) = app
        .get("/api/v1/issues/WEB-3/similar?limit=1", &admin)
        .await;
    assert_eq!(ids(&one).len(), 1, "{one}");
    // Only the issue's project on request: what it can be marked a duplicate of.
    let (status, own) = app
        .get("/api/v1/issues/WEB-3/similar?same_project=true", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{own}");
    assert_eq!(ids(&own), ["WEB-1"], "{own}");
    let (status, body) = app
        .get("/api/v1/issues/WEB-3/similar?same_project=maybe", &admin)
        .await;
    error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    // Viewers read every project today, and so see its suggestions.
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;
    let (status, body) = app.get("/api/v1/issues/WEB-3/similar", &viewer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn unknown_issues_bad_limits_and_credentials_are_refused(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    for path in [
        "/api/v1/issues/WEB-99/similar",
        "/api/v1/issues/NOPE-1/similar",
        "/api/v1/issues/junk/similar",
    ] {
        let (status, body) = app.get(path, &admin).await;
        error_of(status, &body, StatusCode::NOT_FOUND);
    }
    for limit in ["0", "51", "x"] {
        let (status, body) = app
            .get(
                &format!("/api/v1/issues/WEB-1/similar?limit={limit}"),
                &admin,
            )
            .await;
        assert_eq!(
            error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
            "limit"
        );
    }
    let (status, body) = app.get("/api/v1/issues/WEB-1/similar?q=x", &admin).await;
    error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .request(reqwest::Method::GET, "/api/v1/issues/WEB-1/similar", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (_, openapi) = app.get("/api/v1/openapi.json", &admin).await;
    assert!(openapi["paths"]["/api/v1/issues/{id}/similar"]["get"].is_object());
    assert!(openapi["paths"]["/api/v1/projects/{key}/similar"]["get"].is_object());
}

async fn typed_titles_find_issues_of_their_project(store: Store) {
    let app = TestApp::start(store).await;
    let admin = tracker(&app).await;
    let (status, body) = app
        .get(
            "/api/v1/projects/WEB/similar?title=checkout%20NullPointerException",
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut found = ids(&body);
    found.sort();
    assert_eq!(found, ["WEB-1", "WEB-3"]);
    let (_, body) = app.get("/api/v1/projects/WEB/similar?title=", &admin).await;
    assert!(ids(&body).is_empty());
    let (status, body) = app
        .get("/api/v1/projects/NOPE/similar?title=x", &admin)
        .await;
    error_of(status, &body, StatusCode::NOT_FOUND);
}

async fn the_issue_page_shows_similar_issues_and_triage_asks_for_them(store: Store) {
    let app = TestApp::start(store).await;
    tracker(&app).await;
    let (name, secret) = app.session_cookie("admin@example.com").await;
    let page = |path: &'static str| {
        app.request(reqwest::Method::GET, path, None)
            .header("cookie", format!("{name}={secret}"))
            .send()
    };
    // The issue page asks for its block after loading; without script, a link to it.
    let html = page("/issues/WEB-3").await.unwrap().text().await.unwrap();
    assert!(html.contains("data-similar=\"WEB-3\""), "{html}");
    assert!(html.contains("href=\"/issues/WEB-3/similar\""), "{html}");
    assert!(html.contains("list=\"dup-WEB-3\""), "{html}");
    let html = page("/issues/WEB-3/similar")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let block = &html[html.find("Similar to").unwrap_or_else(|| panic!("{html}"))..];
    assert!(block.contains("/issues/WEB-1"), "{block}");
    // Titles are escaped.
    assert!(
        block.contains("crashes") && !block.contains("<b>crashes"),
        "{block}"
    );
    // Never the issue itself in the list, nor another project's issues.
    let list = &block[block.find("<ol").unwrap_or_else(|| panic!("{block}"))..];
    assert!(!list.contains("/issues/WEB-3\""), "{list}");
    assert!(!list.contains("API-1"), "{list}");
    let html = page("/projects/WEB/triage")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-similar=\"WEB-1\""), "{html}");
    let html = page("/projects/WEB/new")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("data-similar-project=\"WEB\""), "{html}");
}

#[tokio::test]
async fn a_browser_sees_suggestions_on_triage_cards_and_while_typing_a_title() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    tracker(&app).await;
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;
    let page = browser::signed_in_page(&chromium, &app, "admin@example.com").await;
    page.goto(format!("{}/projects/WEB/triage", app.base))
        .await
        .unwrap();
    // Cards ask when they come into view: the first at once, the last once scrolled to.
    let first = browser::wait_for(
        &page,
        "WEB-1's suggestions",
        "(() => { const s = document.querySelector('[data-similar=\"WEB-1\"]'); \
           return s && !s.hidden && Array.from(s.querySelectorAll('li a code')).map(c => c.textContent).join(' '); })()",
    )
    .await;
    assert!(first.as_str().unwrap().contains("WEB-3"), "{first}");
    let offered = browser::eval(
        &page,
        "Array.from(document.querySelectorAll('#dup-WEB-1 option')).map(o => o.value).join(' ')",
    )
    .await;
    assert!(offered.as_str().unwrap().contains("WEB-3"), "{offered}");
    browser::eval(
        &page,
        "document.querySelector('[data-issue=\"WEB-3\"]').scrollIntoView(); true",
    )
    .await;
    let last = browser::wait_for(
        &page,
        "WEB-3's suggestions",
        "(() => { const s = document.querySelector('[data-similar=\"WEB-3\"]'); \
           return s && !s.hidden && Array.from(s.querySelectorAll('li a code')).map(c => c.textContent).join(' '); })()",
    )
    .await;
    assert!(last.as_str().unwrap().contains("WEB-1"), "{last}");
    // The issue page fills its block and its duplicate-of choices from the issue's project.
    page.goto(format!("{}/issues/WEB-3", app.base))
        .await
        .unwrap();
    // The block asks for its suggestions once it is scrolled to.
    browser::wait_for(
        &page,
        "the issue page",
        "(s => s && (s.scrollIntoView(), true))(document.querySelector('section[data-similar]'))",
    )
    .await;
    let shown = browser::wait_for(
        &page,
        "the issue page's suggestions",
        "(() => { const s = document.querySelector('section[data-similar=\"WEB-3\"]'); \
           return s && s.querySelector('.similar-more').hidden && Array.from(s.querySelectorAll('li a code')).map(c => c.textContent).join(' '); })()",
    )
    .await;
    assert_eq!(shown, "WEB-1");
    let offered = browser::eval(
        &page,
        "Array.from(document.querySelectorAll('#dup-WEB-3 option')).map(o => o.value).join(' ')",
    )
    .await;
    assert_eq!(offered, "WEB-1");
    page.goto(format!("{}/projects/WEB/new", app.base))
        .await
        .unwrap();
    browser::eval(
        &page,
        "(() => { const t = document.getElementById('n-title'); t.value = 'NullPointerException at checkout'; \
           t.dispatchEvent(new Event('input', { bubbles: true })); return true; })()",
    )
    .await;
    let titles = browser::wait_for(
        &page,
        "suggestions under the title",
        "(() => { const s = document.getElementById('n-similar'); \
           return s && !s.hidden && Array.from(s.querySelectorAll('li a code')).map(c => c.textContent).sort().join(' '); })()",
    )
    .await;
    assert_eq!(titles, "WEB-1 WEB-3");
    browser::keep_screenshot(&page, "new-issue-similar").await;
    chromium.close().await.unwrap();
}
