//! The capture widget: how `/widget.js` is served, and a real headless Chromium that makes
//! things go wrong on the demo page, files a report through the widget, and finds it stored.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;

use browser::{eval, wait_for};

use chromiumoxide::Page;
use chromiumoxide::browser::Browser;
use common::TestApp;
use common::capture::{
    CapturedReport, OUTBOX_SIZE, PASSWORD, SHADOW, TYPED, capture_site, customer_site, files_under,
    picture_site, png_size, wait_for_issues,
};
use reqwest::StatusCode;
use std::path::Path;

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
    assert!(
        body.contains("/widget/capture.js"),
        "the loader fetches the rest on demand"
    );
    let capture = app
        .client
        .get(format!("{}/widget/capture.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(capture.status(), StatusCode::OK);
    assert_eq!(
        capture.headers()["cross-origin-resource-policy"],
        "cross-origin"
    );
    let capture = capture.text().await.unwrap();
    assert!(capture.contains("foreignObject") && capture.contains("getDisplayMedia"));
    for script in [&body, &capture] {
        for forbidden in [
            "innerHTML",
            "eval(",
            "new Function",
            ".style.",
            "document.write",
        ] {
            assert!(!script.contains(forbidden), "the widget uses {forbidden}");
        }
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

async fn launch(profile: &Path) -> Browser {
    launch_with(profile, &[]).await
}

async fn launch_with(profile: &Path, extra: &[&str]) -> Browser {
    browser::start(
        browser::config(profile)
            .window_size(1280, 800)
            .args(extra.iter().copied()),
    )
    .await
}

#[tokio::test]
async fn a_report_from_the_widget_carries_what_happened_on_the_page() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;

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
    wait_for(
        &page,
        "the form",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot')"),
    )
    .await;
    let summary = eval(
        &page,
        &format!("{SHADOW}.querySelector('fieldset').textContent"),
    )
    .await;
    let summary = summary.as_str().unwrap();
    assert!(
        summary.contains("What will be sent")
            && summary.contains("2 console lines")
            && summary.contains("1 error ")
            && summary.contains("1 request "),
        "{summary}"
    );
    // The steps show the page's address as it will be sent: the intake key in it redacted.
    let steps = eval(
        &page,
        &format!("{SHADOW}.querySelector('form').elements.steps.value"),
    )
    .await;
    assert!(
        steps
            .as_str()
            .unwrap()
            .starts_with(&format!("1. Open {}/demo?key=[redacted]", app.base)),
        "{steps}"
    );
    eval(
        &page,
        &format!("(field => field.value = 'Pressed every button')({SHADOW}.querySelector('form').elements.description)"),
    )
    .await;
    let thanks = send_form(&page, "Checkout explodes").await;
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
    assert!(
        issue["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["content_type"] == "image/png" && a["filename"] == "screenshot.png"),
        "the demo's screenshot: {issue}"
    );
    assert!(
        !issue.to_string().contains("4111 1111"),
        "the demo's card field stays masked"
    );
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

/// Opens the form on the page, fills the title, sends, and returns what the widget then says.
async fn report_through_widget(page: &Page, title: &str) -> String {
    wait_for(page, "the widget", "window.Moth && window.Moth.version").await;
    eval(page, "Moth.open(); true").await;
    wait_for(
        page,
        "the form",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot')"),
    )
    .await;
    send_form(page, title).await
}

/// Titles the open form, sends it and returns what the widget answers.
async fn send_form(page: &Page, title: &str) -> String {
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
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
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

// ---- Capture: the DOM screenshot, masking, capture health, under a strict CSP or none ------

/// A picture served by a second local origin, without CORS headers: the page shows it but
/// cannot read its pixels.
/// Decodes `png` in the page and returns the RGBA pixels at the given device-pixel points.
async fn pixels(page: &Page, png: &[u8], points: &[(f64, f64)]) -> Vec<[u8; 4]> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let points = serde_json::to_string(points).unwrap();
    let js = format!(
        "(async () => {{ const b = await (await fetch('data:image/png;base64,{data}')).blob(); \
         const bmp = await createImageBitmap(b); const c = new OffscreenCanvas(bmp.width, bmp.height); \
         const g = c.getContext('2d'); g.drawImage(bmp, 0, 0); \
         return {points}.map(([x, y]) => Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data)); }})()"
    );
    page.evaluate(js)
        .await
        .expect("decoding the screenshot")
        .into_value::<Vec<[u8; 4]>>()
        .expect("pixels")
}

/// Centre of an element of the page, in device pixels at the given ratio.
async fn centre(page: &Page, selector: &str, ratio: f64) -> (f64, f64) {
    let v = eval(
        page,
        &format!(
            "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ),
    )
    .await;
    (
        v[0].as_f64().unwrap() * ratio,
        v[1].as_f64().unwrap() * ratio,
    )
}

async fn capture_flow(csp: bool) {
    let (store, db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let pictures = picture_site().await;
    let site = capture_site(&app.base, &key, &pictures, csp).await;

    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch(profile.path()).await;
    let page = browser.new_page("about:blank").await.unwrap();
    page.execute(
        chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams::new(
            1000, 700, 2.0, false,
        ),
    )
    .await
    .unwrap();
    page.goto(format!("{site}/checkout")).await.unwrap();
    wait_for(&page, "the widget", "window.Moth && window.Moth.version").await;
    wait_for(
        &page,
        "the page's frame and images",
        "document.getElementById('frame').contentDocument?.readyState === 'complete' && \
         Array.from(document.images).every(i => i.complete)",
    )
    .await;
    assert_eq!(
        eval(&page, "document.getElementById('pw').value").await,
        PASSWORD,
        "the secret is on the page"
    );
    eval(
        &page,
        "console.log('cart loaded', {items: 2}); console.error(new Error('cart broke')); \
         setTimeout(() => { throw new Error('checkout exploded'); }); true",
    )
    .await;
    page.find_element("#buy")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    page.find_element("#note")
        .await
        .unwrap()
        .click()
        .await
        .unwrap()
        .type_str(TYPED)
        .await
        .unwrap();
    eval(&page, "fetch('/api/missing').then(r => r.status)").await;
    wait_for(
        &page,
        "the thrown error",
        "Moth._i.buf.errors.some(e => /checkout exploded/.test(e.message))",
    )
    .await;
    let points = [
        centre(&page, "#hero", 2.0).await,
        centre(&page, "#card", 2.0).await,
        centre(&page, "#frame", 2.0).await,
        centre(&page, "#secret", 2.0).await,
        centre(&page, "#logo", 2.0).await,
    ];

    eval(
        &page,
        &format!("{SHADOW}.querySelector('button.open').click(); true"),
    )
    .await;
    let shot = wait_for(
        &page,
        "the screenshot in the form",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot')"),
    )
    .await;
    let said = eval(
        &page,
        &format!("{SHADOW}.querySelector('form').textContent"),
    )
    .await;
    assert_eq!(shot, "ready", "{said}");
    let health = eval(
        &page,
        &format!("{SHADOW}.querySelector('.health').textContent"),
    )
    .await;
    assert!(
        health
            .as_str()
            .unwrap()
            .contains(&format!("{pictures}/photo.svg")),
        "the reporter sees what is missing: {health}"
    );
    // A black-out from the keyboard: pick the tool, focus the picture, Enter adds the region.
    eval(
        &page,
        &format!(
            "const r = {SHADOW}; r.querySelector('button[data-tool=blackout]').click(); const c = r.querySelector('canvas.shot'); \
             c.focus(); c.dispatchEvent(new KeyboardEvent('keydown', {{key: 'Enter', bubbles: true}})); true"
        ),
    )
    .await;
    let thanks = send_form(&page, "Checkout explodes").await;
    assert!(thanks.starts_with("Thanks!"), "{thanks}");

    let (status, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(status, StatusCode::OK, "{issue}");
    let attachments = issue["attachments"].as_array().unwrap();
    let screenshot = attachments
        .iter()
        .find(|a| a["content_type"] == "image/png")
        .unwrap_or_else(|| panic!("a screenshot: {attachments:?}"));
    let url = screenshot["url"].as_str().unwrap();
    let png = app.download(url, &admin).await;
    assert_eq!(png_size(&png), (2000, 1400), "viewport 1000×700 at 2x");
    let mut probes = points.to_vec();
    // Inside the black-out the editor adds with Enter (40% in, a fifth wide, an eighth high);
    // the page is white there.
    probes.push((1000.0, 640.0));
    let seen = pixels(&page, &png, &probes).await;
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    let mut stored = files_under(
        Path::new(db.url.trim_start_matches("sqlite:"))
            .parent()
            .unwrap(),
    );
    stored.extend(files_under(app.files_dir()));
    CapturedReport {
        issue: &issue,
        site: &site,
        pictures: &pictures,
        csp,
        stack_mark: "at ",
    }
    .check(&seen, &stored);
}

#[tokio::test]
async fn a_dom_screenshot_captures_the_page_and_hides_what_is_secret() {
    if browser::chromium_missing() {
        return;
    }
    capture_flow(false).await;
}

#[tokio::test]
async fn the_same_capture_works_under_a_strict_content_security_policy() {
    if browser::chromium_missing() {
        return;
    }
    capture_flow(true).await;
}

// ---- The outbox: reports that could not be sent wait in IndexedDB ---------------------------

#[tokio::test]
async fn a_report_that_cannot_be_sent_waits_in_the_browser_and_arrives_once() {
    use std::sync::atomic::Ordering;
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let flaky = common::flaky::Flaky::default();
    flaky.down.store(true, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let moth = format!("http://{}", listener.local_addr().unwrap());
    flaky.serve(listener, app.base.clone());
    let (down, lose) = (flaky.down.clone(), flaky.lose.clone());
    let site = customer_site(&moth, &key).await;

    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch(profile.path()).await;
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    let said = report_through_widget(&page, "Sent while Moth was down").await;
    assert!(
        said.contains("saved in this browser"),
        "the reporter is told: {said}"
    );
    assert_eq!(app.issue_count("WEB").await, 0);

    // The connection is back: the `online` event sends it.
    down.store(false, Ordering::SeqCst);
    eval(&page, "window.dispatchEvent(new Event('online')); true").await;
    wait_for_issues(&app, 1).await;

    // Down again: the next report waits until the next page load.
    down.store(true, Ordering::SeqCst);
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    let said = report_through_widget(&page, "Second while down").await;
    assert!(said.contains("saved in this browser"), "{said}");
    down.store(false, Ordering::SeqCst);
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    wait_for(&page, "the widget", "window.Moth && window.Moth.version").await;
    wait_for_issues(&app, 2).await;

    // Nothing is left to send, and nothing was sent twice.
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    wait_for(&page, "the widget", "window.Moth && window.Moth.version").await;
    assert_eq!(eval(&page, "Moth.flush()").await, 0);
    assert_eq!(eval(&page, OUTBOX_SIZE).await, 0);

    // Moth files a report but its answer is lost: the outbox sends it again with the same
    // idempotency key, Moth answers as before (200), and it is filed once.
    lose.store(true, Ordering::SeqCst);
    let lost = browser.new_page(format!("{site}/checkout")).await.unwrap();
    let said = report_through_widget(&lost, "Its answer was lost").await;
    assert!(said.contains("saved in this browser"), "{said}");
    assert_eq!(app.issue_count("WEB").await, 3);
    lose.store(false, Ordering::SeqCst);
    assert_eq!(eval(&lost, "Moth.flush()").await, 1, "counted as delivered");
    assert_eq!(eval(&lost, OUTBOX_SIZE).await, 0);
    assert_eq!(app.issue_count("WEB").await, 3, "not filed twice");

    // A report Moth refuses (here: its key was rotated while it waited) is dropped, not retried.
    down.store(true, Ordering::SeqCst);
    let said = report_through_widget(&page, "Third, for a rotated key").await;
    assert!(said.contains("saved in this browser"), "{said}");
    assert_eq!(eval(&page, OUTBOX_SIZE).await, 1);
    let (status, _) = app
        .post(
            "/api/v1/projects/WEB/intake-key",
            &admin,
            serde_json::json!({}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    down.store(false, Ordering::SeqCst);
    assert_eq!(eval(&page, "Moth.flush()").await, 0);
    assert_eq!(eval(&page, OUTBOX_SIZE).await, 0, "a 404 is not retried");
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    assert_eq!(app.issue_count("WEB").await, 3);
    let (_, first) = app.get("/api/v1/issues/WEB-1", &admin).await;
    let (_, second) = app.get("/api/v1/issues/WEB-2", &admin).await;
    assert_eq!(first["title"], "Sent while Moth was down");
    assert_eq!(second["title"], "Second while down");
    assert!(
        first["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["content_type"] == "image/png"),
        "the screenshot was kept with it: {first}"
    );
}

#[tokio::test]
async fn the_exact_screenshot_captures_the_tab_itself() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let pictures = picture_site().await;
    let site = capture_site(&app.base, &key, &pictures, true).await;

    let profile = tempfile::tempdir().unwrap();
    // What a person does in the browser's "share this tab" prompt.
    let mut browser = launch_with(profile.path(), &["auto-accept-this-tab-capture"]).await;
    let page = browser.new_page(format!("{site}/checkout")).await.unwrap();
    wait_for(&page, "the widget", "window.Moth && window.Moth.version").await;
    eval(&page, "Moth.open(); true").await;
    wait_for(
        &page,
        "the DOM screenshot",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot-source') === 'dom'"),
    )
    .await;
    // A real click: screen capture needs a user gesture.
    let at = eval(
        &page,
        &format!(
            "(() => {{ const b = {SHADOW}.querySelector('button.exact'); if (b.hidden) return null; \
             b.scrollIntoView(); const r = b.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; }})()"
        ),
    )
    .await;
    assert!(
        at.is_array(),
        "the button is offered where getDisplayMedia exists"
    );
    page.click(chromiumoxide::layout::Point {
        x: at[0].as_f64().unwrap(),
        y: at[1].as_f64().unwrap(),
    })
    .await
    .unwrap();
    let source = wait_for(
        &page,
        "the exact screenshot",
        &format!(
            "(() => {{ const f = {SHADOW}.querySelector('form'); return f.getAttribute('data-shot-source') === 'exact' ? 'exact' : (f.querySelector('.err')?.textContent || null); }})()"
        ),
    )
    .await;
    assert_eq!(source, "exact");
    assert_eq!(
        eval(&page, &format!("{SHADOW}.querySelector('.health').hidden")).await,
        true,
        "a pixel-exact picture misses nothing"
    );
    let size = eval(
        &page,
        &format!("(() => {{ const c = {SHADOW}.querySelector('canvas.shot'); return [c.width, c.height]; }})()"),
    )
    .await;
    let thanks = send_form(&page, "Exact").await;
    assert!(thanks.starts_with("Thanks!"), "{thanks}");
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    let url = issue["attachments"][0]["url"].as_str().unwrap().to_string();
    let png = app.download(&url, &admin).await;
    let (width, height) = png_size(&png);
    assert_eq!(
        serde_json::json!([width, height]),
        size,
        "the tab's frame is what was sent"
    );
    // The top of the tab is the page's oklch hero, not the widget (hidden while capturing).
    let top = pixels(&page, &png, &[(width as f64 / 2.0, 20.0)]).await[0];
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    assert!(top[1] > top[0] + 40, "the hero's green: {top:?}");
}

/// Serves one HTML page at `/page` on a local origin of its own.
async fn static_page(html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = axum::Router::new().route(
        "/page",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    tokio::spawn(async move { axum::serve(listener, site).await });
    format!("http://localhost:{port}")
}

#[tokio::test]
async fn a_scrolled_page_is_drawn_where_the_browser_draws_it() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    app.with_project().await;
    // Sections whose headings' margins collapse through their parents, a fixed bar, and a
    // marker far down the page; everything above the viewport decides where the marker is.
    let mut html = format!(
        "<!doctype html><html><head><script src=\"{}/widget.js\" data-moth-key=\"k\"></script></head><body>\
         <div style=\"position:fixed;top:0;left:0;right:0;height:30px;background:rgb(200,0,0)\"></div>",
        app.base
    );
    for i in 0..40 {
        html.push_str(&format!(
            "<section><h2>Section {i}</h2><p>Some words in section {i}.</p><ul><li>one</li></ul></section>"
        ));
    }
    html.push_str(
        "<div id=\"mark\" style=\"height:40px;background:rgb(0,160,0)\"></div>\
         <p style=\"height:2000px\">the rest</p></body></html>",
    );
    let site = static_page(html).await;
    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch(profile.path()).await;
    let page = browser.new_page(format!("{site}/page")).await.unwrap();
    wait_for(&page, "the widget", "window.Moth && window.Moth.version").await;
    eval(
        &page,
        "document.getElementById('mark').scrollIntoView({block: 'center'}); true",
    )
    .await;
    eval(&page, "Moth.open(); true").await;
    wait_for(
        &page,
        "the screenshot",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot') === 'ready'"),
    )
    .await;
    let geometry = eval(
        &page,
        "(() => { const r = document.getElementById('mark').getBoundingClientRect(); \
         return [r.top, r.bottom, devicePixelRatio, scrollY]; })()",
    )
    .await;
    assert!(
        geometry[3].as_f64().unwrap() > 1000.0,
        "the page is scrolled: {geometry}"
    );
    let png_url = eval(
        &page,
        &format!("{SHADOW}.querySelector('canvas.shot').toDataURL('image/png')"),
    )
    .await;
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD
        .decode(
            png_url
                .as_str()
                .unwrap()
                .trim_start_matches("data:image/png;base64,"),
        )
        .unwrap();
    let ratio = geometry[2].as_f64().unwrap();
    let (top, bottom) = (
        geometry[0].as_f64().unwrap() * ratio,
        geometry[1].as_f64().unwrap() * ratio,
    );
    let seen = pixels(
        &page,
        &png,
        &[
            (50.0, top + 3.0),
            (50.0, bottom - 3.0),
            (50.0, top - 4.0),
            (50.0, bottom + 4.0),
            (50.0, 10.0),
        ],
    )
    .await;
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    let green = |p: [u8; 4]| p[1] > 120 && p[0] < 60 && p[2] < 60;
    assert!(
        green(seen[0]) && green(seen[1]),
        "the marker is where it was: {seen:?}"
    );
    assert!(
        !green(seen[2]) && !green(seen[3]),
        "and no taller or shifted: {seen:?}"
    );
    assert!(
        seen[4][0] > 150 && seen[4][1] < 50,
        "the fixed bar stays at the top: {seen:?}"
    );
}

/// A page whose heading uses a web font of its own: the DOM screenshot must draw it with that
/// font (inlined into the picture), and a font it cannot read is listed, never silently swapped.
#[tokio::test]
async fn web_fonts_are_drawn_in_the_screenshot_and_unreadable_ones_listed() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    app.with_project().await;
    // A monospaced face under a name no system font has: its "i" is as wide as its "m", so
    // text drawn in any fallback face ends far short of where the page drew it.
    let face = std::fs::read("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
        .expect("DejaVu fonts come with Chromium's dependencies");
    let html = format!(
        "<!doctype html><html><head><script src=\"{}/widget.js\" data-moth-key=\"k\"></script><style>\
         @font-face {{ font-family: 'Shop Display'; src: url(/display.ttf); }}\
         @font-face {{ font-family: 'Far Away'; src: url(http://127.0.0.1:9/far.ttf); }}\
         body {{ margin: 0; background: #fff; }}\
         #probe {{ font: 64px 'Shop Display'; color: #000; }}\
         #far {{ font: 20px 'Far Away', serif; }}</style></head><body>\
         <span id=\"probe\">iiiiiiii</span><div id=\"far\">far</div></body></html>",
        app.base
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = axum::Router::new()
        .route(
            "/page",
            axum::routing::get(move || async move { axum::response::Html(html) }),
        )
        .route(
            "/display.ttf",
            axum::routing::get(move || async move { ([("content-type", "font/ttf")], face) }),
        );
    tokio::spawn(async move { axum::serve(listener, site).await });
    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch(profile.path()).await;
    let page = browser
        .new_page(format!("http://localhost:{port}/page"))
        .await
        .unwrap();
    wait_for(&page, "the widget", "window.Moth && window.Moth.version").await;
    wait_for(
        &page,
        "the web font",
        "document.fonts.check(\"64px 'Shop Display'\") && document.fonts.status === 'loaded'",
    )
    .await;
    eval(&page, "Moth.open(); true").await;
    wait_for(
        &page,
        "the screenshot",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot') === 'ready'"),
    )
    .await;
    // Where the page drew the text, and where ink ends in the picture along the text's middle.
    let measured = eval(
        &page,
        &format!(
            "(async () => {{ const r = document.getElementById('probe').getBoundingClientRect(); \
             const c = {SHADOW}.querySelector('canvas.shot'); const k = c.width / innerWidth; \
             const g = c.getContext('2d'); const y = Math.round((r.top + r.height / 2) * k); \
             const row = g.getImageData(0, y - 8, c.width, 16).data; let ink = -1; \
             for (let i = 0; i < row.length; i += 4) if (row[i] < 100) ink = Math.max(ink, (i / 4) % c.width); \
             return [r.left * k, r.right * k, ink]; }})()"
        ),
    )
    .await;
    let health = eval(
        &page,
        &format!("{SHADOW}.querySelector('.health').textContent"),
    )
    .await;
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    let [left, right, ink] = [0, 1, 2].map(|i| measured[i].as_f64().unwrap());
    let width = right - left;
    assert!(
        ink > right - 0.15 * width && ink <= right + 2.0,
        "the text ends where the page drew it ({left}..{right}), ink ends at {ink}"
    );
    let health = health.as_str().unwrap();
    assert!(
        health.contains("far.ttf") && !health.contains("display.ttf"),
        "only the unreadable font is listed: {health}"
    );
}
