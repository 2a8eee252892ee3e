//! The browser extension (`extension/`) in a real headless Chromium: configured on its options
//! page, a page on an enabled site that logs, throws, fails a request and is clicked, the
//! toolbar button pressed (the DevTools protocol's `Extensions.triggerAction`, the same as a
//! click: it opens the popup and grants activeTab; where Chromium refuses it, `action.openPopup`
//! from the extension's own page), the report reviewed and sent from the popup,
//! and found stored; and a report Moth cannot take, kept in the extension's outbox and sent once
//! Moth is back.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;
#[path = "common/cdp.rs"]
mod cdp;

use browser::{chromium_missing, eval, keep_screenshot, wait_for};
use cdp::CdpPage;
use chromiumoxide::Page;
use chromiumoxide::browser::Browser;
use chromiumoxide::cdp::browser_protocol::target::{
    ActivateTargetParams, CloseTargetParams, CreateTargetParams, FilterEntry, GetTargetsParams,
    TargetFilter, TargetInfo,
};
use chromiumoxide::types::{Command, Method, MethodId};
use common::TestApp;
use common::extension::{ALARM_SET, WAITING, check_shop_report, extension_copy, shop_site};
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `Extensions.triggerAction`: presses an extension's toolbar button for a tab. chromiumoxide's
/// protocol types predate it.
#[derive(Debug, serde::Serialize)]
struct TriggerAction {
    id: String,
    #[serde(rename = "targetId")]
    target_id: String,
}

impl Method for TriggerAction {
    fn identifier(&self) -> MethodId {
        "Extensions.triggerAction".into()
    }
}

impl Command for TriggerAction {
    type Response = Value;
}

/// A copy of `extension/` whose manifest grants the given hosts at install. With them granted,
/// the options page's `permissions.request` answers at once and everything else runs as shipped.
/// `<all_urls>` is granted too, for capturing the tab: where Chromium will not press the toolbar
/// button for the test (which grants activeTab), `action.openPopup` opens the popup and grants
/// nothing.
fn granted_copy(dir: &Path, granted: &[&str]) {
    extension_copy(dir, |manifest| {
        let mut granted = granted.to_vec();
        granted.push("<all_urls>");
        manifest["host_permissions"] = serde_json::json!(granted);
    });
}

/// One extension test's Chromium at a time: a popup closes when it is slow to show or to
/// answer, and three browsers at once on two cores made that happen.
static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn launch_with_extension(profile: &Path, extension: &Path) -> Browser {
    browser::start(
        browser::config(profile)
            .window_size(1280, 900)
            .viewport(None)
            .extension(extension.to_str().unwrap()),
    )
    .await
}

async fn targets(browser: &Browser, kind: &str) -> Vec<TargetInfo> {
    let filter = vec![FilterEntry {
        exclude: None,
        r#type: Some(kind.to_string()),
    }];
    browser
        .execute(
            GetTargetsParams::builder()
                .filter(TargetFilter::new(filter))
                .build(),
        )
        .await
        .unwrap()
        .result
        .target_infos
}

/// Waits for a target of the kind whose URL satisfies `wanted`.
async fn target_where(
    browser: &Browser,
    kind: &str,
    what: &str,
    wanted: impl Fn(&str) -> bool,
) -> TargetInfo {
    for _ in 0..100 {
        if let Some(t) = targets(browser, kind)
            .await
            .into_iter()
            .find(|t| wanted(&t.url))
        {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// Presses the extension's toolbar button on the tab whose URL ends with `tab_url_end`, and
/// returns its popup once the review form (or an error) shows. On a loaded machine Chromium
/// now and then closes a popup while it is still opening; the button is then pressed again,
/// as a person would.
async fn press_button(browser: &mut Browser, id: &str, tab_url_end: &str) -> CdpPage {
    for _ in 0..3 {
        if let Some(popup) = open_popup(browser, id, tab_url_end).await {
            return popup;
        }
        eprintln!("the popup closed while opening; pressing the button again");
    }
    panic!("the popup closed while opening, three times");
}

/// The popup, once its review form (or an error) shows; none if it closed before that.
async fn open_popup(browser: &mut Browser, id: &str, tab_url_end: &str) -> Option<CdpPage> {
    let popup_url = format!("chrome-extension://{id}/popup.html");
    let open_popups = || async {
        targets(browser, "page")
            .await
            .into_iter()
            .filter(|t| t.url == popup_url)
            .map(|t| t.target_id)
            .collect::<Vec<_>>()
    };
    // One popup at a time: the last one is closed first, and gone before the button is
    // pressed, or its closing may take the new one with it.
    for open in open_popups().await {
        let _ = browser.execute(CloseTargetParams::new(open)).await;
    }
    for _ in 0..100 {
        if open_popups().await.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open_before = open_popups().await;
    let tab = target_where(browser, "tab", "the tab", |u| u.ends_with(tab_url_end)).await;
    let pressed = browser
        .execute(TriggerAction {
            id: id.to_string(),
            target_id: tab.target_id.as_ref().to_string(),
        })
        .await;
    let mut opener = None;
    if let Err(e) = pressed {
        // Newer Chromium answers the `Extensions` domain only over a pipe, and chromiumoxide
        // talks over a WebSocket: the extension opens its popup itself for the tab in front
        // (`action.openPopup`, from a background tab of its own). That grants no activeTab.
        eprintln!("Extensions.triggerAction: {e}; opening the popup with action.openPopup");
        browser
            .execute(ActivateTargetParams::new(tab.target_id.clone()))
            .await
            .unwrap();
        let page = browser
            .new_page(
                CreateTargetParams::builder()
                    .url(format!("chrome-extension://{id}/options.html"))
                    .background(true)
                    .build()
                    .unwrap(),
            )
            .await
            .unwrap();
        eval(&page, "chrome.action.openPopup().then(() => true)").await;
        opener = Some(page.target_id().clone());
    }
    let mut popup = None;
    for _ in 0..100 {
        popup = targets(browser, "page")
            .await
            .into_iter()
            .find(|t| t.url == popup_url && !open_before.contains(&t.target_id));
        if popup.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let popup = popup.expect("the popup opens");
    let popup = CdpPage::attach(
        browser.websocket_address(),
        popup.target_id.as_ref(),
        "the popup",
    )
    .await;
    if let Some(opener) = opener {
        browser
            .execute(CloseTargetParams::new(opener))
            .await
            .unwrap();
    }
    popup
        .until_gone(
            "the review form",
            "document.getElementById('main').dataset.ready === 'true' || document.querySelector('.err')?.textContent",
        )
        .await
        .map(|_| popup)
}

/// Saves the popup as it shows (a popup cannot be resized for a full-page picture).
async fn keep_popup_screenshot(page: &CdpPage, name: &str) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = page.screenshot().await;
    let path = dir.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

/// The extension's id, from its service worker's URL.
async fn extension_id(browser: &Browser) -> String {
    let worker = target_where(
        browser,
        "service_worker",
        "the extension's service worker",
        |u| u.starts_with("chrome-extension://") && u.ends_with("/background.js"),
    )
    .await;
    worker.url["chrome-extension://".len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

/// Fills the options form, presses "Test and save" with a real click (a permission request
/// needs one) and returns what the page then says.
async fn save_options(page: &Page, server: &str, key: &str, sites: &str) -> (bool, String) {
    let fill = format!(
        "(() => {{ const f = document.getElementById('settings').elements; f.server.value = {server:?}; \
         f.key.value = {key:?}; f.sites.value = {sites:?}; f.name.value = 'Quinn QA'; \
         const m = document.getElementById('message'); m.textContent = ''; m.className = 'msg'; return true; }})()"
    );
    eval(page, &fill).await;
    page.find_element("#save")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let state = "(() => { const m = document.getElementById('message'); \
         return [m.className, m.textContent, document.getElementById('save').disabled]; })()";
    let mut said = Value::Null;
    for _ in 0..100 {
        said = eval(page, state).await;
        let settled = said[0]
            .as_str()
            .is_some_and(|c| c.contains("ok") || c.contains("err"));
        if settled && said[2] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(said[2], false, "the options page still works on it: {said}");
    (
        said[0].as_str().unwrap().contains("ok"),
        said[1].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn the_widget_serves_the_extensions_recorder_within_its_budget() {
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let widget = app
        .client
        .get(format!("{}/widget.js", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let recorder = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../extension/recorder.js"),
    )
    .unwrap();
    assert!(
        widget.contains(&recorder),
        "one recorder for the widget and the extension"
    );
    let Ok(mut gzip) = std::process::Command::new("gzip")
        .arg("-9c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    else {
        eprintln!("skipped the size check: no gzip");
        return;
    };
    use std::io::Write;
    gzip.stdin
        .take()
        .unwrap()
        .write_all(widget.as_bytes())
        .unwrap();
    let gzipped = gzip.wait_with_output().unwrap().stdout.len();
    assert!(
        gzipped <= 10 * 1024,
        "/widget.js loads on every page: {gzipped} bytes gzipped"
    );
}

#[tokio::test]
async fn the_extension_reports_the_tab_with_what_happened_on_it() {
    if chromium_missing() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    // The project only takes widget reports from its shop; the extension is no web site.
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            serde_json::json!({"allowed_origins": ["https://shop.example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let site = shop_site().await;

    let extension = tempfile::tempdir().unwrap();
    granted_copy(
        extension.path(),
        &["http://localhost/*", "http://127.0.0.1/*"],
    );
    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch_with_extension(profile.path(), extension.path()).await;
    let id = extension_id(&browser).await;

    // Options: readable refusals first, then the real settings.
    let options = browser
        .new_page(format!("chrome-extension://{id}/options.html"))
        .await
        .unwrap();
    wait_for(
        &options,
        "the options page",
        "document.getElementById('settings').dataset.loaded",
    )
    .await;
    let (saved, said) = save_options(&options, "ftp://moth.example", &key, "").await;
    assert!(
        !saved && said.contains("must start with https://"),
        "{said}"
    );
    let (saved, said) = save_options(&options, &app.base, &key, "shop example").await;
    assert!(!saved && said.contains("is not a site"), "{said}");
    let (saved, said) = save_options(&options, &app.base, "no-such-key", "http://localhost").await;
    assert!(
        !saved && said.contains("Moth does not know this intake key"),
        "{said}"
    );
    let (saved, said) = save_options(&options, &app.base, &key, &format!("{site}/checkout")).await;
    assert!(saved, "{said}");
    keep_screenshot(&options, "extension-options").await;
    assert!(said.contains("recording on http://localhost/*"), "{said}");
    let stored = eval(
        &options,
        "chrome.storage.local.get().then(s => JSON.stringify(s))",
    )
    .await;
    let stored: Value = serde_json::from_str(stored.as_str().unwrap()).unwrap();
    assert_eq!(stored["server"], app.base.as_str());
    assert_eq!(stored["sites"], serde_json::json!(["http://localhost/*"]));

    // Things go wrong on the shop.
    let shop = browser.new_page(format!("{site}/checkout")).await.unwrap();
    shop.find_element("#pay")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(
        &shop,
        "the failed request",
        "document.getElementById('out').textContent === 'answered 404'",
    )
    .await;
    let viewport = eval(
        &shop,
        "[Math.round(innerWidth * devicePixelRatio), Math.round(innerHeight * devicePixelRatio)]",
    )
    .await;

    // The toolbar button, pressed on the shop's tab.
    let popup = press_button(&mut browser, &id, "/checkout").await;
    let listed = popup
        .eval("document.querySelector('fieldset').textContent")
        .await;
    let listed = listed.as_str().unwrap();
    for expected in [
        "Screenshot",
        "2 console lines",
        "1 error",
        "1 request",
        "1 action",
        "token=[redacted]",
    ] {
        assert!(listed.contains(expected), "{expected}: {listed}");
    }
    for one in ["1 errors", "1 requests", "1 actions"] {
        assert!(!listed.contains(one), "{one}: {listed}");
    }
    assert!(
        !listed.contains("s3cret"),
        "redacted in the page, before anything leaves it: {listed}"
    );
    popup
        .eval("document.querySelectorAll('details').forEach(d => d.open = true); true")
        .await;
    keep_popup_screenshot(&popup, "extension-popup").await;
    // The reporter takes the first console line out, and sends.
    popup.eval("(() => { const first = [...document.querySelectorAll('[data-part=console] li')].find(li => li.textContent.includes('first script')); \
         first.querySelector('input').click(); \
         document.getElementById('title').value = 'Pay explodes'; \
         document.getElementById('description').value = 'Pressed Pay now'; \
         document.getElementById('send').click(); return true; })()",
    )
    .await;
    let answer = popup.wait_for("the popup's answer",
        "document.querySelector('.done')?.textContent || document.querySelector('.err')?.textContent",
    )
    .await;
    let answer = answer.as_str().unwrap();
    assert!(
        answer.starts_with("Sent as WEB-1") && answer.contains(&format!("{}/status/", app.base)),
        "{answer}"
    );

    let (status, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(status, StatusCode::OK, "{issue}");
    assert_eq!(issue["title"], "Pay explodes");
    assert_eq!(issue["reporter"]["name"], "Quinn QA", "{issue}");
    let url = check_shop_report(&issue, &site, "Chrome");
    let png = app.download(&url, &admin).await;
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.encode(&png);
    // Decoded by the browser, in the popup.
    let decoded = popup.eval(&format!(
            "(async () => {{ const b = await createImageBitmap(await (await fetch('data:image/png;base64,{data}')).blob()); return [b.width, b.height]; }})()"
        ),
    )
    .await;
    assert_eq!(decoded, viewport, "the whole visible tab, decoded");

    // A site that is not enabled: the screenshot and the address, and the form says why
    // there is nothing else.
    browser
        .new_page(format!("{}/healthz", app.base))
        .await
        .unwrap();
    let popup = press_button(&mut browser, &id, "/healthz").await;
    let note = popup
        .eval("document.getElementById('not-recorded')?.textContent")
        .await;
    assert!(
        note.as_str()
            .is_some_and(|n| n.contains("the recorder is not running on this page")),
        "{note}"
    );
    popup
        .eval(
            "document.getElementById('title').value = 'Health page looks odd'; \
         document.getElementById('send').click(); true",
        )
        .await;
    let answer = popup.wait_for("the popup's answer",
        "document.querySelector('.done')?.textContent || document.querySelector('.err')?.textContent",
    )
    .await;
    assert!(
        answer.as_str().unwrap().starts_with("Sent as WEB-2"),
        "{answer}"
    );

    // Moth refuses (the key was rotated): its own words, and the form stays to try again.
    let (status, _) = app
        .post(
            "/api/v1/projects/WEB/intake-key",
            &admin,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let popup = press_button(&mut browser, &id, "/healthz").await;
    popup
        .eval(
            "document.getElementById('title').value = 'Too late'; \
         document.getElementById('send').click(); true",
        )
        .await;
    let refused = popup
        .wait_for("the refusal", "document.querySelector('.err')?.textContent")
        .await;
    assert!(
        refused
            .as_str()
            .unwrap()
            .starts_with("Moth refused the report: this intake key is unknown or was rotated"),
        "{refused}"
    );
    assert_eq!(
        popup.eval("document.getElementById('send').disabled").await,
        false
    );
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    let (_, issue) = app.get("/api/v1/issues/WEB-2", &admin).await;
    assert_eq!(
        issue["context"]["page_url"],
        format!("{}/healthz", app.base)
    );
    assert_eq!(issue["context"]["environment"]["source"], "extension");
    assert_eq!(
        issue["context"]["console"],
        serde_json::json!([]),
        "{issue}"
    );
    assert_eq!(
        issue["attachments"][0]["filename"], "screenshot.png",
        "{issue}"
    );
}

/// Moth as the extension knows it, started late on a port kept free until then (see
/// `common::flaky` for what `busy` (down) and `lose` do).
async fn moth_behind(port: u16, moth: String, busy: Arc<AtomicBool>, lose: Arc<AtomicBool>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    common::flaky::Flaky { down: busy, lose }.serve(listener, moth);
}

/// Types a title in the popup's form, sends, and returns what the popup then says.
async fn file_from_popup(popup: &CdpPage, title: &str) -> String {
    popup
        .eval(&format!(
            "document.getElementById('title').value = {title:?}; \
             document.getElementById('send').click(); true"
        ))
        .await;
    let answer = popup.wait_for("the popup's answer",
        "document.querySelector('.done')?.textContent || document.querySelector('#main .err')?.textContent",
    )
    .await;
    answer.as_str().unwrap().to_string()
}

/// What the popup's outbox shows once the background has tried to send what waits.
async fn outbox_after_sending(popup: &CdpPage) -> String {
    popup
        .wait_for(
            "the outbox to be sent",
            "document.getElementById('outbox').dataset.settled === 'true'",
        )
        .await;
    let shown = popup
        .eval("(o => o.hidden ? '' : o.textContent)(document.getElementById('outbox'))")
        .await;
    shown.as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_report_moth_cannot_take_waits_in_the_outbox_and_is_filed_once() {
    if chromium_missing() {
        return;
    }
    let _one = ONE_BROWSER.lock().await;
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    // Moth's address, where nothing listens yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let moth = format!("http://127.0.0.1:{port}");

    let extension = tempfile::tempdir().unwrap();
    granted_copy(extension.path(), &["http://127.0.0.1/*"]);
    let profile = tempfile::tempdir().unwrap();
    let mut browser = launch_with_extension(profile.path(), extension.path()).await;
    let id = extension_id(&browser).await;
    // Saved directly: the options page would not save a server it cannot reach.
    let options = browser
        .new_page(format!("chrome-extension://{id}/options.html"))
        .await
        .unwrap();
    let set = |key: &str| {
        format!("chrome.storage.local.set({{server: {moth:?}, key: {key:?}}}).then(() => true)")
    };
    eval(&options, &set(&key)).await;
    browser
        .new_page(format!("{}/healthz", app.base))
        .await
        .unwrap();

    // Moth cannot be reached: the report is saved, and the reporter told so.
    let popup = press_button(&mut browser, &id, "/healthz").await;
    assert_eq!(outbox_after_sending(&popup).await, "");
    let said = file_from_popup(&popup, "Filed while Moth was away").await;
    assert_eq!(
        said,
        "Moth could not be reached; the report is saved and will be sent when it can be."
    );
    let count = popup
        .wait_for(
            "the waiting count",
            "document.getElementById('outbox-count')?.textContent",
        )
        .await;
    assert_eq!(count, "1 report waiting to be sent");
    assert_eq!(
        eval(&options, ALARM_SET).await,
        true,
        "the background will try again"
    );

    // Another, to a key Moth will not know (rotated while the report waited). Settings are
    // written from the options tab, which stays open; a popup closes when it loses focus.
    eval(&options, &set("no-such-key")).await;
    let popup = press_button(&mut browser, &id, "/healthz").await;
    let shown = outbox_after_sending(&popup).await;
    assert!(shown.starts_with("1 report waiting to be sent"), "{shown}");
    let said = file_from_popup(&popup, "Filed to an unknown key").await;
    assert!(said.starts_with("Moth could not be reached"), "{said}");
    let count = popup.wait_for("the waiting count",
        "document.getElementById('outbox-count')?.textContent === '2 reports waiting to be sent'",
    )
    .await;
    assert_eq!(count, true);
    keep_popup_screenshot(&popup, "extension-outbox").await;
    assert_eq!(eval(&options, WAITING).await, 2);
    assert_eq!(app.issue_count("WEB").await, 0);

    // Moth is back: opening the popup sends what waits. The first is filed, the second refused
    // and remembered with Moth's words, not retried.
    eval(&options, &set(&key)).await;
    let busy = Arc::new(AtomicBool::new(false));
    let lose = Arc::new(AtomicBool::new(false));
    moth_behind(port, app.base.clone(), busy.clone(), lose.clone()).await;
    let popup = press_button(&mut browser, &id, "/healthz").await;
    let shown = outbox_after_sending(&popup).await;
    assert!(!shown.contains("waiting"), "{shown}");
    assert!(
        shown.contains(
            "“Filed to an unknown key” was not filed: this intake key is unknown or was rotated"
        ),
        "{shown}"
    );
    assert_eq!(eval(&options, WAITING).await, 0);
    assert_eq!(
        eval(&options, ALARM_SET).await,
        false,
        "nothing left to wake for"
    );
    assert_eq!(app.issue_count("WEB").await, 1);
    popup
        .eval("document.querySelector('#outbox .dismiss').click(); true")
        .await;
    popup
        .wait_for(
            "the refusal dismissed",
            "document.getElementById('outbox').hidden",
        )
        .await;

    // Moth files a report but its answer is lost: it waits, and "Send now" sends it again with
    // the same Idempotency-Key; Moth answers 200 and it is filed once.
    lose.store(true, Ordering::SeqCst);
    let said = file_from_popup(&popup, "Its answer was lost").await;
    assert!(
        said.starts_with("Moth could not take the report just now (it answered 503)"),
        "{said}"
    );
    assert_eq!(app.issue_count("WEB").await, 2);
    lose.store(false, Ordering::SeqCst);
    // The outbox shows the waiting report once the popup has stored it.
    popup
        .wait_for("Send now", "document.getElementById('send-now') !== null")
        .await;
    popup
        .eval("document.getElementById('send-now').click(); true")
        .await;
    assert_eq!(outbox_after_sending(&popup).await, "");
    assert_eq!(eval(&options, WAITING).await, 0);
    assert_eq!(app.issue_count("WEB").await, 2, "not filed twice");

    // Moth answers 503 for a while: the report waits, and the background's alarm sends it, the
    // popup closed.
    busy.store(true, Ordering::SeqCst);
    let popup = press_button(&mut browser, &id, "/healthz").await;
    assert_eq!(outbox_after_sending(&popup).await, "");
    let said = file_from_popup(&popup, "Sent while Moth was busy").await;
    assert!(said.contains("(it answered 503)"), "{said}");
    assert_eq!(eval(&options, ALARM_SET).await, true);
    busy.store(false, Ordering::SeqCst);
    let options = browser
        .new_page(format!("chrome-extension://{id}/options.html"))
        .await
        .unwrap();
    assert_eq!(
        eval(&options, WAITING).await,
        1,
        "the popup closed, the report waits"
    );
    // The alarm, due now instead of in a minute.
    eval(
        &options,
        "chrome.alarms.create('moth-outbox', { when: Date.now() }).then(() => true)",
    )
    .await;
    wait_for(
        &options,
        "the background to send",
        &format!("{WAITING}.then(n => n === 0)"),
    )
    .await;
    wait_for(
        &options,
        "the alarm cleared",
        &format!("{ALARM_SET}.then(set => !set)"),
    )
    .await;
    assert_eq!(app.issue_count("WEB").await, 3);
    browser.close().await.unwrap();
    let _ = browser.wait().await;
    assert_eq!(app.issue_count("WEB").await, 3, "each filed once");

    let (status, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(status, StatusCode::OK, "{issue}");
    assert_eq!(issue["title"], "Filed while Moth was away");
    assert_eq!(issue["context"]["environment"]["source"], "extension");
    assert_eq!(
        issue["context"]["page_url"],
        format!("{}/healthz", app.base)
    );
    let attachment = &issue["attachments"][0];
    assert_eq!(attachment["filename"], "screenshot.png", "{issue}");
    assert_eq!(attachment["content_type"], "image/png");
    let png = app
        .download(attachment["url"].as_str().unwrap(), &admin)
        .await;
    assert!(
        png.starts_with(b"\x89PNG"),
        "the screenshot's bytes kept whole"
    );
    let (_, issue) = app.get("/api/v1/issues/WEB-2", &admin).await;
    assert_eq!(issue["title"], "Its answer was lost");
    let (_, issue) = app.get("/api/v1/issues/WEB-3", &admin).await;
    assert_eq!(issue["title"], "Sent while Moth was busy");
}
