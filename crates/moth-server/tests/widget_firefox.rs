//! The capture widget in a real headless Firefox: the shop of the Chromium capture test (an
//! oklch colour, a shadow root, a frame, a cross-origin image, secrets in inputs), things going
//! wrong on it, real clicks and typing, the widget's button pressed, a region blacked out and the
//! report sent; then the same checks on what Moth stored, with and without a strict CSP. And
//! reports Moth cannot take, kept in the page's IndexedDB and sent once.

mod common;

#[path = "common/firefox.rs"]
#[allow(dead_code)]
mod firefox;

use common::TestApp;
use common::capture::{
    CapturedReport, OUTBOX_SIZE, PASSWORD, SHADOW, TYPED, capture_site, customer_site, files_under,
    picture_site, png_size, wait_for_issues,
};
use firefox::{Firefox, firefox_missing};
use reqwest::StatusCode;
use std::path::Path;

/// Centre of an element of the page, in device pixels at the given ratio.
async fn centre(firefox: &mut Firefox, tab: &str, selector: &str, ratio: f64) -> (f64, f64) {
    let v = firefox
        .eval(
            tab,
            &format!(
                "(r => [r.x + r.width / 2, r.y + r.height / 2])(document.querySelector({selector:?}).getBoundingClientRect())"
            ),
        )
        .await;
    (
        v[0].as_f64().unwrap() * ratio,
        v[1].as_f64().unwrap() * ratio,
    )
}

/// Decodes `png` in the page and answers the RGBA pixels at the given device-pixel points.
async fn pixels(
    firefox: &mut Firefox,
    tab: &str,
    png: &[u8],
    points: &[(f64, f64)],
) -> Vec<[u8; 4]> {
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let points = serde_json::to_string(points).unwrap();
    let js = format!(
        "(async () => {{ const b = await (await fetch('data:image/png;base64,{data}')).blob(); \
         const bmp = await createImageBitmap(b); const c = new OffscreenCanvas(bmp.width, bmp.height); \
         const g = c.getContext('2d'); g.drawImage(bmp, 0, 0); \
         return {points}.map(([x, y]) => Array.from(g.getImageData(Math.round(x), Math.round(y), 1, 1).data)); }})()"
    );
    serde_json::from_value(firefox.eval(tab, &js).await).expect("pixels")
}

async fn capture_flow_in_firefox(csp: bool) {
    let (store, db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let pictures = picture_site().await;
    let site = capture_site(&app.base, &key, &pictures, csp).await;

    let mut firefox = Firefox::launch().await;
    let tab = firefox.new_tab("about:blank").await;
    firefox.set_viewport(&tab, 1000, 700, 2.0).await;
    firefox.navigate(&tab, &format!("{site}/checkout")).await;
    firefox
        .wait_for(&tab, "the widget", "window.Moth && window.Moth.version")
        .await;
    firefox
        .wait_for(
            &tab,
            "the page's frame and images",
            "document.getElementById('frame').contentDocument?.readyState === 'complete' && \
             Array.from(document.images).every(i => i.complete)",
        )
        .await;
    assert_eq!(
        firefox
            .eval(&tab, "document.getElementById('pw').value")
            .await,
        PASSWORD,
        "the secret is on the page"
    );
    firefox
        .eval(
            &tab,
            "(console.log('cart loaded', {items: 2}), console.error(new Error('cart broke')), \
             setTimeout(() => { throw new Error('checkout exploded'); }), true)",
        )
        .await;
    firefox.click(&tab, "#buy").await;
    firefox.click(&tab, "#note").await;
    firefox.type_text(&tab, TYPED).await;
    firefox
        .eval(&tab, "fetch('/api/missing').then(r => r.status)")
        .await;
    firefox
        .wait_for(
            &tab,
            "the thrown error",
            "Moth._i.buf.errors.some(e => /checkout exploded/.test(e.message))",
        )
        .await;
    let mut points = Vec::new();
    for selector in ["#hero", "#card", "#frame", "#secret", "#logo"] {
        points.push(centre(&mut firefox, &tab, selector, 2.0).await);
    }

    // The reporter presses the widget's button.
    firefox
        .click_on(&tab, &format!("{SHADOW}.querySelector('button.open')"))
        .await;
    let shot = firefox
        .wait_for(
            &tab,
            "the screenshot in the form",
            &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot')"),
        )
        .await;
    let said = firefox
        .eval(&tab, &format!("{SHADOW}.querySelector('form').textContent"))
        .await;
    assert_eq!(shot, "ready", "{said}");
    let health = firefox
        .eval(
            &tab,
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
    firefox
        .click_on(
            &tab,
            &format!("{SHADOW}.querySelector('button[data-tool=blackout]')"),
        )
        .await;
    firefox
        .eval(
            &tab,
            &format!("({SHADOW}.querySelector('canvas.shot').focus(), true)"),
        )
        .await;
    firefox.type_text(&tab, "\u{E007}").await;
    firefox
        .click_on(
            &tab,
            &format!("{SHADOW}.querySelector('form').elements.title"),
        )
        .await;
    firefox.type_text(&tab, "Checkout explodes").await;
    firefox
        .click_on(&tab, &format!("{SHADOW}.querySelector('button.send')"))
        .await;
    let thanks = firefox
        .wait_for(
            &tab,
            "the widget's answer",
            &format!(
                "{SHADOW}.querySelector('.done')?.textContent || {SHADOW}.querySelector('.err')?.textContent"
            ),
        )
        .await;
    assert!(thanks.as_str().unwrap().starts_with("Thanks!"), "{thanks}");

    let (status, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(status, StatusCode::OK, "{issue}");
    assert_eq!(
        issue["context"]["environment"]["browser"]["name"], "Firefox",
        "{issue}"
    );
    let screenshot = issue["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["content_type"] == "image/png")
        .unwrap_or_else(|| panic!("a screenshot: {issue}"));
    let png = app
        .download(screenshot["url"].as_str().unwrap(), &admin)
        .await;
    assert_eq!(png_size(&png), (2000, 1400), "viewport 1000×700 at 2x");
    points.push((1000.0, 640.0));
    let seen = pixels(&mut firefox, &tab, &png, &points).await;

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
        stack_mark: "@",
    }
    .check(&seen, &stored);
}

#[tokio::test]
async fn in_firefox_a_dom_screenshot_captures_the_page_and_hides_what_is_secret() {
    if firefox_missing() {
        return;
    }
    capture_flow_in_firefox(false).await;
}

#[tokio::test]
async fn in_firefox_the_same_capture_works_under_a_strict_content_security_policy() {
    if firefox_missing() {
        return;
    }
    capture_flow_in_firefox(true).await;
}

/// Opens the widget's form with `Moth.open()`, titles it, sends, and answers what it says.
async fn report_through_widget(firefox: &mut Firefox, tab: &str, title: &str) -> String {
    firefox
        .wait_for(tab, "the widget", "window.Moth && window.Moth.version")
        .await;
    firefox.eval(tab, "(Moth.open(), true)").await;
    firefox
        .wait_for(
            tab,
            "the form",
            &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot')"),
        )
        .await;
    firefox
        .click_on(
            tab,
            &format!("{SHADOW}.querySelector('form').elements.title"),
        )
        .await;
    firefox.type_text(tab, title).await;
    firefox
        .click_on(tab, &format!("{SHADOW}.querySelector('button.send')"))
        .await;
    let said = firefox
        .wait_for(
            tab,
            "the widget's answer",
            &format!(
                "{SHADOW}.querySelector('.done')?.textContent || {SHADOW}.querySelector('.err')?.textContent"
            ),
        )
        .await;
    said.as_str().unwrap().to_string()
}

#[tokio::test]
async fn in_firefox_a_report_that_cannot_be_sent_waits_in_the_browser_and_arrives_once() {
    use std::sync::atomic::Ordering;
    if firefox_missing() {
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
    let site = customer_site(&moth, &key).await;
    let mut firefox = Firefox::launch().await;

    let page = firefox.new_tab(&format!("{site}/checkout")).await;
    let said = report_through_widget(&mut firefox, &page, "Sent while Moth was down").await;
    assert!(
        said.contains("saved in this browser"),
        "the reporter is told: {said}"
    );
    assert_eq!(firefox.eval(&page, OUTBOX_SIZE).await, 1);
    assert_eq!(app.issue_count("WEB").await, 0);

    // The connection is back: the `online` event sends it.
    flaky.down.store(false, Ordering::SeqCst);
    firefox
        .eval(&page, "(window.dispatchEvent(new Event('online')), true)")
        .await;
    wait_for_issues(&app, 1).await;

    // Down again: the next report waits until the next page load.
    flaky.down.store(true, Ordering::SeqCst);
    let said = report_through_widget(&mut firefox, &page, "Second while down").await;
    assert!(said.contains("saved in this browser"), "{said}");
    flaky.down.store(false, Ordering::SeqCst);
    let page = firefox.new_tab(&format!("{site}/checkout")).await;
    firefox
        .wait_for(&page, "the widget", "window.Moth && window.Moth.version")
        .await;
    wait_for_issues(&app, 2).await;

    // Moth files a report but its answer is lost: sent again with the same idempotency key,
    // it is filed once.
    flaky.lose.store(true, Ordering::SeqCst);
    let said = report_through_widget(&mut firefox, &page, "Its answer was lost").await;
    assert!(said.contains("saved in this browser"), "{said}");
    assert_eq!(app.issue_count("WEB").await, 3);
    flaky.lose.store(false, Ordering::SeqCst);
    assert_eq!(
        firefox.eval(&page, "Moth.flush()").await,
        1,
        "counted as delivered"
    );
    assert_eq!(firefox.eval(&page, OUTBOX_SIZE).await, 0);
    assert_eq!(app.issue_count("WEB").await, 3, "not filed twice");

    let (_, first) = app.get("/api/v1/issues/WEB-1", &admin).await;
    let (_, second) = app.get("/api/v1/issues/WEB-2", &admin).await;
    assert_eq!(first["title"], "Sent while Moth was down");
    assert_eq!(second["title"], "Second while down");
    assert_eq!(
        first["context"]["environment"]["browser"]["name"],
        "Firefox"
    );
    assert!(
        first["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["content_type"] == "image/png"),
        "the screenshot was kept with it: {first}"
    );
}
