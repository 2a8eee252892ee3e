//! Links between issues over HTTP (API and issue page), and merging a duplicate, on SQLite and
//! PostgreSQL.

mod common;

use common::{TestApp, error_of};
use moth_core::Role;
use moth_store::Store;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

moth_store::conformance!(
    links_are_added_listed_from_both_sides_and_removed,
    refused_links_say_why,
    issue_pages_show_links_on_both_sides,
    merging_a_duplicate_moves_watchers_and_reporters,
);

async fn file(app: &TestApp, token: &str, key: &str, title: &str) -> String {
    let path = format!("/api/v1/projects/{key}/issues");
    let (status, issue) = app
        .post(&path, token, json!({"type": "bug", "title": title}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issue}");
    issue["id"].as_str().unwrap().to_string()
}

/// The links of an issue as `relation id (status)`.
async fn shown(app: &TestApp, token: &str, issue: &str) -> Vec<String> {
    let (status, body) = app
        .get(&format!("/api/v1/issues/{issue}/links"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            format!(
                "{} {} ({})",
                l["relation"].as_str().unwrap(),
                l["issue"]["id"].as_str().unwrap(),
                l["issue"]["status"].as_str().unwrap()
            )
        })
        .collect()
}

async fn links_are_added_listed_from_both_sides_and_removed(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let member = app.token_for("member@example.com", Role::Member).await;
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;
    app.post(
        "/api/v1/projects",
        &admin,
        json!({"key": "API", "name": "API"}),
    )
    .await;
    let checkout = file(&app, &member, "WEB", "Checkout").await;
    let payments = file(&app, &member, "WEB", "Payments").await;
    let endpoint = file(&app, &member, "API", "Pay endpoint").await;

    let (status, link) = app
        .post(
            &format!("/api/v1/issues/{payments}/links"),
            &member,
            json!({"kind": "blocked_by", "target": checkout}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{link}");
    assert_eq!(
        link,
        json!({"kind": "blocks", "direction": "inward", "relation": "blocked_by", "label": "blocked by",
            "issue": {"id": "WEB-1", "title": "Checkout", "status": "new"}})
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/issues/{endpoint}/links"),
            &admin,
            json!({"kind": "regressed_by", "target": checkout}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "links cross projects");
    let (status, _) = app
        .post(
            &format!("/api/v1/issues/{checkout}/links"),
            &member,
            json!({"kind": "relates_to", "target": payments}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    assert_eq!(
        shown(&app, &viewer, &checkout).await,
        [
            "blocks WEB-2 (new)",
            "regressions API-1 (new)",
            "relates_to WEB-2 (new)"
        ]
    );
    assert_eq!(
        shown(&app, &viewer, &payments).await,
        ["blocked_by WEB-1 (new)", "relates_to WEB-1 (new)"]
    );
    assert_eq!(
        shown(&app, &viewer, &endpoint).await,
        ["regressed_by WEB-1 (new)"]
    );
    let (_, issue) = app
        .get(&format!("/api/v1/issues/{payments}"), &viewer)
        .await;
    assert_eq!(issue["links"][0]["label"], "blocked by");
    let (_, history) = app
        .get(&format!("/api/v1/issues/{checkout}/activity"), &viewer)
        .await;
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "issue.linked" && e["detail"] == "linked: regressions API-1"),
        "{history}"
    );

    // Removed from the blocked side, by its name from there.
    let path = format!("/api/v1/issues/{payments}/links/blocked_by/{checkout}");
    let response = app
        .request(Method::DELETE, &path, Some(&member))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        shown(&app, &viewer, &checkout).await,
        ["regressions API-1 (new)", "relates_to WEB-2 (new)"]
    );
    let (status, body) = app.send(Method::DELETE, &path, &member, None).await;
    let error = error_of(status, &body, StatusCode::NOT_FOUND);
    assert_eq!(error["code"], "not_found");

    // Duplicates show in the same list, both ways.
    let dup = file(&app, &member, "WEB", "Checkout again").await;
    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{dup}"),
            &member,
            json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": checkout}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        shown(&app, &viewer, &checkout).await[0],
        "duplicates WEB-3 (resolved)"
    );
    assert_eq!(
        shown(&app, &viewer, &dup).await,
        ["duplicate_of WEB-1 (new)"]
    );

    let spec: Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["paths"]["/api/v1/issues/{id}/links"]["post"].is_object());
    assert!(spec["paths"]["/api/v1/issues/{id}/links/{kind}/{target}"]["delete"].is_object());
    for schema in ["IssueLink", "LinkInput", "LinkList", "LinkedIssue"] {
        assert!(
            spec["components"]["schemas"][schema].is_object(),
            "{schema} is described"
        );
    }
}

async fn refused_links_say_why(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;
    let one = file(&app, &admin, "WEB", "One").await;
    let two = file(&app, &admin, "WEB", "Two").await;
    let add = |issue: String, body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.post(&format!("/api/v1/issues/{issue}/links"), &admin, body)
                .await
        }
    };
    let (status, _) = add(one.clone(), json!({"kind": "blocks", "target": two})).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, body) = add(two.clone(), json!({"kind": "blocks", "target": one})).await;
    let error = error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("WEB-1 already blocks WEB-2"),
        "{error}"
    );
    let (status, body) = add(one.clone(), json!({"kind": "blocks", "target": two})).await;
    assert_eq!(
        error_of(status, &body, StatusCode::CONFLICT)["field"],
        "target"
    );
    let (status, body) = add(one.clone(), json!({"kind": "relates_to", "target": one})).await;
    let error = error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error["message"].as_str().unwrap().contains("itself"));
    let (status, body) = add(one.clone(), json!({"kind": "causes", "target": two})).await;
    let error = error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "kind");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("blocks, blocked_by, relates_to, regressed_by, regressions"),
        "{error}"
    );
    let (status, body) = add(
        one.clone(),
        json!({"kind": "relates_to", "target": "WEB-99"}),
    )
    .await;
    assert_eq!(
        error_of(status, &body, StatusCode::UNPROCESSABLE_ENTITY)["field"],
        "target"
    );
    let (status, body) = add(
        "WEB-99".into(),
        json!({"kind": "relates_to", "target": one}),
    )
    .await;
    error_of(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app.get("/api/v1/issues/WEB-99/links", &viewer).await;
    error_of(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            &format!("/api/v1/issues/{two}/links"),
            &viewer,
            json!({"kind": "relates_to", "target": one}),
        )
        .await;
    assert_eq!(
        error_of(status, &body, StatusCode::FORBIDDEN)["code"],
        "forbidden"
    );
    assert_eq!(shown(&app, &viewer, &two).await, ["blocked_by WEB-1 (new)"]);
}

/// A signed-in session's cookie and form token.
async fn signed_in(app: &TestApp, email: &str) -> (String, String) {
    let (name, secret) = app.session_cookie(email).await;
    let cookie = format!("{name}={secret}");
    let html = page(app, &cookie, "/").await.1;
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form token") + marker.len();
    let csrf = html[start..].split('"').next().unwrap().to_string();
    (cookie, csrf)
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = app
        .request(Method::GET, path, None)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn post_form(
    app: &TestApp,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let response = app
        .request(Method::POST, path, None)
        .header("cookie", cookie)
        .form(fields)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

async fn issue_pages_show_links_on_both_sides(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.token_for("viewer@example.com", Role::Viewer).await;
    let one = file(&app, &admin, "WEB", "Checkout <script>alert(1)</script>").await;
    let two = file(&app, &admin, "WEB", "Payments").await;
    let (cookie, csrf) = signed_in(&app, "admin@example.com").await;
    let (status, _) = post_form(
        &app,
        &cookie,
        &format!("/issues/{two}/links"),
        &[("csrf", &csrf), ("kind", "blocked_by"), ("target", &one)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &cookie, &format!("/issues/{two}")).await;
    assert!(html.contains("id=\"links-h\""), "{html}");
    assert!(html.contains("<dt>blocked by</dt>"), "{html}");
    assert!(
        html.contains("<code>WEB-1</code> Checkout &#60;script&#62;")
            || html.contains("<code>WEB-1</code> Checkout &lt;script&gt;"),
        "the linked title is escaped: {html}"
    );
    assert!(!html.contains("<script>alert(1)"));
    let (_, html) = page(&app, &cookie, &format!("/issues/{one}")).await;
    assert!(html.contains("<dt>blocks</dt>") && html.contains("<code>WEB-2</code> Payments"));

    // A refused link is explained by the form, which keeps what was typed.
    let (status, html) = post_form(
        &app,
        &cookie,
        &format!("/issues/{one}/links"),
        &[("csrf", &csrf), ("kind", "blocked_by"), ("target", &two)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("id=\"link-error\""), "{html}");
    assert!(html.contains("WEB-1 already blocks WEB-2"), "{html}");
    assert!(html.contains("value=\"blocked_by\" selected"), "{html}");
    let (status, _) = post_form(
        &app,
        &cookie,
        &format!("/issues/{one}/links"),
        &[("kind", "relates_to"), ("target", &two)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no form token, no change");

    // Viewers see the links but no forms.
    let (viewer_cookie, viewer_csrf) = signed_in(&app, "viewer@example.com").await;
    let (_, html) = page(&app, &viewer_cookie, &format!("/issues/{one}")).await;
    assert!(html.contains("<dt>blocks</dt>"));
    assert!(!html.contains("/links/remove") && !html.contains("class=\"link-form\""));
    let (status, _) = post_form(
        &app,
        &viewer_cookie,
        &format!("/issues/{one}/links/remove"),
        &[("csrf", &viewer_csrf), ("kind", "blocks"), ("target", &two)],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, _) = post_form(
        &app,
        &cookie,
        &format!("/issues/{one}/links/remove"),
        &[("csrf", &csrf), ("kind", "blocks"), ("target", &two)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = page(&app, &cookie, &format!("/issues/{two}")).await;
    assert!(html.contains("No links to other issues."), "{html}");
    assert!(
        html.contains("removed the link: blocked by WEB-1"),
        "in the history: {html}"
    );
}

async fn report(app: &TestApp, intake_key: &str, email: &str) -> Value {
    let report = json!({"type": "bug", "title": "Pay button dead", "reporter": {"email": email}});
    app.file_report(intake_key, &report).await
}

async fn merging_a_duplicate_moves_watchers_and_reporters(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let member = app.token_for("member@example.com", Role::Member).await;
    let intake_key = app.intake_key(&admin).await;
    let original = report(&app, &intake_key, "ana@example.com").await;
    let duplicate = report(&app, &intake_key, "kim@example.com").await;
    let (original, duplicate, status_url) = (
        original["id"].as_str().unwrap().to_string(),
        duplicate["id"].as_str().unwrap().to_string(),
        duplicate["status_url"].as_str().unwrap().to_string(),
    );
    let (status, _) = app
        .post(
            &format!("/api/v1/issues/{duplicate}/watchers"),
            &member,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{duplicate}"),
            &admin,
            json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": original}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, merged) = app.get(&format!("/api/v1/issues/{original}"), &admin).await;
    assert_eq!(merged["watchers"][0]["email"], "member@example.com");
    assert_eq!(merged["affected_reporters"], 2);
    assert_eq!(merged["links"][0]["relation"], "duplicates");
    let (_, history) = app
        .get(&format!("/api/v1/issues/{original}/activity"), &admin)
        .await;
    let last = history["items"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "issue.merged", "{history}");

    // The duplicate's reporter follows the original on their status page.
    let html = app
        .client
        .get(&status_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("duplicate of a problem we already know about"),
        "{html}"
    );
    app.patch(
        &format!("/api/v1/issues/{original}"),
        &admin,
        json!({"status": "resolved", "resolution": "fixed"}),
    )
    .await;
    let html = app
        .client
        .get(&status_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("duplicate of a problem we already fixed"),
        "{html}"
    );
}
