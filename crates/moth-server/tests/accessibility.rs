//! Every page, read as assistive technology reads it: a language, a heading, a name for each
//! form field, link, button and image, ids that are unique, no tab order of its own, and a
//! viewport that fits a phone.

mod common;

use common::TestApp;
use moth_store::Store;
use reqwest::StatusCode;
use scraper::{ElementRef, Html, Selector};
use serde_json::json;
use std::collections::HashSet;

moth_store::conformance!(every_page_names_its_fields_links_and_buttons);

/// A project with a release, a filed bug with a comment and a captured report, so the pages
/// show their fullest forms.
async fn filled_app(store: Store) -> (TestApp, String, String) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"versions": ["2.3.0", "2.4.0"], "components": ["payments"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/projects/WEB/issues",
            &admin,
            json!({"type": "bug", "title": "Totals off by one", "severity": "major",
                   "affects_version": "2.3.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .patch(
            "/api/v1/issues/WEB-1",
            &admin,
            json!({"fixed_in_version": "2.4.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/issues/WEB-1/comments",
            &admin,
            json!({"body": "Seen on **staging** too."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, project) = app.get("/api/v1/projects/WEB", &admin).await;
    let report = json!({
        "title": "Pay does nothing",
        "page_url": "https://shop.example.com/checkout",
        "context": {"browser": {"name": "Chrome", "version": "131.0"}, "app_version": "2.3.0"},
        "console": [{"level": "error", "message": "TypeError: x is undefined",
                     "stack": "at pay (app.js:10:4)", "timestamp": "2026-11-25T10:00:01Z"}],
        "network": [{"method": "POST", "url": "https://shop.example.com/api/pay", "status": 500,
                     "duration_ms": 231}],
        "actions": [{"kind": "click", "target": "button \"Pay now\""}]
    });
    let key = project["intake_key"].as_str().unwrap();
    let filed = app.file_report(key, &report).await;
    let status_path = filed["status_url"]
        .as_str()
        .unwrap()
        .split_once("/status/")
        .map(|(_, token)| format!("/status/{token}"))
        .unwrap();
    (app, filed["id"].as_str().unwrap().to_string(), status_path)
}

async fn every_page_names_its_fields_links_and_buttons(store: Store) {
    let (app, report, status_page) = filled_app(store).await;
    let (name, secret) = app.session_cookie("admin@example.com").await;
    let cookie = format!("{name}={secret}");
    let signed_in = [
        "/".to_string(),
        "/projects/new".into(),
        "/projects/WEB".into(),
        "/projects/WEB?view=work".into(),
        "/projects/WEB?view=all&type=bug".into(),
        "/projects/WEB/settings".into(),
        "/projects/WEB/new?type=bug".into(),
        "/projects/WEB/new?type=feature".into(),
        "/issues/WEB-1".into(),
        format!("/issues/{report}"),
        "/issues/WEB-1/similar".into(),
        "/projects/WEB/board".into(),
        "/projects/WEB/triage".into(),
        "/projects/WEB/metrics".into(),
        "/projects/WEB/overview".into(),
        "/projects/WEB/releases".into(),
        "/projects/WEB/releases/2.4.0".into(),
        "/account/tokens".into(),
        "/admin/users".into(),
        "/demo".into(),
    ];
    let mut problems = Vec::new();
    for path in &signed_in {
        let response = app
            .request(reqwest::Method::GET, path, None)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        problems.extend(audit(path, &response.text().await.unwrap()));
    }
    for path in ["/login", status_page.as_str()] {
        let response = app
            .request(reqwest::Method::GET, path, None)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        problems.extend(audit(path, &response.text().await.unwrap()));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// What a screen reader user would miss on one page, one line each.
fn audit(path: &str, html: &str) -> Vec<String> {
    let page = Html::parse_document(html);
    let select = |css: &str| Selector::parse(css).unwrap();
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(format!("{path}: {what}"));

    let lang = page
        .select(&select("html"))
        .next()
        .and_then(|html| html.value().attr("lang"));
    if lang.is_none_or(str::is_empty) {
        problem("the page has no language (<html lang>)".into());
    }
    if page.select(&select("meta[name=viewport]")).next().is_none() {
        problem("the page does not fit a phone's width (<meta name=viewport>)".into());
    }
    if page.select(&select("h1")).next().is_none() {
        problem("the page has no <h1>".into());
    }
    if page
        .select(&select("title"))
        .next()
        .is_none_or(|t| text(t).is_empty())
    {
        problem("the page has no <title>".into());
    }

    let labelled: HashSet<String> = page
        .select(&select("label[for]"))
        .filter_map(|label| label.value().attr("for").map(str::to_string))
        .collect();
    for field in page.select(&select("input, select, textarea")) {
        let kind = field.value().attr("type").unwrap_or("text");
        if matches!(kind, "hidden" | "submit" | "button" | "reset" | "image") {
            continue;
        }
        let by_label = field
            .value()
            .attr("id")
            .is_some_and(|id| labelled.contains(id));
        let inside_label = field
            .ancestors()
            .filter_map(ElementRef::wrap)
            .any(|a| a.value().name() == "label");
        if !(by_label || inside_label || has_name_attribute(field)) {
            problem(format!("a form field has no label: {}", outline(field)));
        }
    }
    for button in page.select(&select("button, input[type=submit], input[type=button]")) {
        let value = button.value().attr("value").unwrap_or("");
        if text(button).is_empty() && value.trim().is_empty() && !has_name_attribute(button) {
            problem(format!("a button has no name: {}", outline(button)));
        }
    }
    for link in page.select(&select("a[href]")) {
        let image_alt = link
            .select(&select("img[alt], svg[aria-label]"))
            .next()
            .is_some();
        if text(link).is_empty() && !image_alt && !has_name_attribute(link) {
            problem(format!("a link has no name: {}", outline(link)));
        }
    }
    for image in page.select(&select("img")) {
        if image.value().attr("alt").is_none() {
            problem(format!("an image has no alt text: {}", outline(image)));
        }
    }
    let mut seen = HashSet::new();
    for element in page.select(&select("[id]")) {
        let id = element.value().attr("id").unwrap();
        if !seen.insert(id.to_string()) {
            problem(format!("the id {id:?} is used twice"));
        }
    }
    for element in page.select(&select("[tabindex]")) {
        let index: i64 = element
            .value()
            .attr("tabindex")
            .unwrap()
            .parse()
            .unwrap_or(0);
        if index > 0 {
            problem(format!(
                "a positive tabindex reorders the page: {}",
                outline(element)
            ));
        }
    }
    problems
}

/// `aria-label`, `aria-labelledby` or `title`: a name given without visible text.
fn has_name_attribute(element: ElementRef) -> bool {
    ["aria-label", "aria-labelledby", "title"]
        .iter()
        .any(|name| {
            element
                .value()
                .attr(name)
                .is_some_and(|v| !v.trim().is_empty())
        })
}

fn text(element: ElementRef) -> String {
    element.text().collect::<String>().trim().to_string()
}

/// The element's opening tag, enough to find it in the template.
fn outline(element: ElementRef) -> String {
    let html = element.html();
    html.chars().take(160).collect()
}
