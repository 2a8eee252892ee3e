//! What the widget's tests in both browsers share: a customer's page, the capture test's shop
//! (what DOM screenshots usually get wrong) with the checks on the report Moth stored from it,
//! and a look into the widget's outbox.

use axum::response::IntoResponse;
use serde_json::Value;
use std::path::Path;

/// The widget inside its shadow root, as page JavaScript sees it.
pub const SHADOW: &str = "document.querySelector('[data-moth-widget]')?.shadowRoot";

pub async fn picture_site() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let site = axum::Router::new().route(
        "/photo.svg",
        axum::routing::get(|| async {
            (
                [("content-type", "image/svg+xml")],
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"80\"><rect width=\"120\" height=\"80\" fill=\"#f0a\"/></svg>",
            )
        }),
    );
    tokio::spawn(async move { axum::serve(listener, site).await });
    format!("http://127.0.0.1:{port}")
}

/// The pre-load stub of the README: calls made before the widget loads wait in `Moth.q`.
pub const STUB: &str = "window.Moth=window.Moth||{q:[]};['open','setUser','setContext'].forEach(function(m){Moth[m]=Moth[m]||function(){Moth.q.push([m,arguments])}});";

pub const PASSWORD: &str = "hunter2-PW-7f3a9c";
pub const TYPED: &str = "typed-NOTE-51d0e2";

/// A shop page with what DOM screenshots usually get wrong: an oklch colour, an open shadow
/// root (declarative, so no page script is needed), a same-origin iframe, a cross-origin image,
/// a password and a normal input holding secrets, and a `data-moth-block` element.
pub async fn capture_site(moth: &str, key: &str, pictures: &str, csp: bool) -> String {
    // Without a CSP the page uses the documented pre-load stub and logs right after the widget.
    let (before, after) = if csp {
        (String::new(), String::new())
    } else {
        (
            format!(
                "<script>{STUB}Moth.setContext({{app_version: '3.1.0'}}); Moth.setUser({{id: 'u-9'}});</script>"
            ),
            "<script>console.log('early in head')</script>".to_string(),
        )
    };
    let page = format!(
        "<!doctype html><html><head><title>Shop</title><link rel=\"stylesheet\" href=\"/site.css\">{before}\
         <script src=\"{moth}/widget.js\" data-moth-key=\"{key}\"></script>{after}</head><body>\
         <h1 class=\"hero\" id=\"hero\">Checkout</h1>\
         <shop-card id=\"card\"><template shadowrootmode=\"open\"><link rel=\"stylesheet\" href=\"/card.css\">\
         <p class=\"card\">In the shadow</p></template></shop-card>\
         <iframe id=\"frame\" src=\"/frame.html\" title=\"offers\"></iframe>\
         <img id=\"logo\" src=\"/logo.svg\" alt=\"logo\"><img id=\"photo\" src=\"{pictures}/photo.svg\" alt=\"photo\">\
         <form><input id=\"pw\" type=\"password\" name=\"password\" value=\"{PASSWORD}\">\
         <input id=\"note\" type=\"text\" name=\"note\"></form>\
         <p id=\"secret\" data-moth-block>Account 99-BLOCKED-TEXT</p>\
         <button id=\"buy\" type=\"button\">Buy now</button></body></html>"
    );
    let frame = "<!doctype html><html><head><link rel=\"stylesheet\" href=\"/frame.css\"></head>\
                 <body><p>Offers inside the frame</p></body></html>";
    let css = "body{margin:0;font-family:sans-serif}.hero{margin:0;height:120px;background:oklch(70% 0.15 150);color:#fff}\
               shop-card{display:block;height:100px}iframe{display:block;width:300px;height:150px;border:0}\
               img{width:120px;height:80px}#secret{height:40px}";
    let policy = format!("script-src {moth}; style-src 'self'; object-src 'none'; base-uri 'none'");
    let files: Vec<(&'static str, &'static str, String)> = vec![
        ("/checkout", "text/html; charset=utf-8", page),
        ("/frame.html", "text/html; charset=utf-8", frame.into()),
        ("/site.css", "text/css", css.into()),
        ("/card.css", "text/css", ".card{margin:0;height:100px;background:rgb(200, 30, 30);color:#fff}".into()),
        ("/frame.css", "text/css", "body{margin:0;background:rgb(20, 40, 200);color:#fff}".into()),
        (
            "/logo.svg",
            "image/svg+xml",
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"80\"><rect width=\"120\" height=\"80\" fill=\"#fc0\"/></svg>".into(),
        ),
    ];
    let mut site = axum::Router::new();
    for (path, content_type, body) in files {
        let policy = policy.clone();
        site = site.route(
            path,
            axum::routing::get(move || async move {
                let mut response = ([("content-type", content_type)], body).into_response();
                if csp && content_type.starts_with("text/html") {
                    response
                        .headers_mut()
                        .insert("content-security-policy", policy.parse().unwrap());
                }
                response
            }),
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, site).await });
    format!("http://localhost:{port}")
}

/// Every file under `dir`, recursively, as (path, bytes).
pub fn files_under(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                found.push((path, bytes));
            }
        }
    }
    found
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Width and height from a PNG's IHDR chunk.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let be = |at: usize| u32::from_be_bytes([png[at], png[at + 1], png[at + 2], png[at + 3]]);
    (be(16), be(20))
}

/// A customer's page on another origin (`localhost` against Moth's `127.0.0.1`) that embeds
/// the widget the documented way, with nothing else on it.
pub async fn customer_site(moth: &str, key: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1>\
         <script src=\"{moth}/widget.js\" data-moth-key=\"{key}\" async></script></body></html>"
    );
    super::one_page_site("/checkout", html).await
}

/// How many reports wait in the page's outbox.
pub const OUTBOX_SIZE: &str = "new Promise(done => { const o = indexedDB.open('moth-outbox', 1); \
    o.onsuccess = () => { const c = o.result.transaction('reports').objectStore('reports').count(); \
    c.onsuccess = () => { o.result.close(); done(c.result); }; }; })";

/// Waits until the project holds `count` issues.
pub async fn wait_for_issues(app: &super::TestApp, count: i64) {
    for _ in 0..100 {
        if app.issue_count("WEB").await == count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "expected {count} issues, found {}",
        app.issue_count("WEB").await
    );
}

/// What a browser captured from the shop and Moth stored, with what to check it against.
pub struct CapturedReport<'a> {
    pub issue: &'a Value,
    pub site: &'a str,
    pub pictures: &'a str,
    pub csp: bool,
    /// How the browser writes a stack frame: Chromium's "    at f (url)", Firefox's "f@url".
    pub stack_mark: &'a str,
}

impl CapturedReport<'_> {
    /// Checks the report: the pixels `seen` at the hero, the shadow card, the frame, the blocked
    /// text, the logo and inside the black-out; what was recorded; and that no secret is in the
    /// answer or in any `stored` file.
    pub fn check(&self, seen: &[[u8; 4]], stored: &[(std::path::PathBuf, Vec<u8>)]) {
        let [hero, card, frame, secret, logo] = [seen[0], seen[1], seen[2], seen[3], seen[4]];
        assert!(
            hero[1] > hero[0] + 40 && hero[1] > hero[2] + 30,
            "the oklch green survives: {hero:?}"
        );
        assert!(
            card[0] > 150 && card[1] < 80 && card[2] < 80,
            "the shadow root's red: {card:?}"
        );
        assert!(
            frame[2] > 150 && frame[0] < 80,
            "the same-origin frame's blue: {frame:?}"
        );
        assert_eq!(&secret[..3], &[0, 0, 0], "data-moth-block is blacked out");
        assert_eq!(
            &seen[5][..3],
            &[0, 0, 0],
            "the black-out is burnt into the pixels sent"
        );
        assert!(
            logo[0] > 200 && logo[1] > 150 && logo[2] < 80,
            "the same-origin image is inlined: {logo:?}"
        );

        let issue = self.issue;
        let (site, pictures) = (self.site, self.pictures);
        let context = &issue["context"];
        let console = context["console"].as_array().unwrap();
        if !self.csp {
            assert_eq!(issue["affects_version"], "3.1.0", "replayed from Moth.q");
            assert_eq!(
                context["environment"]["user_id"], "u-9",
                "replayed from Moth.q"
            );
            assert!(
                console.iter().any(|c| c["message"] == "early in head"),
                "loaded first in <head>, it sees early output: {console:?}"
            );
        }
        assert!(
            console
                .iter()
                .any(|c| c["level"] == "log" && c["message"] == "cart loaded {\"items\":2}"),
            "{console:?}"
        );
        assert!(
            console.iter().any(|c| c["level"] == "error"
                && c["message"].as_str().unwrap().contains("cart broke")
                && c["stack"]
                    .as_str()
                    .is_some_and(|s| s.contains(self.stack_mark))),
            "{console:?}"
        );
        let errors = context["errors"].as_array().unwrap();
        assert!(
            errors.iter().any(
                |e| e["message"].as_str().unwrap().contains("checkout exploded")
                    && e["stack"]
                        .as_str()
                        .is_some_and(|s| s.contains(self.stack_mark))
            ),
            "{errors:?}"
        );
        let network = context["network"].as_array().unwrap();
        assert!(
            network
                .iter()
                .any(|n| n["url"] == format!("{site}/api/missing") && n["status"] == 404),
            "{network:?}"
        );
        let health = context["capture_health"].as_array().unwrap();
        assert!(
            health.iter().any(|h| h["kind"] == "image_not_captured"
                && h["url"] == format!("{pictures}/photo.svg")),
            "{health:?}"
        );
        assert!(
            !health
                .iter()
                .any(|h| h["url"].as_str().unwrap_or("").contains("logo")),
            "the same-origin image was captured: {health:?}"
        );
        let steps: Vec<&str> = issue["steps_to_reproduce"]
            .as_str()
            .unwrap()
            .lines()
            .collect();
        assert_eq!(
            steps,
            [
                format!("1. Open {site}/checkout").as_str(),
                "2. Click button#buy \"Buy now\"",
                "3. Click input#note",
                "4. Type into input#note",
                format!("5. Request GET {site}/api/missing failed with 404").as_str(),
            ],
            "in the order they happened"
        );

        // The masked values and the blocked text are nowhere: not in the API, the database or the
        // attachment files.
        let json = issue.to_string();
        assert!(
            stored.iter().any(|(_, b)| contains(b, "Checkout explodes")),
            "the scan sees the report"
        );
        for secret in [PASSWORD, TYPED, "99-BLOCKED-TEXT"] {
            assert!(!json.contains(secret), "{secret} in the API answer");
            for (path, bytes) in stored {
                assert!(!contains(bytes, secret), "{secret} in {}", path.display());
            }
        }
    }
}
