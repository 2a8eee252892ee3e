//! The command palette: what it offers for ids, words and actions (by role), and a real
//! browser jumping to an issue with the keyboard.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;

use common::TestApp;
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

moth_store::conformance!(the_palette_offers_issues_projects_and_actions);

async fn entries(app: &TestApp, cookie: &str, q: &str) -> (StatusCode, Value) {
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/palette?q={}", urlencode(q)),
            None,
        )
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn labels(answer: &Value) -> Vec<String> {
    answer["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["label"].as_str().unwrap().to_string())
        .collect()
}

async fn the_palette_offers_issues_projects_and_actions(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Checkout crashes"}),
    )
    .await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "task", "title": "Rotate <keys>"}),
    )
    .await;
    app.token_for("viewer@example.com", Role::Viewer).await;
    let (name, secret) = app.session_cookie("viewer@example.com").await;
    let viewer = format!("{name}={secret}");

    let (status, by_id) = entries(&app, &viewer, "web-2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        by_id["items"][0]["url"], "/issues/WEB-2",
        "an id goes first"
    );
    let (_, by_words) = entries(&app, &viewer, "checkout").await;
    assert!(
        labels(&by_words).contains(&"WEB-1 Checkout crashes".to_string()),
        "{by_words}"
    );
    let (_, actions) = entries(&app, &viewer, "web board").await;
    assert!(
        labels(&actions).contains(&"WEB: Board".to_string()),
        "{actions}"
    );
    let (_, new) = entries(&app, &viewer, "new bug").await;
    assert!(
        !labels(&new).iter().any(|l| l.contains("New bug")),
        "viewers are not offered filing"
    );
    let (_, hostile) = entries(&app, &viewer, "<script>").await;
    assert!(hostile["items"].as_array().unwrap().is_empty());
    let (status, _) = entries(&app, &viewer, &"x".repeat(201)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let anonymous = app
        .request(reqwest::Method::GET, "/palette?q=web", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn ctrl_k_jumps_to_an_issue_by_keyboard() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Checkout crashes"}),
    )
    .await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "feature", "title": "Gift cards"}),
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;
    let page = browser::signed_in_page(&chromium, &app, "admin@example.com").await;
    page.goto(format!("{}/projects/WEB", app.base))
        .await
        .unwrap();
    browser::eval(
        &page,
        "document.dispatchEvent(new KeyboardEvent('keydown', {key: 'k', ctrlKey: true, bubbles: true})); true",
    )
    .await;
    browser::wait_for(
        &page,
        "the palette",
        "document.querySelector('dialog.palette')?.open",
    )
    .await;
    let input = page.find_element("dialog.palette input").await.unwrap();
    input.type_str("gift").await.unwrap();
    browser::wait_for(
        &page,
        "the matching issue",
        "document.querySelector('#palette-list [aria-selected=true]')?.textContent.includes('Gift cards')",
    )
    .await;
    browser::keep_screenshot(&page, "command-palette").await;
    input.press_key("Enter").await.unwrap();
    browser::wait_for(
        &page,
        "the issue page",
        "location.pathname === '/issues/WEB-2'",
    )
    .await;
    chromium.close().await.unwrap();
}
