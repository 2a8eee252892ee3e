//! Figures for the capture widget: the gzipped size of the loader (`/widget.js`) and of the
//! on-demand part (`/widget/capture.js`), and the time from a click on the button to the form
//! shown with its DOM screenshot on a page of 5,000 elements, in headless Chromium.
//!
//! `cargo run -p moth-server --example widget_bench [runs]` (the timings are the browser's, so a
//! debug build measures the same).

use axum::response::Html;
use axum::routing::get;
use chromiumoxide::browser::{Browser, BrowserConfig};
use futures::StreamExt;
use std::io::Write;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";

fn gzipped(bytes: &[u8]) -> usize {
    let mut child = std::process::Command::new("gzip")
        .arg("-9c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap().stdout.len()
}

/// A shop-like page: 400 product cards of a dozen elements each, plus the page around them.
fn big_page() -> String {
    let mut cards = String::new();
    for i in 0..400 {
        cards.push_str(&format!(
            "<article class=\"card\"><h3>Product {i}</h3><img src=\"/dot.svg\" alt=\"\">\
             <p>A <em>fine</em> thing, <strong>{i}.99 €</strong></p><ul><li>size M</li><li>blue</li></ul>\
             <button type=\"button\">Add</button><input type=\"text\" value=\"qty {i}\"><span class=\"tag\">new</span></article>"
        ));
    }
    format!(
        "<!doctype html><html><head><title>Bench</title><link rel=\"stylesheet\" href=\"/page.css\">\
         <script src=\"/widget.js\" data-moth-key=\"bench\"></script></head>\
         <body><header><h1>Big shop</h1></header><main class=\"grid\">{cards}</main></body></html>"
    )
}

async fn serve() -> String {
    let page = big_page();
    let css = "body{font-family:sans-serif;margin:0}.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:8px;padding:8px}\
               .card{border:1px solid oklch(80% 0.02 250);border-radius:6px;padding:8px;background:#fff}\
               .card img{width:24px;height:24px}.tag{background:oklch(75% 0.12 150);padding:0 4px;border-radius:3px}";
    let app = axum::Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route("/page.css", get(move || async move { ([("content-type", "text/css")], css) }))
        .route(
            "/dot.svg",
            get(|| async {
                (
                    [("content-type", "image/svg+xml")],
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"24\" height=\"24\"><circle cx=\"12\" cy=\"12\" r=\"10\" fill=\"#3b3363\"/></svg>",
                )
            }),
        )
        .route("/widget.js", get(moth_server::widget::script))
        .route("/widget/capture.js", get(moth_server::widget::capture_script));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// Clicks the widget's button and waits (in the page) for the form with its screenshot.
const CLICK_TO_SCREENSHOT: &str = "new Promise(done => {
  const root = document.querySelector('[data-moth-widget]').shadowRoot;
  const t0 = performance.now();
  root.querySelector('button.open').click();
  (function poll() {
    const f = root.querySelector('form');
    if (f && f.getAttribute('data-shot') === 'ready') done(performance.now() - t0);
    else requestAnimationFrame(poll);
  })();
})";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(7);
    let loader = moth_server::widget::WIDGET;
    let capture = include_str!("../../../web/widget/capture.js");
    println!(
        "loader    /widget.js          {:>6} bytes, {:>6} gzipped (-9)",
        loader.len(),
        gzipped(loader.as_bytes())
    );
    println!(
        "on demand /widget/capture.js  {:>6} bytes, {:>6} gzipped (-9)",
        capture.len(),
        gzipped(capture.as_bytes())
    );
    if !std::path::Path::new(CHROMIUM).exists() {
        println!("no Chromium at {CHROMIUM}: no timings");
        return;
    }
    let base = serve().await;
    let profile = tempfile::tempdir().unwrap();
    let config = BrowserConfig::builder()
        .chrome_executable(CHROMIUM)
        .no_sandbox()
        .user_data_dir(profile.path())
        .window_size(1280, 800)
        .args([
            "disable-gpu",
            "no-first-run",
            "disable-background-networking",
            "disable-component-update",
            "disable-sync",
        ])
        .build()
        .unwrap();
    let (mut browser, mut handler) = Browser::launch(config).await.expect("Chromium starts");
    tokio::spawn(async move { while handler.next().await.is_some() {} });

    let (mut cold, mut warm, mut nodes, mut timing, mut viewport) =
        (Vec::new(), Vec::new(), 0, String::new(), String::new());
    for _ in 0..runs {
        let page = browser.new_page("about:blank").await.unwrap();
        page.execute(
            chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams::new(
                1280, 800, 1.0, false,
            ),
        )
        .await
        .unwrap();
        page.goto(format!("{base}/")).await.unwrap();
        for _ in 0..100 {
            let ready: bool = page
                .evaluate("!!(window.Moth && document.querySelector('[data-moth-widget]'))")
                .await
                .unwrap()
                .into_value()
                .unwrap();
            if ready {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        nodes = page
            .evaluate("document.getElementsByTagName('*').length")
            .await
            .unwrap()
            .into_value::<u64>()
            .unwrap();
        viewport = page
            .evaluate("innerWidth + '×' + innerHeight + ' @' + devicePixelRatio + 'x'")
            .await
            .unwrap()
            .into_value::<String>()
            .unwrap();
        // Cold: the on-demand part is fetched by the click itself.
        cold.push(
            page.evaluate(CLICK_TO_SCREENSHOT)
                .await
                .unwrap()
                .into_value::<f64>()
                .unwrap(),
        );
        if timing.is_empty() {
            timing = page
                .evaluate("JSON.stringify(Moth.lastTiming)")
                .await
                .unwrap()
                .into_value::<String>()
                .unwrap();
        }
        if let Ok(path) = std::env::var("MOTH_BENCH_SHOT") {
            // To compare what the screenshot shows with the browser's own picture, scrolled by
            // MOTH_BENCH_SCROLL pixels: PATH (the widget's) and PATH.browser.png.
            let scroll = std::env::var("MOTH_BENCH_SCROLL").unwrap_or_else(|_| "0".into());
            page.evaluate(format!("Moth.close(); scrollTo(0, {scroll})"))
                .await
                .unwrap();
            page.screenshot(chromiumoxide::page::ScreenshotParams::builder().build())
                .await
                .map(|b| std::fs::write(format!("{path}.browser.png"), b))
                .ok();
            page.evaluate(CLICK_TO_SCREENSHOT).await.unwrap();
            let data: String = page
                .evaluate("document.querySelector('[data-moth-widget]').shadowRoot.querySelector('canvas.shot').toDataURL()")
                .await
                .unwrap()
                .into_value()
                .unwrap();
            use base64::Engine;
            let png = base64::engine::general_purpose::STANDARD
                .decode(data.trim_start_matches("data:image/png;base64,"))
                .unwrap();
            std::fs::write(&path, png).unwrap();
        }
        page.evaluate("Moth.close()").await.unwrap();
        // Warm: loaded already (hover preloads it), as on a second report.
        warm.push(
            page.evaluate(CLICK_TO_SCREENSHOT)
                .await
                .unwrap()
                .into_value::<f64>()
                .unwrap(),
        );
        page.close().await.unwrap();
    }
    println!(
        "page: {nodes} elements, viewport {viewport}, {runs} runs; first run inside the page: {timing}"
    );
    println!(
        "click to form with screenshot: median {:.0} ms cold (capture.js fetched on click), {:.0} ms with capture.js loaded (hovered first)",
        median(cold),
        median(warm)
    );
    browser.close().await.unwrap();
    let _ = browser.wait().await;
}
