//! Live updates: the server-sent events stream over HTTP (resume without loss or repeats, one
//! project's events, the end of streams at shutdown), and two real browser tabs where a change
//! in one shows up in the other.

mod common;

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;

use common::TestApp;
use futures::StreamExt;
use moth_core::Role;
use moth_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

moth_store::conformance!(
    the_stream_delivers_each_change_once_and_resumes_after_the_last_seen,
    the_stream_can_follow_one_project,
    a_reporter_hears_of_their_report_and_nothing_else,
    a_merged_duplicates_reporter_hears_of_the_original,
);

/// Reads server-sent events from a response.
struct EventReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl EventReader {
    async fn open(
        app: &TestApp,
        token: &str,
        query: &str,
        last_event_id: Option<i64>,
    ) -> EventReader {
        Self::open_path(app, Some(token), &format!("/events{query}"), last_event_id).await
    }

    async fn open_path(
        app: &TestApp,
        token: Option<&str>,
        path: &str,
        last_event_id: Option<i64>,
    ) -> EventReader {
        let mut request = app.request(reqwest::Method::GET, path, token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id.to_string());
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        EventReader {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next `change` event's data, or `None` if the stream ends or stays quiet for 15 s
    /// (generous, so a loaded machine does not fail the test).
    async fn next(&mut self) -> Option<Value> {
        self.next_within(Duration::from_secs(15)).await
    }

    /// The next `change` event's data, or `None` if none comes within `quiet`.
    async fn next_within(&mut self, quiet: Duration) -> Option<Value> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                    let value: Value = serde_json::from_str(data.trim()).unwrap();
                    let id = block
                        .lines()
                        .find_map(|l| l.strip_prefix("id:"))
                        .unwrap()
                        .trim();
                    // The reporter's stream says only that something changed; the pages'
                    // stream carries the event, whose id is the SSE id.
                    if value.get("id").is_some() {
                        assert_eq!(id, value["id"].to_string(), "the SSE id is the event's");
                    } else {
                        assert!(id.parse::<i64>().is_ok(), "an event id to resume from");
                    }
                    return Some(value);
                }
                continue;
            }
            match tokio::time::timeout(quiet, self.body.next()).await {
                Ok(Some(Ok(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }
}

async fn the_stream_delivers_each_change_once_and_resumes_after_the_last_seen(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let viewer = app.token_for("viewer@example.com", Role::Viewer).await;
    let response = app
        .request(reqwest::Method::GET, "/events", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // A stream opened now sees changes from now on, not the project's creation before it.
    let mut events = EventReader::open(&app, &viewer, "", None).await;
    let (_, first) = app
        .post(
            "/api/v1/projects/WEB/issues",
            &admin,
            json!({"type": "bug", "title": "One"}),
        )
        .await;
    let seen = events.next().await.expect("the filing arrives");
    assert_eq!(seen["issue"], first["id"]);
    assert_eq!(seen["project"], "WEB");
    assert_eq!(seen["kind"], "issue.created");
    drop(events);

    // Changes made while disconnected arrive after a reconnect, each once, in order.
    app.patch("/api/v1/issues/WEB-1", &admin, json!({"priority": "high"}))
        .await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "task", "title": "Two"}),
    )
    .await;
    let mut resumed =
        EventReader::open(&app, &viewer, "", Some(seen["id"].as_i64().unwrap())).await;
    let a = resumed.next().await.expect("the edit");
    let b = resumed.next().await.expect("the second filing");
    assert_eq!(
        (a["issue"].as_str(), a["kind"].as_str()),
        (Some("WEB-1"), Some("issue.updated"))
    );
    assert_eq!(b["issue"], "WEB-2");
    assert!(a["id"].as_i64() > seen["id"].as_i64() && b["id"].as_i64() > a["id"].as_i64());
    assert!(
        resumed.next_within(Duration::from_secs(2)).await.is_none(),
        "nothing is repeated"
    );

    // A bad resume point is a clear error.
    let response = app
        .request(
            reqwest::Method::GET,
            "/events?after=yesterday",
            Some(&viewer),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Shutting the server down ends open streams instead of waiting on them forever.
    let mut open = EventReader::open(&app, &viewer, "", None).await;
    drop(app);
    assert!(open.next().await.is_none());
}

async fn the_stream_can_follow_one_project(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects",
        &admin,
        json!({"key": "APP", "name": "App"}),
    )
    .await;
    let mut web_only = EventReader::open(&app, &admin, "?project=WEB", None).await;
    app.post(
        "/api/v1/projects/APP/issues",
        &admin,
        json!({"type": "bug", "title": "Elsewhere"}),
    )
    .await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Here"}),
    )
    .await;
    let event = web_only.next().await.expect("the WEB filing");
    assert_eq!(event["issue"], "WEB-1");
    let response = app
        .request(reqwest::Method::GET, "/events?project=NOPE", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_second_tab_shows_a_change_within_a_second_or_two() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.token_for("member@example.com", Role::Member).await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Checkout crashes", "severity": "major"}),
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;
    let watching = browser::signed_in_page(&chromium, &app, "member@example.com").await;
    watching
        .goto(format!("{}/issues/WEB-1", app.base))
        .await
        .unwrap();
    browser::wait_for(
        &watching,
        "the live stream",
        "document.body.dataset.liveConnected",
    )
    .await;

    // Another tab edits the issue through its form.
    let editing = browser::signed_in_page(&chromium, &app, "member@example.com").await;
    editing
        .goto(format!("{}/issues/WEB-1", app.base))
        .await
        .unwrap();
    browser::eval(
        &editing,
        "document.querySelector('details.edit').open = true; \
         document.querySelector('#f-title').value = 'Checkout crashes on Safari'; \
         document.querySelector('.edit-form').requestSubmit(); true",
    )
    .await;
    browser::wait_for(
        &watching,
        "the first tab to show the new title",
        "document.querySelector('h1').textContent === 'Checkout crashes on Safari'",
    )
    .await;

    // A list updates when an issue is filed elsewhere, and a half-typed filter is not lost.
    watching
        .goto(format!("{}/projects/WEB?view=all", app.base))
        .await
        .unwrap();
    browser::wait_for(
        &watching,
        "the live stream",
        "document.body.dataset.liveConnected",
    )
    .await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "feature", "title": "Dark mode"}),
    )
    .await;
    browser::wait_for(
        &watching,
        "the new issue in the list",
        "document.querySelector('table.issues').textContent.includes('Dark mode')",
    )
    .await;
    browser::eval(
        &watching,
        "document.querySelector('input[name=label]').value = 'half-typed'; true",
    )
    .await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "task", "title": "Another"}),
    )
    .await;
    browser::wait_for(
        &watching,
        "the offer to refresh",
        "!!document.querySelector('.live-banner')",
    )
    .await;
    assert_eq!(
        browser::eval(
            &watching,
            "document.querySelector('input[name=label]').value"
        )
        .await,
        "half-typed"
    );
    browser::keep_screenshot(&watching, "project-list").await;
    chromium.close().await.unwrap();
}

async fn a_reporter_hears_of_their_report_and_nothing_else(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let answer = app
        .file_report(&key, &json!({"title": "Pay does nothing"}))
        .await;
    let status_url = answer["status_url"].as_str().unwrap();
    let path = format!("{}/events", status_url.trim_start_matches(&app.base));
    let mut news = EventReader::open_path(&app, None, &path, None).await;
    app.post(
        "/api/v1/projects/WEB/issues",
        &admin,
        json!({"type": "bug", "title": "Someone else's"}),
    )
    .await;
    let id = answer["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/issues/{id}"),
        &admin,
        json!({"status": "in_progress"}),
    )
    .await;
    let heard = news.next().await.expect("the change of the report");
    assert_eq!(heard, json!({}), "nothing but that it changed");
    assert!(
        news.next_within(Duration::from_secs(2)).await.is_none(),
        "other issues' changes are not told"
    );
    let (name, _) = status_url.rsplit_once('/').unwrap();
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("{}/not-a-token/events", name.trim_start_matches(&app.base)),
            None,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let page = app
        .request(
            reqwest::Method::GET,
            status_url.trim_start_matches(&app.base),
            None,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("data-live-status=\"{path}\"")),
        "{page}"
    );
}

async fn a_merged_duplicates_reporter_hears_of_the_original(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let original = app
        .post(
            "/api/v1/projects/WEB/issues",
            &admin,
            json!({"type": "bug", "title": "Pay broken"}),
        )
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = app.intake_key(&admin).await;
    let answer = app
        .file_report(&key, &json!({"title": "Pay does nothing"}))
        .await;
    let duplicate = answer["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/issues/{duplicate}"),
        &admin,
        json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": original}),
    )
    .await;
    let status_url = answer["status_url"].as_str().unwrap();
    let path = format!("{}/events", status_url.trim_start_matches(&app.base));
    let mut news = EventReader::open_path(&app, None, &path, None).await;
    app.patch(
        &format!("/api/v1/issues/{original}"),
        &admin,
        json!({"status": "resolved", "resolution": "fixed"}),
    )
    .await;
    assert_eq!(
        news.next()
            .await
            .expect("the original's fix is the reporter's news"),
        json!({})
    );
}
