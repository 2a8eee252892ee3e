//! A real headless Chromium for page tests: launch, wait for a condition, evaluate, sign in.

use super::TestApp;
use chromiumoxide::Page;
use chromiumoxide::browser::{Browser, BrowserConfig, BrowserConfigBuilder};
use futures::StreamExt;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether Chromium is installed; when not, the caller says so on stderr and skips.
pub fn chromium_missing() -> bool {
    if Path::new(CHROMIUM).exists() {
        return false;
    }
    eprintln!("skipped: no Chromium (apt-get install chromium)");
    true
}

/// Starts headless Chromium with its own profile directory, the window as the viewport.
pub async fn launch(profile: &Path) -> Browser {
    // Use the window as the viewport (the default emulates 800 x 600).
    start(config(profile).window_size(1280, 900).viewport(None)).await
}

/// The settings every test's Chromium shares; a test adds its own (window, extension, flags).
pub fn config(profile: &Path) -> BrowserConfigBuilder {
    BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile)
        // Without the leading `--`: the builder adds it.
        .args([
            "disable-gpu",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
}

/// Starts Chromium and drives its events in the background.
pub async fn start(config: BrowserConfigBuilder) -> Browser {
    let config = config.build().expect("browser config");
    let (browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
    tokio::spawn(async move { while handler.next().await.is_some() {} });
    browser
}

/// A new tab signed in as an existing user.
pub async fn signed_in_page(browser: &Browser, app: &TestApp, email: &str) -> Page {
    let page = browser.new_page("about:blank").await.unwrap();
    let (name, secret) = app.session_cookie(email).await;
    let cookie = chromiumoxide::cdp::browser_protocol::network::CookieParam::builder()
        .name(name)
        .value(secret)
        .url(app.base.clone())
        .build()
        .unwrap();
    page.set_cookie(cookie).await.unwrap();
    page
}

/// Evaluates `js` every 100 ms until it gives something other than null, undefined or false
/// (for up to 30 s: a loaded CI machine can be slow, a passing test is not).
pub async fn wait_for(page: &Page, what: &str, js: &str) -> Value {
    // The page's last error, if any, goes in the message: a page that closed or a script that
    // throws is told apart from one that is only slow.
    let mut last = String::new();
    for _ in 0..300 {
        let value = match page.evaluate(js).await {
            Ok(r) => r.value().cloned().unwrap_or(Value::Null),
            Err(e) => {
                last = format!(" (the page answered: {e})");
                Value::Null
            }
        };
        if !value.is_null() && value != Value::Bool(false) {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}{last}");
}

/// Evaluates `js` once.
pub async fn eval(page: &Page, js: &str) -> Value {
    page.evaluate(js)
        .await
        .unwrap_or_else(|e| panic!("{js}: {e}"))
        .value()
        .cloned()
        .unwrap_or(Value::Null)
}

/// Saves a full-page PNG under the test run's artefacts (`target/tmp/screenshots`), so a
/// person can look at what the pages showed.
pub async fn keep_screenshot(page: &Page, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let params = chromiumoxide::page::ScreenshotParams::builder()
        .full_page(true)
        .build();
    let png = page.screenshot(params).await.unwrap();
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}
