//! The capture widget: how `/widget.js` is served, and a real headless Chromium that makes
//! things go wrong on the demo page, files a report through the widget, and finds it stored.

mod common;

use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig};
use common::TestApp;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The widget inside its shadow root, as page JavaScript sees it.
const SHADOW: &str = "document.querySelector('[data-moth-widget]')?.shadowRoot";

#[tokio::test]
async fn the_widget_script_is_served_for_other_origins() {
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    app.with_project().await;
    let response = app
        .client
        .get(format!("{}/widget.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/javascript; charset=utf-8"
    );
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["cross-origin-resource-policy"], "cross-origin");
    let body = response.text().await.unwrap();
    assert!(body.contains("data-moth-key") && body.contains("adoptedStyleSheets"));
    for forbidden in ["innerHTML", "eval(", "new Function", ".style."] {
        assert!(!body.contains(forbidden), "the widget uses {forbidden}");
    }

    let anonymous = app
        .client
        .get(format!("{}/demo?key=abc", app.base))
        .send()
        .await
        .unwrap();
    assert!(
        anonymous.status().is_redirection(),
        "the demo is for admins"
    );
    let (name, secret) = app.session_cookie("admin@example.com").await;
    let demo = app
        .client
        .get(format!("{}/demo?key=abc", app.base))
        .header("cookie", format!("{name}={secret}"))
        .send()
        .await
        .unwrap();
    assert_eq!(demo.status(), StatusCode::OK);
    let csp = demo.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "the demo runs under the strict policy: {csp}"
    );
    let page = demo.text().await.unwrap();
    assert!(page.contains("/widget/demo.js") && !page.contains("<script>"));
}

/// Evaluates `js` every 100 ms until it gives something other than null, undefined or false.
async fn wait_for(page: &Page, what: &str, js: &str) -> Value {
    for _ in 0..100 {
        let value = page
            .evaluate(js)
            .await
            .ok()
            .and_then(|r| r.value().cloned())
            .unwrap_or(Value::Null);
        if !value.is_null() && value != Value::Bool(false) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .value()
        .cloned()
        .unwrap_or(Value::Null)
}

async fn launch(profile: &Path) -> Browser {
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile)
        .window_size(1280, 800)
        // Without the leading `--`: the builder adds it.
        .args([
            "disable-gpu",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
        .build()
        .expect("browser config");
    let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
    tokio::spawn(async move { while handler.next().await.is_some() {} });
    browser
}

#[tokio::test]
async fn a_report_from_the_widget_carries_what_happened_on_the_page() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: no Chromium (apt-get install chromium)");
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (_, project) = app.get("/api/v1/projects/WEB", &admin).await;
    let key = project["intake_key"].as_str().unwrap().to_string();

    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch(profile.path()).await;
    let page = browser.new_page("about:blank").await.unwrap();
    let (name, secret) = app.session_cookie("admin@example.com").await;
    let cookie = chromiumoxide::cdp::browser_protocol::network::CookieParam::builder()
        .name(name)
        .value(secret)
        .url(app.base.clone())
        .build()
        .unwrap();
    page.set_cookie(cookie).await.unwrap();
    page.goto(format!("{}/demo?key={key}", app.base))
        .await
        .unwrap();
    wait_for(
        &page,
        "the widget's button",
        &format!("{SHADOW}?.querySelector('button.open')?.textContent"),
    )
    .await;
    // The constructable stylesheet applied under the strict CSP.
    assert_eq!(
        eval(
            &page,
            &format!("getComputedStyle({SHADOW}.querySelector('button.open')).position")
        )
        .await,
        "fixed"
    );

    for id in ["#log", "#throw", "#fetch"] {
        page.find_element(id).await.unwrap().click().await.unwrap();
    }
    wait_for(
        &page,
        "the failing request",
        "document.getElementById('out').textContent.includes('404')",
    )
    .await;

    eval(&page, "Moth.setContext({app_version: '2.3.0', plan: 'pro'}); Moth.setUser({id: 'u-7', name: 'Ana'}); Moth.open()").await;
    let summary = eval(
        &page,
        &format!("{SHADOW}.querySelector('fieldset').textContent"),
    )
    .await;
    let summary = summary.as_str().unwrap();
    assert!(
        summary.contains("What will be sent")
            && summary.contains("2 console lines")
            && summary.contains("1 errors")
            && summary.contains("1 requests"),
        "{summary}"
    );
    eval(
        &page,
        &format!(
            "const f = {SHADOW}.querySelector('form'); f.elements.title.value = 'Checkout explodes'; \
             f.elements.description.value = 'Pressed every button'; f.querySelector('button.send').click(); true"
        ),
    )
    .await;
    let thanks = wait_for(
        &page,
        "the widget's answer",
        &format!("{SHADOW}.querySelector('.done')?.textContent || {SHADOW}.querySelector('.err')?.textContent"),
    )
    .await;
    let thanks = thanks.as_str().unwrap();
    assert!(thanks.starts_with("Thanks! Track it here:"), "{thanks}");
    assert!(
        thanks.contains(&format!("{}/status/", app.base)),
        "{thanks}"
    );
    browser.close().await.unwrap();
    let _ = browser.wait().await;

    let (status, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(status, StatusCode::OK, "{issue}");
    assert_eq!(issue["title"], "Checkout explodes");
    assert_eq!(issue["type"], "bug");
    assert_eq!(issue["reporter"]["name"], "Ana");
    assert_eq!(issue["affects_version"], "2.3.0");
    let context = &issue["context"];
    assert!(
        context["page_url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/demo?key=", app.base)),
        "{context}"
    );
    let environment = &context["environment"];
    assert_eq!(environment["browser"]["name"], "Chrome", "{environment}");
    assert_eq!(environment["os"]["name"], "Linux", "{environment}");
    assert!(
        environment["viewport"]["width"]
            .as_u64()
            .is_some_and(|w| w > 0),
        "{environment}"
    );
    assert_eq!(environment["user_id"], "u-7", "{environment}");
    assert_eq!(environment["custom"]["plan"], "pro", "{environment}");

    let console = context["console"].as_array().unwrap();
    assert!(
        console.iter().any(|c| c["level"] == "log"
            && c["message"] == "demo: cart loaded {\"items\":3,\"total\":42.5}"),
        "{console:?}"
    );
    assert!(
        console
            .iter()
            .any(|c| c["level"] == "warn" && c["message"] == "demo: coupon expired"),
        "{console:?}"
    );
    let errors = context["errors"].as_array().unwrap();
    let thrown = errors
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("demo: checkout exploded"))
        })
        .unwrap_or_else(|| panic!("the thrown error: {errors:?}"));
    assert!(
        thrown["stack"]
            .as_str()
            .is_some_and(|s| s.contains("demo.js")),
        "{thrown}"
    );
    assert!(
        thrown["source"]
            .as_str()
            .unwrap()
            .ends_with("/widget/demo.js")
    );
    assert!(thrown["line"].as_u64().unwrap() > 0);
    let network = context["network"].as_array().unwrap();
    let failed = network
        .iter()
        .find(|n| n["url"] == format!("{}/nonexistent", app.base))
        .unwrap_or_else(|| panic!("the failed request: {network:?}"));
    assert_eq!(failed["method"], "GET");
    assert_eq!(failed["status"], 404);
    assert_eq!(failed["failed"], true);
    assert!(failed["duration_ms"].as_u64().is_some(), "{failed}");
    assert!(
        !network
            .iter()
            .any(|n| n["url"].as_str().unwrap().contains("/api/v1/intake")),
        "the widget does not record its own report: {network:?}"
    );
    let actions = context["actions"].as_array().unwrap();
    let targets: Vec<&str> = actions
        .iter()
        .filter(|a| a["kind"] == "click")
        .filter_map(|a| a["target"].as_str())
        .collect();
    assert_eq!(
        targets,
        [
            "button#log \"Log to the console\"",
            "button#throw \"Throw an error\"",
            "button#fetch \"Fail a request\""
        ],
        "{actions:?}"
    );
    let steps = issue["steps_to_reproduce"].as_str().unwrap();
    assert!(
        steps.contains("Click button#throw \"Throw an error\"")
            && steps.contains("/nonexistent failed with 404"),
        "{steps}"
    );
}

/// A customer's page on another origin (`localhost` against Moth's `127.0.0.1`) that embeds
/// the widget the documented way, with nothing else on it.
async fn customer_site(moth: &str, key: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>\
         <script src=\"{moth}/widget.js\" data-moth-key=\"{key}\" async></script></body></html>"
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = axum::Router::new().route(
        "/checkout",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    tokio::spawn(async move { axum::serve(listener, site).await });
    format!("http://localhost:{port}")
}

/// Opens the form on the page, fills the title, sends, and returns what the widget then says.
async fn report_through_widget(page: &Page, title: &str) -> String {
    wait_for(page, "the widget", "window.Moth && window.Moth.version").await;
    eval(page, "Moth.open(); true").await;
    eval(
        page,
        &format!(
            "const f = {SHADOW}.querySelector('form'); f.elements.title.value = {title:?}; \
             f.querySelector('button.send').click(); true"
        ),
    )
    .await;
    let said = wait_for(
        page,
        "the widget's answer",
        &format!(
            "{SHADOW}.querySelector('.done')?.textContent || {SHADOW}.querySelector('.err')?.textContent"
        ),
    )
    .await;
    said.as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_page_on_another_origin_reports_when_its_origin_is_allowed() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("skipped: no Chromium (apt-get install chromium)");
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (_, project) = app.get("/api/v1/projects/WEB", &admin).await;
    let key = project["intake_key"].as_str().unwrap().to_string();
    let site = customer_site(&app.base, &key).await;

    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch(profile.path()).await;
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            serde_json::json!({"allowed_origins": ["https://shop.example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    let refused = report_through_widget(&page, "Refused").await;
    assert!(
        refused.contains("are not accepted by this project"),
        "the server's own message is shown: {refused}"
    );
    assert_eq!(app.issue_count("WEB").await, 0);

    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            serde_json::json!({"allowed_origins": [site.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    let thanks = report_through_widget(&page, "From the shop").await;
    assert!(thanks.starts_with("Thanks! Track it here:"), "{thanks}");
    browser.close().await.unwrap();
    let _ = browser.wait().await;

    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["title"], "From the shop");
    assert_eq!(issue["context"]["page_url"], format!("{site}/checkout"));
}
