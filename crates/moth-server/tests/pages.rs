//! The web pages over HTTP: sign-in redirects, lists that keep kinds apart, the issue page and
//! its edits (roles, forgery protection, stale edits, errors by the field), project settings,
//! and everything people typed or a page captured escaped where it is shown.

mod common;

use common::TestApp;
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::json;

moth_store::conformance!(
    pages_redirect_to_sign_in_and_come_back,
    lists_keep_bugs_apart_from_other_work,
    list_filters_are_bookmarkable_and_errors_are_shown,
    members_edit_issues_and_viewers_cannot,
    fields_are_changed_in_place_one_at_a_time,
    forms_without_the_session_token_are_refused,
    a_stale_edit_is_refused_not_overwritten,
    refused_forms_keep_what_was_typed,
    filing_an_issue_uses_the_template_of_its_type,
    hostile_text_is_escaped_on_every_page,
    captured_context_is_laid_out_for_developers,
    admins_configure_projects_and_rotate_intake_keys,
    comments_are_added_and_previewed,
    releases_keep_what_affects_a_version_apart_from_what_it_fixes,
    views_are_saved_personal_or_shared,
    bulk_edits_change_each_selected_issue_or_say_why_not,
);

/// A signed-in browser: the session cookie of a user with the role.
struct Browser<'a> {
    app: &'a TestApp,
    cookie: String,
}

impl<'a> Browser<'a> {
    async fn new(app: &'a TestApp, email: &str, role: Role) -> Browser<'a> {
        if app.store.user_credentials(email).await.unwrap().is_none() {
            app.token_for(email, role).await;
        }
        let (name, secret) = app.session_cookie(email).await;
        Browser {
            app,
            cookie: format!("{name}={secret}"),
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .app
            .request(reqwest::Method::GET, path, None)
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    /// Posts a form; answers the status, the page and where it redirects.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let response = self
            .app
            .request(reqwest::Method::POST, path, None)
            .header("cookie", &self.cookie)
            .form(fields)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, response.text().await.unwrap(), location)
    }

    /// The form token of this session, read from a page as a person's browser would.
    async fn csrf(&self) -> String {
        let (_, html) = self.get("/").await;
        attribute_after(&html, "name=\"csrf\" value=\"")
    }
}

fn attribute_after(html: &str, marker: &str) -> String {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

async fn file(app: &TestApp, token: &str, body: serde_json::Value) -> String {
    let (status, issue) = app.post("/api/v1/projects/WEB/issues", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{issue}");
    issue["id"].as_str().unwrap().to_string()
}

async fn pages_redirect_to_sign_in_and_come_back(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    let response = app
        .request(reqwest::Method::GET, "/projects/WEB?view=work", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(location, "/login?next=%2Fprojects%2FWEB%3Fview%3Dwork");
    let login = app
        .request(reqwest::Method::GET, location, None)
        .send()
        .await
        .unwrap();
    let html = login.text().await.unwrap();
    assert!(
        html.contains(r#"name="next" value="/projects/WEB?view=work""#),
        "{html}"
    );

    // Signing in goes back to the page asked for, and never to another site.
    let hash = moth_server::auth::hash_password("correct horse battery")
        .await
        .unwrap();
    app.store
        .create_user(moth_store::NewUser {
            email: "pat@example.com".into(),
            name: "Pat".into(),
            role: Role::Viewer,
            password_hash: Some(hash),
        })
        .await
        .unwrap();
    for (next, expected) in [
        ("/projects/WEB?view=work", "/projects/WEB?view=work"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ] {
        let response = app
            .request(reqwest::Method::POST, "/login", None)
            .form(&[
                ("email", "pat@example.com"),
                ("password", "correct horse battery"),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(response.headers()["location"], expected, "{next}");
    }
}

async fn lists_keep_bugs_apart_from_other_work(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Minor glitch", "severity": "minor"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Checkout crashes", "severity": "critical"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Dark mode wish", "priority": "high"}),
    )
    .await;
    let done = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Old fixed bug"}),
    )
    .await;
    let (status, _) = app
        .patch(
            &format!("/api/v1/issues/{done}"),
            &admin,
            json!({"status": "resolved", "resolution": "fixed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;

    let (status, bugs) = viewer.get("/projects/WEB").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bugs.contains("Bug queue"));
    assert!(
        !bugs.contains("Dark mode wish"),
        "features stay out of the bug queue"
    );
    assert!(!bugs.contains("Old fixed bug"), "the queue holds open bugs");
    let critical = bugs.find("Checkout crashes").unwrap();
    let minor = bugs.find("Minor glitch").unwrap();
    assert!(critical < minor, "worst severity first");

    let (_, work) = viewer.get("/projects/WEB?view=work").await;
    assert!(work.contains("Dark mode wish"));
    assert!(
        !work.contains("Checkout crashes"),
        "bugs stay out of the other work"
    );

    let (_, all) = viewer.get("/projects/WEB?view=all&status=any").await;
    for title in [
        "Minor glitch",
        "Checkout crashes",
        "Dark mode wish",
        "Old fixed bug",
    ] {
        assert!(all.contains(title), "{title} in all issues");
    }
    // The counts by type and status are on every list: 2 open bugs, 1 resolved.
    assert!(
        bugs.contains(r#"href="?view=all&amp;type=bug&amp;status=new">2</a>"#),
        "{bugs}"
    );
    assert!(bugs.contains(r#"href="?view=all&amp;type=bug&amp;status=resolved">1</a>"#));
    // Viewers get no button to file issues.
    assert!(!bugs.contains("New issue"));
}

async fn list_filters_are_bookmarkable_and_errors_are_shown(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    for n in 0..55 {
        file(
            &app,
            &admin,
            json!({"type": "task", "title": format!("Task number {n}"), "labels": ["batch"]}),
        )
        .await;
    }
    file(
        &app,
        &admin,
        json!({"type": "task", "title": "Unlabelled task"}),
    )
    .await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (status, first) = member
        .get("/projects/WEB?view=work&label=batch&sort=-created")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!first.contains("Unlabelled task"));
    assert!(first.contains("Task number 54"));
    assert!(
        !first.contains("Task number 4<"),
        "the 51st newest is on page two"
    );
    let next = attribute_after(&first, "<a href=\"");
    let next = first
        .split("href=\"")
        .filter(|s| s.contains("cursor="))
        .map(|s| {
            s.split('"')
                .next()
                .unwrap()
                .replace("&#38;", "&")
                .replace("&amp;", "&")
        })
        .next()
        .unwrap_or_else(|| panic!("no next page link; first link was {next}"));
    let (status, second) = member.get(&format!("/projects/WEB{next}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(second.contains("Task number 4<"), "{second}");
    assert!(!second.contains("Task number 54"));
    assert!(second.contains("First page"), "{second}");

    let (status, bad) = member.get("/projects/WEB?severity=catastrophic").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("role=\"alert\""), "{bad}");
    assert!(bad.contains("severity"), "the error names the field");
    let (status, _) = member.get("/projects/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

fn edit_fields<'a>(
    csrf: &'a str,
    seen: &'a str,
    status: &'a str,
    resolution: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("expected_updated_at", seen),
        ("type", "bug"),
        ("title", "Checkout crashes"),
        ("status", status),
        ("resolution", resolution),
        ("severity", "major"),
        ("priority", "high"),
        ("labels", "checkout, payments"),
        ("fixed_in_version", "2.3.1"),
    ]
}

async fn members_edit_issues_and_viewers_cannot(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let id = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Checkout crashes", "severity": "minor"}),
    )
    .await;
    let path = format!("/issues/{id}");

    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;
    let (status, page) = viewer.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Checkout crashes"));
    assert!(!page.contains("Save changes"), "viewers get no edit form");
    assert!(!page.contains("Add a comment"));
    let csrf = viewer.csrf().await;
    let seen = attribute_after(&viewer.get(&path).await.1, "data-issue=\"");
    assert_eq!(seen, id);
    let (status, _, _) = viewer
        .post(&path, &edit_fields(&csrf, "", "resolved", "fixed"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["status"], "new", "nothing changed");

    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (_, page) = member.get(&path).await;
    let seen = attribute_after(&page, "name=\"expected_updated_at\" value=\"");
    let csrf = member.csrf().await;
    let (status, _, location) = member
        .post(&path, &edit_fields(&csrf, &seen, "resolved", "fixed"))
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, path);
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["status"], "resolved");
    assert_eq!(issue["resolution"], "fixed");
    assert_eq!(issue["severity"], "major");
    assert_eq!(issue["labels"], json!(["checkout", "payments"]));
    assert_eq!(issue["fixed_in_version"], "2.3.1");
    let (_, page) = member.get(&path).await;
    assert!(
        page.contains("status: new → resolved"),
        "the history shows the change"
    );

    // Resolving without a resolution is refused by the workflow, shown by the field.
    let seen = attribute_after(&page, "name=\"expected_updated_at\" value=\"");
    let (status, page, _) = member
        .post(&path, &edit_fields(&csrf, &seen, "closed", ""))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"edit-error\""), "{page}");
    assert!(page.contains("resolution"));
}

/// The side panel's fields save one at a time: the others, and what only the Edit form holds
/// (title, description), stay as they were.
async fn fields_are_changed_in_place_one_at_a_time(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let id = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Checkout crashes", "description": "Since Monday",
               "severity": "minor", "labels": ["checkout"]}),
    )
    .await;
    let path = format!("/issues/{id}/field");
    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;
    let (_, page) = viewer.get(&format!("/issues/{id}")).await;
    assert!(
        !page.contains("inline-field"),
        "viewers see values, not forms"
    );
    let csrf = viewer.csrf().await;
    let (status, _, _) = viewer
        .post(
            &path,
            &[("csrf", &csrf), ("field", "priority"), ("value", "urgent")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (_, page) = member.get(&format!("/issues/{id}")).await;
    assert!(page.contains("class=\"inline-field\""), "{page}");
    let csrf = member.csrf().await;
    let (status, _, _) = member
        .post(
            &path,
            &[("csrf", ""), ("field", "priority"), ("value", "urgent")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no forged changes");
    for (field, value) in [
        ("priority", "urgent"),
        ("severity", "critical"),
        ("labels", "checkout, payments"),
        ("assignee", "member@example.com"),
        ("fixed_in_version", "2.3.1"),
    ] {
        let (status, _, location) = member
            .post(
                &path,
                &[("csrf", &csrf), ("field", field), ("value", value)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{field}");
        assert_eq!(location, format!("/issues/{id}"));
    }
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["priority"], "urgent");
    assert_eq!(issue["severity"], "critical");
    assert_eq!(issue["labels"], json!(["checkout", "payments"]));
    assert_eq!(issue["assignee"]["email"], "member@example.com");
    assert_eq!(issue["fixed_in_version"], "2.3.1");
    assert_eq!(issue["title"], "Checkout crashes");
    assert_eq!(issue["description"], "Since Monday", "untouched");
    assert_eq!(issue["status"], "new");

    // Resolving needs its resolution, said by the field; with one, it saves.
    let (status, page, _) = member
        .post(
            &path,
            &[("csrf", &csrf), ("field", "status"), ("value", "resolved")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("id=\"edit-error\"") && page.contains("resolution"),
        "{page}"
    );
    let (status, _, _) = member
        .post(
            &path,
            &[
                ("csrf", &csrf),
                ("field", "status"),
                ("value", "resolved"),
                ("resolution", "fixed"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(
        (&issue["status"], &issue["resolution"]),
        (&json!("resolved"), &json!("fixed"))
    );

    // A field the panel does not hold, or a bad value, is refused and changes nothing.
    for (field, value) in [("title", "Renamed"), ("priority", "whenever")] {
        let (status, page, _) = member
            .post(
                &path,
                &[("csrf", &csrf), ("field", field), ("value", value)],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        assert!(page.contains("role=\"alert\""), "{page}");
    }
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["title"], "Checkout crashes");
    assert_eq!(issue["priority"], "urgent");
}

async fn forms_without_the_session_token_are_refused(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let id = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Checkout crashes"}),
    )
    .await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (_, page) = member.get(&format!("/issues/{id}")).await;
    let seen = attribute_after(&page, "name=\"expected_updated_at\" value=\"");
    for csrf in ["", "0000", &"a".repeat(64)] {
        let (status, body, _) = member
            .post(
                &format!("/issues/{id}"),
                &edit_fields(csrf, &seen, "resolved", "fixed"),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "csrf {csrf:?}");
        assert!(body.contains("reload the page"), "{body}");
        let (status, _, _) = member
            .post(
                &format!("/issues/{id}/comments"),
                &[("csrf", csrf), ("body", "forged")],
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    // Another session's token does not work either.
    let other = Browser::new(&app, "other@example.com", Role::Member).await;
    let foreign = other.csrf().await;
    let (status, _, _) = member
        .post(
            &format!("/issues/{id}/comments"),
            &[("csrf", &foreign), ("body", "forged")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, comments) = app
        .get(&format!("/api/v1/issues/{id}/comments"), &admin)
        .await;
    assert_eq!(
        comments["items"].as_array().map_or(0, Vec::len),
        0,
        "{comments}"
    );
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["status"], "new");
}

async fn a_stale_edit_is_refused_not_overwritten(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let id = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Checkout crashes"}),
    )
    .await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (_, page) = member.get(&format!("/issues/{id}")).await;
    let seen = attribute_after(&page, "name=\"expected_updated_at\" value=\"");
    let csrf = member.csrf().await;
    // Someone else changes the issue meanwhile.
    let (status, _) = app
        .patch(
            &format!("/api/v1/issues/{id}"),
            &admin,
            json!({"priority": "urgent"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, page, _) = member
        .post(
            &format!("/issues/{id}"),
            &edit_fields(&csrf, &seen, "triaged", ""),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("changed by someone else"), "{page}");
    let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
    assert_eq!(issue["priority"], "urgent", "the other change stands");
    assert_eq!(issue["status"], "new");

    // The API knows the same precondition.
    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{id}"),
            &admin,
            json!({"status": "triaged", "expected_updated_at": seen}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["field"], "expected_updated_at");
    let fresh = issue["updated_at"].as_str().unwrap();
    let (status, body) = app
        .patch(
            &format!("/api/v1/issues/{id}"),
            &admin,
            json!({"status": "triaged", "expected_updated_at": fresh}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn refused_forms_keep_what_was_typed(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let csrf = member.csrf().await;
    let (status, page, _) = member
        .post(
            "/projects/WEB/new",
            &[
                ("csrf", &csrf),
                ("type", "feature"),
                ("title", "   "),
                ("description", "My long careful write-up"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("My long careful write-up"),
        "what was typed is kept"
    );
    assert!(
        page.contains("class=\"field-error\" id=\"ne-title\""),
        "the error sits by the title: {page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    let (status, page, _) = member
        .post(
            "/projects/WEB/new",
            &[
                ("csrf", &csrf),
                ("type", "feature"),
                ("title", "Dark mode"),
                ("severity", "major"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("severity"), "{page}");
    assert!(page.contains("value=\"Dark mode\""));
    assert_eq!(app.issue_count("WEB").await, 0, "nothing was filed");
}

async fn filing_an_issue_uses_the_template_of_its_type(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (status, bug) = member.get("/projects/WEB/new?type=bug").await;
    assert_eq!(status, StatusCode::OK);
    assert!(bug.contains("name=\"steps_to_reproduce\""));
    assert!(bug.contains("name=\"severity\""));
    let (_, feature) = member.get("/projects/WEB/new?type=feature").await;
    assert!(!feature.contains("name=\"steps_to_reproduce\""));
    assert!(!feature.contains("name=\"severity\""));
    assert!(feature.contains("## Proposal"));

    let csrf = member.csrf().await;
    let (status, _, location) = member
        .post(
            "/projects/WEB/new",
            &[
                ("csrf", &csrf),
                ("type", "bug"),
                ("title", "Pay button dead"),
                ("severity", "critical"),
                ("priority", "urgent"),
                ("labels", "checkout"),
                ("steps_to_reproduce", "1. Open /checkout\n2. Click Pay"),
                ("expected", "Paid"),
                ("actual", "Nothing"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/issues/WEB-1");
    let (_, page) = member.get(&location).await;
    assert!(page.contains("Bug report"));
    assert!(page.contains("1. Open /checkout\n2. Click Pay"));
    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;
    let (status, _) = viewer.get("/projects/WEB/new?type=bug").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn hostile_text_is_escaped_on_every_page(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let hostile = r#"<script>alert(1)</script>"><img src=x onerror=alert(2)>"#;
    let (status, _) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"name": hostile, "components": [hostile]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let id = file(
        &app,
        &admin,
        json!({"type": "bug", "title": hostile, "description": format!("[click](javascript:alert(3)) {hostile}"),
               "steps_to_reproduce": hostile, "labels": ["x"], "component": hostile}),
    )
    .await;
    let (status, _) = app
        .post(
            &format!("/api/v1/issues/{id}/comments"),
            &admin,
            json!({"body": hostile}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let admin_browser = Browser::new(&app, "admin@example.com", Role::Admin).await;
    for path in [
        "/",
        "/projects/WEB",
        "/projects/WEB?view=all",
        &format!("/issues/{id}"),
        "/projects/WEB/settings",
        "/projects/WEB/new?type=bug",
    ] {
        let (status, page) = admin_browser.get(path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(
            !page.contains("<script>alert"),
            "{path} shows a live script"
        );
        assert!(!page.contains("<img src=x"), "{path} shows a live image");
        assert!(
            !page.contains("href=\"javascript:"),
            "{path} has a javascript: link"
        );
    }
    let (_, markdown) = admin_browser.get(&format!("/issues/{id}/markdown")).await;
    // Outside code fences nothing typed stays live Markdown or HTML; inside them it is text.
    let mut fenced = false;
    for line in markdown.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && !line.starts_with("- Link: <") {
            assert!(
                !line.replace("\\<", "").contains('<'),
                "live HTML in {line:?}"
            );
        }
    }
    assert!(markdown.contains("\\<script\\>"), "{markdown}");
}

async fn captured_context_is_laid_out_for_developers(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let report = json!({
        "title": "Pay does nothing",
        "page_url": "https://shop.example.com/checkout",
        "context": {"browser": {"name": "Chrome", "version": "131.0"}, "os": {"name": "Windows", "version": "11"},
                    "viewport": {"width": 1440, "height": 900, "device_pixel_ratio": 2},
                    "app_version": "2.3.0", "custom": {"plan": "<b>pro</b>"}},
        "console": [
            {"level": "log", "message": "cart loaded", "timestamp": "2026-11-25T10:00:00Z"},
            {"level": "error", "message": "TypeError: <svg onload=alert(1)>", "stack": "at pay (app.js:10:4)", "timestamp": "2026-11-25T10:00:01Z"}
        ],
        "network": [
            {"method": "GET", "url": "https://shop.example.com/api/cart", "status": 200, "duration_ms": 12},
            {"method": "POST", "url": "https://shop.example.com/api/pay", "status": 500, "duration_ms": 231}
        ],
        "actions": [{"kind": "click", "target": "button \"Pay now\""}],
        "capture_health": [{"kind": "image_not_captured", "url": "https://cdn.example.net/logo.png", "reason": "cross-origin"}]
    });
    let id = app.file_report(&key, &report).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;
    let (status, page) = viewer.get(&format!("/issues/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Captured with the report"));
    assert!(page.contains("cart loaded"));
    assert!(
        page.contains("at pay (app.js:10:4)"),
        "stacks are shown, folded"
    );
    assert!(!page.contains("<svg onload"), "console text is escaped");
    let pay = page.find("/api/pay").unwrap();
    let cart = page.find("/api/cart").unwrap();
    assert!(pay < cart, "failed requests come first");
    assert!(page.contains("Chrome 131.0"));
    assert!(page.contains("1440 × 900 at 2x"));
    assert!(
        page.contains("&#60;b&#62;pro&#60;/b&#62;"),
        "custom context is escaped"
    );
    assert!(
        page.contains("cdn.example.net/logo.png"),
        "capture health is shown"
    );
    let (_, markdown) = viewer.get(&format!("/issues/{id}/markdown")).await;
    assert!(
        markdown.contains("POST https://shop.example.com/api/pay -> 500"),
        "{markdown}"
    );
}

async fn admins_configure_projects_and_rotate_intake_keys(store: Store) {
    let app = TestApp::start(store).await;
    let admin_token = app.with_project().await;
    let admin = Browser::new(&app, "admin@example.com", Role::Admin).await;
    let csrf = admin.csrf().await;
    let (status, page) = admin.get("/projects/WEB/settings").await;
    assert_eq!(status, StatusCode::OK);
    let old_key = app.get("/api/v1/projects/WEB", &admin_token).await.1["intake_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        page.contains(&format!("data-moth-key=&#34;{old_key}&#34;"))
            || page.contains(&format!("data-moth-key=\"{old_key}\"")),
        "{page}"
    );

    let (status, page, _) = admin
        .post(
            "/projects/WEB/settings",
            &[
                ("csrf", &csrf),
                ("name", "Web shop"),
                ("components", "payments\ncheckout"),
                ("versions", "2.10.0\n2.9.1"),
                ("allowed_origins", "not an origin"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("allowed_origins"), "{page}");
    assert!(
        page.contains("payments\ncheckout"),
        "what was typed is kept"
    );
    let (status, page, _) = admin
        .post(
            "/projects/WEB/settings",
            &[
                ("csrf", &csrf),
                ("name", "Web shop"),
                ("components", "payments\ncheckout"),
                ("versions", "2.10.0, 2.9.1"),
                ("allowed_origins", "https://shop.example.com"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Saved."));
    let (_, project) = app.get("/api/v1/projects/WEB", &admin_token).await;
    assert_eq!(project["components"], json!(["payments", "checkout"]));
    assert_eq!(project["versions"], json!(["2.9.1", "2.10.0"]));
    assert_eq!(
        project["allowed_origins"],
        json!(["https://shop.example.com"])
    );

    let (status, _, _) = admin
        .post("/projects/WEB/settings/intake-key", &[("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let new_key = app.get("/api/v1/projects/WEB", &admin_token).await.1["intake_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_key, old_key);

    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let (status, _) = member.get("/projects/WEB/settings").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let member_csrf = member.csrf().await;
    let (status, _, _) = member
        .post(
            "/projects/WEB/settings/intake-key",
            &[("csrf", &member_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = member
        .post(
            "/projects/new",
            &[("csrf", &member_csrf), ("key", "APP"), ("name", "App")],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, page, _) = admin
        .post(
            "/projects/new",
            &[("csrf", &csrf), ("key", "web"), ("name", "Lower")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"key-error\""), "{page}");
    let (status, _, _) = admin
        .post(
            "/projects/new",
            &[("csrf", &csrf), ("key", "WEB"), ("name", "Again")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, location) = admin
        .post(
            "/projects/new",
            &[("csrf", &csrf), ("key", "APP"), ("name", "App")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/projects/APP/settings");
}

async fn comments_are_added_and_previewed(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let id = file(
        &app,
        &admin,
        json!({"type": "question", "title": "Which browsers?"}),
    )
    .await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let csrf = member.csrf().await;
    let (status, html, _) = member
        .post(
            &format!("/issues/{id}/preview"),
            &[
                ("csrf", &csrf),
                ("body", "**bold** [x](javascript:alert(1))"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<strong>bold</strong>"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    let (status, page, _) = member
        .post(
            &format!("/issues/{id}/comments"),
            &[("csrf", &csrf), ("body", "  ")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"comment-error\""));
    let (status, _, location) = member
        .post(
            &format!("/issues/{id}/comments"),
            &[("csrf", &csrf), ("body", "Chrome and *Firefox*")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with(&format!("/issues/{id}#comment-")),
        "{location}"
    );
    let (_, page) = member.get(&format!("/issues/{id}")).await;
    assert!(page.contains("Chrome and <em>Firefox</em>"));
}

async fn releases_keep_what_affects_a_version_apart_from_what_it_fixes(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.patch(
        "/api/v1/projects/WEB",
        &admin,
        json!({"versions": ["2.9.1", "2.10.0", "3.0.0"]}),
    )
    .await;
    let planned = file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Planned wish"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{planned}"),
        &admin,
        json!({"fixed_in_version": "2.10.0"}),
    )
    .await;
    let fixed = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Fixed crash", "affects_version": "2.9.1"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{fixed}"),
        &admin,
        json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": "2.10.0"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Open bug in new release", "affects_version": "2.10.0"}),
    )
    .await;
    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;
    let (status, index) = viewer.get("/projects/WEB/releases").await;
    assert_eq!(status, StatusCode::OK);
    let newest = index.find(">3.0.0<").unwrap();
    let middle = index.find(">2.10.0<").unwrap();
    let oldest = index.find(">2.9.1<").unwrap();
    assert!(
        newest < middle && middle < oldest,
        "newest version first, in version order"
    );
    let (status, release) = viewer.get("/projects/WEB/releases/2.10.0").await;
    assert_eq!(status, StatusCode::OK);
    let planned_at = release.find("Planned for 2.10.0").unwrap();
    let fixed_at = release.find("Fixed in 2.10.0").unwrap();
    let affects_at = release.find("Reported against 2.10.0").unwrap();
    let planned_part = &release[planned_at..fixed_at];
    let fixed_part = &release[fixed_at..affects_at];
    let affects_part = &release[affects_at..];
    assert!(planned_part.contains("Planned wish") && !planned_part.contains("Fixed crash"));
    assert!(fixed_part.contains("Fixed crash") && !fixed_part.contains("Planned wish"));
    assert!(
        affects_part.contains("Open bug in new release") && !affects_part.contains("Fixed crash")
    );
    let (_, old) = viewer.get("/projects/WEB/releases/2.9.1").await;
    assert!(
        old.contains("Fixed crash") && old.contains("fixed in"),
        "{old}"
    );
    let (status, _) = viewer.get("/projects/WEB/releases/not%20a%20version").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn views_are_saved_personal_or_shared(store: Store) {
    let app = TestApp::start(store).await;
    app.with_project().await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let other = Browser::new(&app, "other@example.com", Role::Member).await;
    let csrf = member.csrf().await;
    let (status, _, location) = member
        .post(
            "/projects/WEB/views",
            &[
                ("csrf", &csrf),
                ("name", "My crashes"),
                ("query", "?view=bugs&severity=critical&q=crash"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location,
        "/projects/WEB?view=bugs&severity=critical&q=crash"
    );
    member
        .post(
            "/projects/WEB/views",
            &[
                ("csrf", &csrf),
                ("name", "Team <b>checkout</b>"),
                ("query", "?view=all&label=checkout"),
                ("shared", "yes"),
            ],
        )
        .await;
    let (_, mine) = member.get("/projects/WEB").await;
    assert!(
        mine.contains("My crashes") && mine.contains("Team &#60;b&#62;checkout"),
        "{mine}"
    );
    assert!(
        mine.contains("href=\"/projects/WEB?view=bugs&#38;severity=critical&#38;q=crash\""),
        "{mine}"
    );
    let (_, theirs) = other.get("/projects/WEB").await;
    assert!(
        !theirs.contains("My crashes"),
        "personal views stay personal"
    );
    assert!(
        theirs.contains("Team &#60;b&#62;checkout"),
        "shared views are shared"
    );
    let (status, _, _) = member
        .post(
            "/projects/WEB/views",
            &[("csrf", &csrf), ("name", " "), ("query", "view=all")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Only the owner deletes a view.
    assert!(
        !theirs.contains("/projects/WEB/views/"),
        "no delete button on others' views"
    );
    let (_, mine) = member.get("/projects/WEB").await;
    let shared_at = mine.find("Team &#60;b&#62;checkout").unwrap();
    let id = attribute_after(&mine[shared_at..], "/projects/WEB/views/")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let other_csrf = other.csrf().await;
    let (status, _, _) = other
        .post(
            &format!("/projects/WEB/views/{id}/delete"),
            &[("csrf", &other_csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = member
        .post(
            &format!("/projects/WEB/views/{id}/delete"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, theirs) = other.get("/projects/WEB").await;
    assert!(!theirs.contains("checkout</a>"));
}

async fn bulk_edits_change_each_selected_issue_or_say_why_not(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let a = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "One", "labels": ["old"]}),
    )
    .await;
    let b = file(&app, &admin, json!({"type": "task", "title": "Two"})).await;
    let member = Browser::new(&app, "member@example.com", Role::Member).await;
    let csrf = member.csrf().await;
    let (_, list) = member.get("/projects/WEB?view=all").await;
    assert!(list.contains(&format!("name=\"ids\" value=\"{a}\"")));
    let (status, page, _) = member
        .post(
            "/projects/WEB/bulk",
            &[
                ("csrf", &csrf),
                ("ids", &a),
                ("ids", &b),
                ("status", "triaged"),
                ("priority", "high"),
                ("add_label", "sprint-7"),
                ("fixed_in_version", "2.4.0"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Changed 2"));
    for id in [&a, &b] {
        let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
        assert_eq!(
            (
                issue["status"].as_str(),
                issue["priority"].as_str(),
                issue["fixed_in_version"].as_str()
            ),
            (Some("triaged"), Some("high"), Some("2.4.0"))
        );
        assert!(
            issue["labels"]
                .as_array()
                .unwrap()
                .contains(&json!("sprint-7"))
        );
    }
    let (_, first) = app.get(&format!("/api/v1/issues/{a}"), &admin).await;
    assert!(
        first["labels"].as_array().unwrap().contains(&json!("old")),
        "labels are added, not replaced"
    );
    // Resolving without a resolution is refused for each, and said.
    let (status, page, _) = member
        .post(
            "/projects/WEB/bulk",
            &[
                ("csrf", &csrf),
                ("ids", &a),
                ("ids", "APP-1"),
                ("status", "resolved"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("resolution") && page.contains("APP-1"),
        "{page}"
    );
    let (status, _, _) = member
        .post(
            "/projects/WEB/bulk",
            &[("csrf", &csrf), ("status", "triaged")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "nothing selected");
    let viewer = Browser::new(&app, "viewer@example.com", Role::Viewer).await;
    let viewer_csrf = viewer.csrf().await;
    let (status, _, _) = viewer
        .post(
            "/projects/WEB/bulk",
            &[
                ("csrf", &viewer_csrf),
                ("ids", &a),
                ("status", "closed"),
                ("resolution", "done"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
