//! The issue page's side panel in a real browser: a field chosen from a list saves as soon as
//! it changes, and a status that needs a resolution waits for one.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;

use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn fields_save_as_soon_as_they_change() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (_, issue) = app
        .post(
            "/api/v1/projects/WEB/issues",
            &admin,
            json!({"type": "bug", "title": "Checkout crashes"}),
        )
        .await;
    let id = issue["id"].as_str().unwrap().to_string();
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;
    let page = browser::signed_in_page(&chromium, &app, "admin@example.com").await;
    page.goto(format!("{}/issues/{id}", app.base))
        .await
        .unwrap();
    let select = |field: &str, value: &str| {
        format!(
            "(s => {{ s.value = '{value}'; s.dispatchEvent(new Event('change', {{bubbles: true}})); return true; }})\
             (document.querySelector('form.inline-field input[name=field][value={field}]').form.elements.value)"
        )
    };
    // The page as the server drew it after saving: the value is the one marked selected.
    let saved = |field: &str, value: &str| {
        format!(
            "Array.from(document.querySelector('form.inline-field input[name=field][value={field}]')\
             .form.elements.value.options).find(o => o.defaultSelected)?.value === '{value}'"
        )
    };
    let hidden = browser::eval(
        &page,
        "document.querySelector('form.inline-field input[value=priority]').form.querySelector('button').hidden",
    )
    .await;
    assert_eq!(hidden, true, "no Set button where a list saves by itself");

    browser::eval(&page, &select("priority", "urgent")).await;
    browser::wait_for(&page, "the saved priority", &saved("priority", "urgent")).await;
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["priority"], "urgent");

    // Resolved asks for its resolution first; choosing it saves both.
    browser::eval(&page, &select("status", "resolved")).await;
    let asked = browser::wait_for(
        &page,
        "the resolution asked for",
        "(r => !r.hidden && document.activeElement === r)(document.querySelector('form.inline-field select[name=resolution]'))",
    )
    .await;
    assert_eq!(asked, true);
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["status"], "new", "nothing saved without a resolution");
    browser::eval(
        &page,
        "(r => { r.value = 'fixed'; r.dispatchEvent(new Event('change', {bubbles: true})); return true; })\
         (document.querySelector('form.inline-field select[name=resolution]'))",
    )
    .await;
    browser::wait_for(&page, "the resolved issue", &saved("status", "resolved")).await;
    browser::keep_screenshot(&page, "issue-inline-fields").await;
    chromium.close().await.unwrap();
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(
        (&issue["status"], &issue["resolution"]),
        (&json!("resolved"), &json!("fixed"))
    );
}
