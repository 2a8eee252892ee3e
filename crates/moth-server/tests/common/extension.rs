//! What the extension's tests in both browsers share: a copy of `extension/` with its hosts
//! granted, a shop to record that goes wrong, and the checks on the report filed from it.

use serde_json::Value;
use std::path::Path;

/// How many reports wait in the extension's outbox (IndexedDB, the extension's origin).
pub const WAITING: &str = "new Promise(done => { const o = indexedDB.open('moth-outbox'); \
    o.onsuccess = () => { const c = o.result.transaction('waiting').objectStore('waiting').count(); \
    c.onsuccess = () => { o.result.close(); done(c.result); }; }; })";

/// Whether the background's alarm to send the outbox is set (`chrome.*` answers in Firefox too).
pub const ALARM_SET: &str = "chrome.alarms.get('moth-outbox').then(a => !!a)";

/// A copy of `extension/` with its manifest changed by `edit`: a test grants there what a person
/// grants in the browser's prompts, which a headless browser cannot answer.
pub fn extension_copy(dir: &Path, edit: impl FnOnce(&mut Value)) {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../../extension"),
        dir,
    );
    let path = dir.join("manifest.json");
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    edit(&mut manifest);
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

/// A page on the site to record: it logs before anything else, and a click warns, fails a
/// request that carries a token and throws.
pub async fn shop_site() -> String {
    let html = "<!doctype html><html><head><title>Shop</title>\
        <script>console.log('shop: first script', {cart: 3});</script></head>\
        <body><h1>Checkout</h1><button id=\"pay\">Pay now</button><p id=\"out\"></p>\
        <script>\
        document.getElementById('pay').addEventListener('click', function () {\
          console.warn('shop: paying');\
          fetch('/api/pay?token=s3cret-token-value&step=2').then(function (r) { document.getElementById('out').textContent = 'answered ' + r.status; });\
          setTimeout(function () { throw new Error('shop: checkout exploded'); }, 0);\
        });\
        </script></body></html>";
    super::one_page_site("/checkout", html.to_string()).await
}

/// Checks what Moth stored of the shop's report, sent from the extension in `browser` with the
/// first console line taken out; answers the screenshot's URL.
pub fn check_shop_report(issue: &Value, site: &str, browser: &str) -> String {
    assert_eq!(issue["description"], "Pressed Pay now");
    let context = &issue["context"];
    assert_eq!(context["page_url"], format!("{site}/checkout"));
    let environment = &context["environment"];
    assert_eq!(environment["source"], "extension", "{environment}");
    assert_eq!(environment["extension_version"], "0.1.0");
    assert_eq!(environment["browser"]["name"], browser, "{environment}");

    let console = context["console"].as_array().unwrap();
    assert!(
        console
            .iter()
            .any(|c| c["level"] == "warn" && c["message"] == "shop: paying"),
        "{console:?}"
    );
    assert!(
        !console
            .iter()
            .any(|c| c["message"].as_str().unwrap().contains("first script")),
        "the line taken out stays out: {console:?}"
    );
    let errors = context["errors"].as_array().unwrap();
    let error = errors
        .iter()
        .find(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("shop: checkout exploded"))
        })
        .unwrap_or_else(|| panic!("the error: {errors:?}"));
    assert!(
        error["stack"]
            .as_str()
            .is_some_and(|s| s.contains("checkout")),
        "the stack, with the page it came from: {error}"
    );
    let network = context["network"].as_array().unwrap();
    assert_eq!(
        network.len(),
        1,
        "the report itself is not recorded: {network:?}"
    );
    assert_eq!(
        network[0]["url"],
        format!("{site}/api/pay?token=[redacted]&step=2")
    );
    assert_eq!(network[0]["status"], 404);
    assert_eq!(network[0]["failed"], true);
    let actions = context["actions"].as_array().unwrap();
    assert_eq!(
        actions[0]["target"], "button#pay \"Pay now\"",
        "{actions:?}"
    );
    assert!(!issue.to_string().contains("s3cret"));

    let attachment = issue["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["filename"] == "screenshot.png")
        .unwrap_or_else(|| panic!("the screenshot: {issue}"));
    assert_eq!(attachment["content_type"], "image/png");
    attachment["url"].as_str().unwrap().to_string()
}
