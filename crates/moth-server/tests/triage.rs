//! The triage inbox: what waits there, every decision over HTTP (form and JSON), refusals that
//! change nothing, and a real browser clearing three reports with the keyboard alone.

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
    the_inbox_holds_new_unsnoozed_reports_oldest_first,
    the_inbox_shows_twenty_five_reports_a_page,
    each_decision_changes_the_issue_as_it_says,
    refused_decisions_change_nothing_and_say_why,
);

async fn file(app: &TestApp, token: &str, body: Value) -> String {
    let (status, issue) = app.post("/api/v1/projects/WEB/issues", token, body).await;
    assert_eq!(status, StatusCode::CREATED, "{issue}");
    issue["id"].as_str().unwrap().to_string()
}

struct Triager<'a> {
    app: &'a TestApp,
    cookie: String,
    csrf: String,
}

impl<'a> Triager<'a> {
    async fn new(app: &'a TestApp, email: &str, role: Role) -> Triager<'a> {
        app.token_for(email, role).await;
        let (name, secret) = app.session_cookie(email).await;
        let cookie = format!("{name}={secret}");
        let html = app
            .request(reqwest::Method::GET, "/", None)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let marker = "name=\"csrf\" value=\"";
        let start = html.find(marker).unwrap() + marker.len();
        let csrf = html[start..].split('"').next().unwrap().to_string();
        Triager { app, cookie, csrf }
    }

    async fn inbox(&self) -> (StatusCode, String) {
        self.inbox_at("/projects/WEB/triage").await
    }

    async fn inbox_at(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .app
            .request(reqwest::Method::GET, path, None)
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }

    async fn decide(
        &self,
        id: &str,
        fields: &[(&str, &str)],
        json_answer: bool,
    ) -> (StatusCode, String) {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let mut request = self
            .app
            .request(
                reqwest::Method::POST,
                &format!("/projects/WEB/triage/{id}"),
                None,
            )
            .header("cookie", &self.cookie)
            .form(&form);
        if json_answer {
            request = request.header("accept", "application/json");
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

async fn the_inbox_holds_new_unsnoozed_reports_oldest_first(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let first = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "First report"}),
    )
    .await;
    let second = file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Second report"}),
    )
    .await;
    let triaged = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Already triaged"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{triaged}"),
        &admin,
        json!({"status": "triaged"}),
    )
    .await;
    let member = Triager::new(&app, "member@example.com", Role::Member).await;
    let (status, page) = member.inbox().await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("<span data-triage-count>2</span> waiting"),
        "{page}"
    );
    assert!(!page.contains("Already triaged"));
    assert!(page.find("First report").unwrap() < page.find("Second report").unwrap());
    // Severity is offered for bugs, not for features.
    let second_card = &page[page.find(&format!("data-issue=\"{second}\"")).unwrap()..];
    let second_card = &second_card[..second_card.find("</li>").unwrap()];
    assert!(!second_card.contains("name=\"severity\""));

    let (status, _) = member
        .decide(&first, &[("action", "snooze"), ("days", "3")], false)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = member.inbox().await;
    assert!(
        !page.contains("First report"),
        "snoozed reports leave the inbox"
    );
    assert!(
        page.contains("<span data-triage-count>1</span> waiting"),
        "the count follows the snooze: {page}"
    );
    let (_, issue) = app.get(&format!("/api/v1/issues/{first}"), &admin).await;
    assert_eq!(issue["status"], "new", "a snooze changes no field");
    let (_, activity) = app
        .get(&format!("/api/v1/issues/{first}/activity"), &admin)
        .await;
    assert!(activity.to_string().contains("issue.snoozed"), "{activity}");

    // Viewers see the inbox but get no forms.
    let viewer = Triager::new(&app, "viewer@example.com", Role::Viewer).await;
    let (status, page) = viewer.inbox().await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Second report"));
    assert!(!page.contains("triage-form"));
}

async fn the_inbox_shows_twenty_five_reports_a_page(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let mut ids = Vec::new();
    for n in 1..=28 {
        let title = format!("Report number {n:02}");
        ids.push(file(&app, &admin, json!({"type": "bug", "title": title})).await);
    }
    let member = Triager::new(&app, "member@example.com", Role::Member).await;
    member
        .decide(&ids[1], &[("action", "snooze"), ("days", "3")], false)
        .await;
    let (status, first) = member.inbox().await;
    assert_eq!(status, StatusCode::OK);
    assert!(first.contains("<span data-triage-count>27</span> waiting"));
    assert_eq!(first.matches("class=\"card triage-card\"").count(), 25);
    assert!(first.contains("Report number 01") && first.contains("Report number 26"));
    assert!(!first.contains("Report number 02"), "snoozed");
    assert!(!first.contains("Report number 27"));
    let next = format!("?after={}", ids[25].trim_start_matches("WEB-"));
    assert!(
        first.contains(&format!("href=\"{next}\" rel=\"next\"")),
        "{first}"
    );

    let (status, second) = member
        .inbox_at(&format!("/projects/WEB/triage{next}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(second.matches("class=\"card triage-card\"").count(), 2);
    assert!(second.contains("Report number 27") && second.contains("Report number 28"));
    assert!(
        !second.contains("rel=\"next\""),
        "the last page links to no next one"
    );
    assert!(second.contains("First page"));
    let (status, _) = member.inbox_at("/projects/WEB/triage?after=soon").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}

async fn each_decision_changes_the_issue_as_it_says(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let original = file(&app, &admin, json!({"type": "bug", "title": "Pay fails"})).await;
    let accept = file(&app, &admin, json!({"type": "bug", "title": "Crash"})).await;
    let dup = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Pay fails again"}),
    )
    .await;
    let info = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Something odd"}),
    )
    .await;
    let decline = file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Blink tag"}),
    )
    .await;
    let member = Triager::new(&app, "member@example.com", Role::Member).await;

    let (status, _) = member
        .decide(
            &accept,
            &[
                ("action", "accept"),
                ("severity", "critical"),
                ("priority", "urgent"),
            ],
            false,
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, body) = member
        .decide(
            &dup,
            &[("action", "duplicate"), ("duplicate_of", &original)],
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["ok"], true);
    member
        .decide(
            &info,
            &[
                ("action", "needs_info"),
                ("question", "Which browser were you using?"),
            ],
            true,
        )
        .await;
    member
        .decide(&decline, &[("action", "by_design")], true)
        .await;

    let get = |id: String| {
        let app = &app;
        let admin = admin.clone();
        async move { app.get(&format!("/api/v1/issues/{id}"), &admin).await.1 }
    };
    let accepted = get(accept).await;
    assert_eq!(
        (
            accepted["status"].as_str(),
            accepted["severity"].as_str(),
            accepted["priority"].as_str()
        ),
        (Some("triaged"), Some("critical"), Some("urgent"))
    );
    let duplicate = get(dup).await;
    assert_eq!(
        (
            duplicate["status"].as_str(),
            duplicate["resolution"].as_str()
        ),
        (Some("resolved"), Some("duplicate"))
    );
    assert_eq!(duplicate["duplicate_of"], original.as_str());
    assert_eq!(get(original.clone()).await["duplicate_count"], 1);
    assert_eq!(get(info.clone()).await["status"], "needs_info");
    let (_, comments) = app
        .get(&format!("/api/v1/issues/{info}/comments"), &admin)
        .await;
    assert_eq!(
        comments["items"][0]["body"],
        "Which browser were you using?"
    );
    let declined = get(decline).await;
    assert_eq!(
        (declined["status"].as_str(), declined["resolution"].as_str()),
        (Some("closed"), Some("by_design"))
    );
    let (_, page) = member.inbox().await;
    assert!(
        page.contains("<span data-triage-count>1</span>"),
        "only the original waits: {page}"
    );
}

async fn refused_decisions_change_nothing_and_say_why(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let bug = file(&app, &admin, json!({"type": "bug", "title": "Crash"})).await;
    let feature = file(&app, &admin, json!({"type": "feature", "title": "Wish"})).await;
    let member = Triager::new(&app, "member@example.com", Role::Member).await;

    let (status, page) = member
        .decide(
            &bug,
            &[("action", "duplicate"), ("duplicate_of", "WEB-99")],
            false,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("WEB-99 does not exist"), "{page}");
    let (status, body) = member
        .decide(
            &bug,
            &[("action", "duplicate"), ("duplicate_of", &bug)],
            true,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["error"]["field"], "duplicate_of");
    let (status, body) = member
        .decide(
            &feature,
            &[("action", "accept"), ("severity", "major")],
            true,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, _) = member.decide(&bug, &[("action", "explode")], true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = member.decide("APP-1", &[("action", "accept")], true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let viewer = Triager::new(&app, "viewer@example.com", Role::Viewer).await;
    let (status, _) = viewer.decide(&bug, &[("action", "accept")], true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let forged = Triager {
        csrf: "forged".into(),
        ..Triager::new(&app, "other@example.com", Role::Member).await
    };
    let (status, _) = forged.decide(&bug, &[("action", "wont_fix")], true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for id in [&bug, &feature] {
        let (_, issue) = app.get(&format!("/api/v1/issues/{id}"), &admin).await;
        assert_eq!(issue["status"], "new", "{id} unchanged");
    }
}

#[tokio::test]
async fn three_reports_are_triaged_with_the_keyboard_alone() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let original = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Pay button dead"}),
    )
    .await;
    app.patch(
        &format!("/api/v1/issues/{original}"),
        &admin,
        json!({"status": "triaged"}),
    )
    .await;
    let crash = file(&app, &admin, json!({"type": "bug", "title": "App crashes on save", "steps_to_reproduce": "1. Open /editor\n2. Press save"})).await;
    let again = file(
        &app,
        &admin,
        json!({"type": "bug", "title": "Pay button does nothing"}),
    )
    .await;
    let wish = file(
        &app,
        &admin,
        json!({"type": "feature", "title": "Make it pink"}),
    )
    .await;
    app.token_for("member@example.com", Role::Member).await;

    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;
    let page = browser::signed_in_page(&chromium, &app, "member@example.com").await;
    page.goto(format!("{}/projects/WEB/triage", app.base))
        .await
        .unwrap();
    browser::wait_for(
        &page,
        "the inbox",
        "document.querySelectorAll('.triage-card').length === 3",
    )
    .await;
    browser::keep_screenshot(&page, "triage-inbox").await;
    // j focuses the first report; 2 = major, 6 = high priority; a accepts. (Each key goes to
    // the element that has the focus, as it would from a person's keyboard.)
    page.find_element("body")
        .await
        .unwrap()
        .press_key("j")
        .await
        .unwrap();
    let first = page.find_element(".triage-card:focus").await.unwrap();
    assert_eq!(
        first.attribute("data-issue").await.unwrap().as_deref(),
        Some(crash.as_str())
    );
    for key in ["2", "6", "a"] {
        first.press_key(key).await.unwrap();
    }
    browser::wait_for(
        &page,
        "the first report to leave",
        "document.querySelectorAll('.triage-card').length === 2",
    )
    .await;
    // The next report has the focus: d opens the duplicate box; type the original; Enter.
    browser::wait_for(
        &page,
        "focus on the next report",
        &format!("document.activeElement.dataset.issue === '{again}'"),
    )
    .await;
    let focused = page.find_element(".triage-card:focus").await.unwrap();
    focused.press_key("d").await.unwrap();
    let input = page
        .find_element(&format!("[data-issue='{again}'] input[name=duplicate_of]"))
        .await
        .unwrap();
    input.type_str(&original).await.unwrap();
    input.press_key("Enter").await.unwrap();
    browser::wait_for(
        &page,
        "the duplicate to leave",
        "document.querySelectorAll('.triage-card').length === 1",
    )
    .await;
    browser::wait_for(
        &page,
        "focus on the last report",
        &format!("document.activeElement.dataset.issue === '{wish}'"),
    )
    .await;
    page.find_element(".triage-card:focus")
        .await
        .unwrap()
        .press_key("w")
        .await
        .unwrap();
    browser::wait_for(
        &page,
        "inbox zero",
        "document.querySelectorAll('.triage-card').length === 0",
    )
    .await;

    let get = |id: String| {
        let app = &app;
        let admin = admin.clone();
        async move { app.get(&format!("/api/v1/issues/{id}"), &admin).await.1 }
    };
    let accepted = get(crash).await;
    assert_eq!(
        (
            accepted["status"].as_str(),
            accepted["severity"].as_str(),
            accepted["priority"].as_str()
        ),
        (Some("triaged"), Some("major"), Some("high"))
    );
    let duplicate = get(again).await;
    assert_eq!(
        (
            duplicate["resolution"].as_str(),
            duplicate["duplicate_of"].as_str()
        ),
        (Some("duplicate"), Some(original.as_str()))
    );
    let declined = get(wish).await;
    assert_eq!(
        (declined["status"].as_str(), declined["resolution"].as_str()),
        (Some("closed"), Some("wont_fix"))
    );
    chromium.close().await.unwrap();
}
