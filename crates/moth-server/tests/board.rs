//! The board: columns by status with the list's filters, moves by form and by drag and drop
//! in a real browser (dropping into Resolved asks for the resolution), and who may move.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;

use common::TestApp;
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

moth_store::conformance!(
    columns_hold_their_statuses_and_follow_the_filters,
    moves_follow_the_workflow_and_roles,
    a_column_shows_twenty_five_cards_and_links_to_the_rest,
    the_shared_move_form_moves_the_chosen_card,
    the_board_by_release_plans_open_work_for_unreleased_versions,
);

async fn file(app: &TestApp, token: &str, body: Value) -> String {
    let (status, issue) = app.post("/api/v1/projects/WEB/issues", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{issue}");
    issue["id"].as_str().unwrap().to_string()
}

async fn session(app: &TestApp, email: &str, role: Role) -> (String, String) {
    app.token_for(email, role).await;
    let (name, secret) = app.session_cookie(email).await;
    let cookie = format!("{name}={secret}");
    let html = page(app, &cookie, "/").await.1;
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    (cookie, html[start..].split('"').next().unwrap().to_string())
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let response = app
        .request(reqwest::Method::GET, path, None)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The text of one column of the board.
fn column<'a>(html: &'a str, status: &str) -> &'a str {
    let start = html.find(&format!("data-status=\"{status}\"")).unwrap();
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

/// The text of one column of the board by release (`none`: no release).
fn release_column<'a>(html: &'a str, release: &str) -> &'a str {
    let start = html
        .find(&format!("data-release=\"{release}\""))
        .unwrap_or_else(|| panic!("no column {release}: {html}"));
    let rest = &html[start..];
    &rest[..rest.find("</section>").unwrap()]
}

async fn columns_hold_their_statuses_and_follow_the_filters(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let bug = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Crash on save", "severity": "critical"}),
    )
    .await;
    file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Dark mode", "labels": ["ui"]}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{bug}"),
        &admin,
        json!({"status": "in_progress"}),
    )
    .await;
    let (viewer, _) = session(&app, "viewer@example.com", Role::Viewer).await;
    let (status, board) = page(&app, &viewer, "/projects/WEB/board").await;
    assert_eq!(status, StatusCode::OK);
    assert!(column(&board, "in_progress").contains("Crash on save"));
    assert!(
        column(&board, "in_progress").contains("sev-critical"),
        "severity shows on the card"
    );
    assert!(column(&board, "new").contains("Dark mode"));
    assert!(!column(&board, "new").contains("Crash on save"));
    assert!(!board.contains("draggable=\"true\""), "viewers cannot drag");
    let (_, filtered) = page(&app, &viewer, "/projects/WEB/board?label=ui").await;
    assert!(filtered.contains("Dark mode") && !filtered.contains("Crash on save"));
    let (status, _) = page(&app, &viewer, "/projects/WEB/board?priority=whenever").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn moves_follow_the_workflow_and_roles(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let bug = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Crash on save"}),
    )
    .await;
    let (member, csrf) = session(&app, "member@example.com", Role::Member).await;
    let post = |fields: Vec<(&'static str, String)>, cookie: String, json_answer: bool| {
        let app = &app;
        let bug = bug.clone();
        async move {
            let mut request = app
                .request(reqwest::Method::POST, &format!("/issues/{bug}/move"), None)
                .header("cookie", cookie)
                .form(&fields);
            if json_answer {
                request = request.header("accept", "application/json");
            }
            let response = request.send().await.unwrap();
            (response.status(), response.text().await.unwrap())
        }
    };
    let (status, _) = post(
        vec![
            ("csrf", csrf.clone()),
            ("status", "in_progress".into()),
            ("back", "/projects/WEB/board".into()),
        ],
        member.clone(),
        false,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, body) = post(
        vec![("csrf", csrf.clone()), ("status", "resolved".into())],
        member.clone(),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["field"],
        "resolution"
    );
    let (status, body) = post(
        vec![
            ("csrf", csrf.clone()),
            ("status", "resolved".into()),
            ("resolution", "fixed".into()),
        ],
        member.clone(),
        true,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, issue) = app.get(&format!("/api/v1/issues/{bug}"), &admin).await;
    assert_eq!(
        (issue["status"].as_str(), issue["resolution"].as_str()),
        (Some("resolved"), Some("fixed"))
    );

    let (viewer, viewer_csrf) = session(&app, "viewer@example.com", Role::Viewer).await;
    let (status, _) = post(
        vec![("csrf", viewer_csrf), ("status", "new".into())],
        viewer,
        true,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = post(
        vec![("csrf", "forged".into()), ("status", "triaged".into())],
        member,
        true,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, issue) = app.get(&format!("/api/v1/issues/{bug}"), &admin).await;
    assert_eq!(issue["status"], "resolved", "refused moves change nothing");
}

async fn a_column_shows_twenty_five_cards_and_links_to_the_rest(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    for n in 1..=28 {
        let labels = if n % 2 == 0 { vec!["even"] } else { vec![] };
        let body = json!({"type": "task", "title": format!("Chore {n}"), "labels": labels});
        file(&app, &admin, body).await;
    }
    let (member, _) = session(&app, "member@example.com", Role::Member).await;
    let (_, board) = page(&app, &member, "/projects/WEB/board").await;
    let new = column(&board, "new");
    assert_eq!(new.matches("class=\"board-card\"").count(), 25);
    assert!(new.contains("<small class=\"muted\">28</small>"), "{new}");
    assert!(
        new.contains("<a href=\"/projects/WEB?view=all&#38;status=new\">and 3 more</a>"),
        "{new}"
    );
    assert!(!column(&board, "triaged").contains("more</a>"));
    // Filtered, the totals and the link follow the filter.
    let (_, even) = page(&app, &member, "/projects/WEB/board?label=even").await;
    let new = column(&even, "new");
    assert_eq!(new.matches("class=\"board-card\"").count(), 14);
    assert!(new.contains("<small class=\"muted\">14</small>"), "{new}");
    assert!(!new.contains("more</a>"));
    let (_, even_few) = page(
        &app,
        &member,
        "/projects/WEB/board?label=even&type=task,bug",
    )
    .await;
    assert!(column(&even_few, "new").contains("<small class=\"muted\">14</small>"));
    // One Move form for the whole board, not one per card.
    assert!(!board.contains("action=\"/issues/"));
    assert_eq!(
        board.matches("action=\"/projects/WEB/board/move\"").count(),
        1
    );
    assert_eq!(board.matches("form=\"board-move\"").count(), 25);
}

async fn the_shared_move_form_moves_the_chosen_card(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let bug = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Crash on save"}),
    )
    .await;
    let (member, csrf) = session(&app, "member@example.com", Role::Member).await;
    let post = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let member = member.clone();
        async move {
            let response = app
                .request(reqwest::Method::POST, "/projects/WEB/board/move", None)
                .header("cookie", member)
                .form(&fields)
                .send()
                .await
                .unwrap();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (response.status(), location)
        }
    };
    let (status, location) = post(vec![
        ("csrf", csrf.clone()),
        ("issue", bug.clone()),
        ("status", "in_progress".into()),
        ("back", "/projects/WEB/board?label=ui".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/projects/WEB/board?label=ui"));
    let (_, issue) = app.get(&format!("/api/v1/issues/{bug}"), &admin).await;
    assert_eq!(issue["status"], "in_progress");
    let (_, board) = page(&app, &member, "/projects/WEB/board").await;
    assert!(column(&board, "in_progress").contains("Crash on save"));

    // Resolving without a resolution is refused and changes nothing; no card, or a card of
    // another project, is refused too.
    let (status, _) = post(vec![
        ("csrf", csrf.clone()),
        ("issue", bug.clone()),
        ("status", "resolved".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post(vec![("csrf", csrf.clone()), ("status", "triaged".into())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post(vec![
        ("csrf", csrf.clone()),
        ("issue", "API-1".into()),
        ("status", "triaged".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = post(vec![
        ("csrf", csrf.clone()),
        ("issue", bug.clone()),
        ("status", "resolved".into()),
        ("resolution", "fixed".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, issue) = app.get(&format!("/api/v1/issues/{bug}"), &admin).await;
    assert_eq!(
        (issue["status"].as_str(), issue["resolution"].as_str()),
        (Some("resolved"), Some("fixed"))
    );
}

/// Sends the board's shared Move form as `cookie`'s session, asking for `accept`.
async fn move_card(
    app: &TestApp,
    cookie: &str,
    fields: &[(&str, &str)],
    accept: &str,
) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/projects/WEB/board/move", None)
        .header("cookie", cookie)
        .header("accept", accept)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn plan(app: &TestApp, token: &str, id: &str, change: Value) {
    let (status, body) = app
        .patch(&format!("/api/v1/issues/{id}"), token, change)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn the_board_by_release_plans_open_work_for_unreleased_versions(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let (status, body) = app
        .patch(
            "/api/v1/projects/WEB",
            &admin,
            json!({"versions": ["2.3.0", "2.10.0", "2.4.0"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let shipped = file(&app, &admin, json!({"type": "bug", "title": "Old crash"})).await;
    plan(
        &app,
        &admin,
        &shipped,
        json!({"fixed_in_version": "2.3.0", "status": "resolved", "resolution": "fixed"}),
    )
    .await;
    let late = file(&app, &admin, json!({"type": "task", "title": "Late work"})).await;
    plan(&app, &admin, &late, json!({"fixed_in_version": "2.3.0"})).await;
    let planned = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Planned fix", "labels": ["ui"]}),
    )
    .await;
    plan(&app, &admin, &planned, json!({"fixed_in_version": "2.4.0"})).await;
    let loose = file(
        &app,
        &admin,
        json!({"type": "task", "title": "Unplanned <chore>"}),
    )
    .await;

    let (member, csrf) = session(&app, "member@example.com", Role::Member).await;
    let (status, board) = page(&app, &member, "/projects/WEB/board?by=release").await;
    assert_eq!(status, StatusCode::OK);
    // Unreleased versions in version order, then no release; 2.3.0 fixed something: shipped.
    let order: Vec<usize> = ["2.4.0", "2.10.0", "none"]
        .iter()
        .map(|r| board.find(&format!("data-release=\"{r}\"")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{board}");
    assert!(!board.contains("data-release=\"2.3.0\""));
    assert!(!board.contains("data-status="), "no status columns");
    assert!(release_column(&board, "2.4.0").contains("Planned fix"));
    let none = release_column(&board, "none");
    assert!(
        none.contains("Unplanned &#60;chore&#62;") || none.contains("Unplanned &lt;chore&gt;"),
        "{none}"
    );
    assert!(none.contains("<small class=\"muted\">1</small>"), "{none}");
    assert!(!board.contains("Old crash") && !board.contains("Late work"));
    assert!(
        board.contains("<select name=\"release\">"),
        "the Move form offers releases"
    );

    // The list's filters apply; the column's total follows them.
    let (_, ui) = page(&app, &member, "/projects/WEB/board?by=release&label=ui").await;
    assert!(release_column(&ui, "2.4.0").contains("Planned fix"));
    assert!(release_column(&ui, "none").contains("<small class=\"muted\">0</small>"));
    assert!(!ui.contains("Unplanned"));

    // Moved by the form (no script): planned for 2.10.0, status unchanged.
    let response = move_card(
        &app,
        &member,
        &[
            ("csrf", csrf.as_str()),
            ("issue", loose.as_str()),
            ("release", "2.10.0"),
            ("back", "/projects/WEB/board?by=release"),
        ],
        "text/html",
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, issue) = app.get(&format!("/api/v1/issues/{loose}"), &admin).await;
    assert_eq!(
        (issue["fixed_in_version"].as_str(), issue["status"].as_str()),
        (Some("2.10.0"), Some("new"))
    );
    let (_, board) = page(&app, &member, "/projects/WEB/board?by=release").await;
    assert!(release_column(&board, "2.10.0").contains("Unplanned"));
    // Moved as the page script does: back to no release.
    let response = move_card(
        &app,
        &member,
        &[
            ("csrf", csrf.as_str()),
            ("issue", planned.as_str()),
            ("release", "none"),
        ],
        "application/json",
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["fixed_in_version"], Value::Null, "{answer}");
    let (_, issue) = app.get(&format!("/api/v1/issues/{planned}"), &admin).await;
    assert_eq!(issue["fixed_in_version"], Value::Null);
    // A release that is no version is refused.
    let response = move_card(
        &app,
        &member,
        &[
            ("csrf", csrf.as_str()),
            ("issue", planned.as_str()),
            ("release", "soon"),
        ],
        "application/json",
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A column's "more" link lists the same issues.
    let (status, list) = page(
        &app,
        &member,
        "/projects/WEB?view=all&status=open&release=none",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.contains("Planned fix") && !list.contains("Unplanned"),
        "{list}"
    );
}

/// Script that drags the card of `issue` onto the column `column` (a selector) as the browser
/// reports it: dragstart on the card, dragover and drop on the column, sharing one DataTransfer.
fn drag(issue: &str, column: &str) -> String {
    format!(
        "(() => {{ const card = document.querySelector('[data-issue=\"{issue}\"]'); \
           const column = document.querySelector({column:?} + ' ol'); \
           const data = new DataTransfer(); \
           card.dispatchEvent(new DragEvent('dragstart', {{bubbles: true, dataTransfer: data}})); \
           column.dispatchEvent(new DragEvent('dragover', {{bubbles: true, cancelable: true, dataTransfer: data}})); \
           column.dispatchEvent(new DragEvent('drop', {{bubbles: true, cancelable: true, dataTransfer: data}})); \
           return true; }})()"
    )
}

#[tokio::test]
async fn a_card_dragged_to_resolved_asks_for_the_resolution() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let bug = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Crash on save", "severity": "major", "priority": "high"}),
    )
    .await;
    let task = file(
        &app,
        &admin,
        json!({"type": "task", "title": "Write release notes"}),
    )
    .await;
    app.token_for("member@example.com", Role::Member).await;
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;
    let page = browser::signed_in_page(&chromium, &app, "member@example.com").await;
    page.goto(format!("{}/projects/WEB/board", app.base))
        .await
        .unwrap();
    browser::wait_for(
        &page,
        "the board",
        "document.querySelectorAll('.board-card').length === 2",
    )
    .await;
    browser::keep_screenshot(&page, "board").await;
    browser::eval(&page, &drag(&bug, ".column[data-status=\"resolved\"]")).await;
    browser::wait_for(
        &page,
        "the resolution dialog",
        "document.querySelector('.resolve-dialog').open",
    )
    .await;
    browser::eval(
        &page,
        "const f = document.querySelector('.resolve-dialog form'); f.elements.resolution.value = 'fixed'; \
         f.requestSubmit(f.querySelector('button[value=ok]')); true",
    )
    .await;
    browser::wait_for(
        &page,
        "the card in Resolved",
        &format!("!!document.querySelector('.column[data-status=\"resolved\"] [data-issue=\"{bug}\"]') && !document.querySelector('.resolve-dialog').open"),
    )
    .await;
    let (_, issue) = app.get(&format!("/api/v1/issues/{bug}"), &admin).await;
    assert_eq!(
        (issue["status"].as_str(), issue["resolution"].as_str()),
        (Some("resolved"), Some("fixed"))
    );
    let totals = browser::eval(
        &page,
        "['new', 'resolved'].map(s => document.querySelector(`.column[data-status=\"${s}\"] h2 small`).textContent)",
    )
    .await;
    assert_eq!(
        totals,
        json!(["1", "1"]),
        "the column totals follow the card"
    );

    // By release: dropping the task on a release plans it for that release.
    app.patch(
        "/api/v1/projects/WEB",
        &admin,
        json!({"versions": ["2.4.0", "2.5.0"]}),
    )
    .await;
    page.goto(format!("{}/projects/WEB/board?by=release", app.base))
        .await
        .unwrap();
    browser::wait_for(
        &page,
        "the board by release",
        "!!document.querySelector('.column[data-release=\"none\"] .board-card')",
    )
    .await;
    browser::eval(&page, &drag(&task, ".column[data-release=\"2.5.0\"]")).await;
    browser::wait_for(
        &page,
        "the card in 2.5.0",
        &format!(
            "!!document.querySelector('.column[data-release=\"2.5.0\"] [data-issue=\"{task}\"]')"
        ),
    )
    .await;
    let (_, issue) = app.get(&format!("/api/v1/issues/{task}"), &admin).await;
    assert_eq!(
        (issue["fixed_in_version"].as_str(), issue["status"].as_str()),
        (Some("2.5.0"), Some("new")),
        "planned, not moved to another status"
    );
    chromium.close().await.unwrap();
}
