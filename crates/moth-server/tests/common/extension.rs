//! What the extension's tests in both browsers share: a copy of `extension/` with its hosts
//! granted, and a shop to record that goes wrong.

use serde_json::Value;
use std::path::Path;

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = axum::Router::new().route(
        "/checkout",
        axum::routing::get(move || async move { axum::response::Html(html) }),
    );
    tokio::spawn(async move { axum::serve(listener, site).await });
    // `localhost`, another origin than Moth's `127.0.0.1`.
    format!("http://localhost:{port}")
}
