//! The widget's intake over HTTP: full reports, the reporter's status page, CORS, limits,
//! floods and every bad input, on SQLite and PostgreSQL.

mod common;

use common::{TestApp, error_of};
use moth_server::ratelimit::{IntakeRates, Rate};
use moth_store::Store;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

moth_store::conformance!(
    a_full_report_becomes_a_bug_with_its_context_and_a_status_link,
    the_status_page_tells_the_reporter_what_happened_in_plain_words,
    origins_are_checked_and_answered_with_cors,
    bad_reports_are_refused_and_nothing_is_stored,
    a_flood_on_one_key_is_limited_while_another_key_is_served,
    a_report_resent_with_its_idempotency_key_is_answered_as_before_and_stored_once,
    idempotency_keys_are_checked_and_kept_per_project,
    reports_sent_at_the_same_moment_are_each_stored_once_with_their_screenshots,
);

/// A structurally complete PNG header of the given size (no pixels are decoded by Moth).
fn png(width: u32, height: u32) -> Vec<u8> {
    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0, 0, 0, 0]);
        out
    }
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(chunk(b"IHDR", &ihdr));
    out.extend(chunk(b"IDAT", &[7u8; 64]));
    out.extend(chunk(b"IEND", &[]));
    out
}

fn full_report() -> Value {
    json!({
        "type": "bug", "title": "Checkout button does nothing", "description": "Clicked Pay, nothing happened",
        "severity": "major", "reporter": {"name": "Ana", "email": "ana@example.com"},
        "page_url": "https://shop.example.com/checkout?access_token=SECRET-URL",
        "context": {
            "user_agent": "Mozilla/5.0", "browser": {"name": "Chrome", "version": "131.0"},
            "os": {"name": "Windows", "version": "11"}, "device": "desktop",
            "viewport": {"width": 1440, "height": 900, "device_pixel_ratio": 2},
            "locale": "de-DE", "timezone": "Europe/Berlin", "app_version": "2.3.0", "build": "2.3.0+481",
            "user_id": "u-1934", "custom": {"plan": "pro"}
        },
        "console": [
            {"level": "log", "message": "cart loaded", "timestamp": "2026-11-25T10:00:00Z"},
            {"level": "error", "message": "TypeError: x is undefined; card 4111 1111 1111 1111", "timestamp": "2026-11-25T10:00:02Z", "stack": "at pay (app.js:10:4)"},
            {"level": "warn", "message": "nul \u{0} byte and <script>alert(1)</script>"}
        ],
        "errors": [{"message": "TypeError: x is undefined", "stack": "at pay", "source": "app.js", "line": 10, "column": 4}],
        "network": [{"method": "POST", "url": "https://shop.example.com/api/pay", "status": 500, "duration_ms": 231, "timestamp": "2026-11-25T10:00:02Z"}],
        "actions": [{"kind": "click", "target": "button#pay \"Pay now\"", "timestamp": "2026-11-25T10:00:01Z"}]
    })
}

fn form(report: &Value, screenshot: Option<(Vec<u8>, &str)>) -> Form {
    let mut form = Form::new().part(
        "report",
        Part::text(report.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    if let Some((bytes, content_type)) = screenshot {
        form = form.part(
            "screenshot",
            Part::bytes(bytes)
                .file_name("screenshot")
                .mime_str(content_type)
                .unwrap(),
        );
    }
    form
}

async fn send(
    app: &TestApp,
    key: &str,
    form: Form,
    origin: Option<&str>,
) -> (StatusCode, Value, reqwest::header::HeaderMap) {
    let mut request = app
        .client
        .post(format!("{}/api/v1/intake/{key}", app.base))
        .multipart(form);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

async fn intake_key(app: &TestApp, admin: &str) -> String {
    app.get("/api/v1/projects/WEB", admin).await.1["intake_key"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn a_full_report_becomes_a_bug_with_its_context_and_a_status_link(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = intake_key(&app, &admin).await;
    let (status, answer, _) = send(
        &app,
        &key,
        form(&full_report(), Some((png(1440, 900), "image/png"))),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["id"], "WEB-1");
    assert_eq!(answer["duplicate_of"], Value::Null);
    let status_url = answer["status_url"].as_str().unwrap();
    assert!(status_url.starts_with(&format!("{}/status/status_", app.base)));

    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(
        (issue["type"].as_str(), issue["severity"].as_str()),
        (Some("bug"), Some("major"))
    );
    assert_eq!(
        issue["reporter"],
        json!({"kind": "guest", "name": "Ana", "email": "ana@example.com"})
    );
    assert_eq!(issue["affects_version"], "2.3.0");
    assert!(
        issue["steps_to_reproduce"]
            .as_str()
            .unwrap()
            .contains("2. Click button#pay \"Pay now\"")
    );
    assert!(
        issue["environment"]
            .as_str()
            .unwrap()
            .starts_with("Chrome 131.0 on Windows 11")
    );
    let context = &issue["context"];
    assert_eq!(context["console"][1]["stack"], "at pay (app.js:10:4)");
    assert_eq!(
        context["console"][2]["message"], "nul \u{0} byte and <script>alert(1)</script>",
        "stored as typed"
    );
    assert_eq!(context["network"][0]["status"], 500);
    assert_eq!(context["environment"]["build"], "2.3.0+481");
    let stored = issue.to_string();
    assert!(
        !stored.contains("SECRET-URL") && !stored.contains("4111 1111"),
        "secrets redacted on the server: {stored}"
    );
    let shot = &issue["attachments"][0];
    assert_eq!(
        (shot["filename"].as_str(), shot["content_type"].as_str()),
        (Some("screenshot.png"), Some("image/png"))
    );
    let bytes = app
        .client
        .get(shot["url"].as_str().unwrap())
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.as_ref(), png(1440, 900).as_slice());

    let (status, minimal, _) = send(
        &app,
        &key,
        form(&json!({"title": "Only a title"}), None),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{minimal}");
}

async fn the_status_page_tells_the_reporter_what_happened_in_plain_words(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = intake_key(&app, &admin).await;
    let mut report = full_report();
    report["title"] = json!("<b>Pay</b> button broken");
    let (_, answer, _) = send(
        &app,
        &key,
        form(&report, Some((png(800, 600), "image/png"))),
        None,
    )
    .await;
    let status_url = answer["status_url"].as_str().unwrap().to_string();
    let page = |url: String| {
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let html = page(status_url.clone()).await;
    assert!(html.contains("We received your report"), "{html}");
    assert!(
        !html.contains("<b>Pay</b>") && html.contains("Pay"),
        "the title is escaped: {html}"
    );
    for internal in ["TypeError", "app.js", "api/pay", "Ana", "u-1934"] {
        assert!(
            !html.contains(internal),
            "the status page shows nothing internal ({internal})"
        );
    }
    let thumb = app
        .client
        .get(format!("{status_url}/screenshot"))
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.headers()["content-type"], "image/png");

    app.patch(
        "/api/v1/issues/WEB-1",
        &admin,
        json!({"status": "in_progress"}),
    )
    .await;
    assert!(
        page(status_url.clone())
            .await
            .contains("We're working on it")
            || page(status_url.clone())
                .await
                .contains("We&#39;re working on it")
    );
    app.patch(
        "/api/v1/issues/WEB-1",
        &admin,
        json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": "2.3.1"}),
    )
    .await;
    assert!(
        page(status_url.clone())
            .await
            .contains("fixed in version 2.3.1")
    );

    let (_, second, _) = send(
        &app,
        &key,
        form(&json!({"title": "Pay still broken"}), None),
        None,
    )
    .await;
    app.patch(
        "/api/v1/issues/WEB-2",
        &admin,
        json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-1"}),
    )
    .await;
    let html = page(second["status_url"].as_str().unwrap().to_string()).await;
    assert!(
        html.contains("duplicate of a problem we already fixed") && html.contains("2.3.1"),
        "{html}"
    );

    let missing = app
        .client
        .get(format!("{}/status/status_nope", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn origins_are_checked_and_answered_with_cors(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    app.patch(
        "/api/v1/projects/WEB",
        &admin,
        json!({"allowed_origins": ["https://shop.example.com"]}),
    )
    .await;
    let key = intake_key(&app, &admin).await;
    let preflight = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/intake/{key}", app.base),
        )
        .header("origin", "https://shop.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );
    assert!(
        preflight.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    let (status, _, headers) = send(
        &app,
        &key,
        form(&json!({"title": "From the shop"}), None),
        Some("https://shop.example.com"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://shop.example.com"
    );
    let (status, body, _) = send(
        &app,
        &key,
        form(&json!({"title": "From elsewhere"}), None),
        Some("https://evil.example"),
    )
    .await;
    assert!(
        error_of(status, &body, StatusCode::FORBIDDEN)["message"]
            .as_str()
            .unwrap()
            .contains("allowed_origins")
    );
    let refused = app
        .client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/v1/intake/{key}", app.base),
        )
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    // The browser extension's pages are no web site: their origin is never refused.
    for extension in [
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
        "moz-extension://0b6c4b33-0b6a-4f3e-9d1e-6a5a0f7c2b11",
    ] {
        let (status, body, _) = send(
            &app,
            &key,
            form(&json!({"title": "From the extension"}), None),
            Some(extension),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{extension}: {body}");
    }
    assert_eq!(app.issue_count("WEB").await, 3);
}

async fn bad_reports_are_refused_and_nothing_is_stored(store: Store) {
    let app = TestApp::start_with(store, |config| {
        config.intake.body_bytes = 4 * 1024 * 1024;
    })
    .await;
    let admin = app.with_project().await;
    let key = intake_key(&app, &admin).await;
    let (status, first, _) = send(
        &app,
        &key,
        form(&full_report(), Some((png(1440, 900), "image/png"))),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let jpeg = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xFF,
        0xD9,
    ];
    let whole = png(1440, 900);
    let cases: Vec<(&str, Form, StatusCode, &str)> = vec![
        (
            "not an image",
            form(
                &full_report(),
                Some((b"<html>hello</html>".to_vec(), "image/png")),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "screenshot",
        ),
        (
            "claims PNG, is JPEG",
            form(&full_report(), Some((jpeg, "image/png"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "screenshot",
        ),
        (
            "truncated",
            form(
                &full_report(),
                Some((whole[..whole.len() - 20].to_vec(), "image/png")),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "screenshot",
        ),
        (
            "50,000 x 50,000",
            form(&full_report(), Some((png(50_000, 50_000), "image/png"))),
            StatusCode::UNPROCESSABLE_ENTITY,
            "screenshot",
        ),
        (
            "100,000 console entries",
            form(
                &json!({"title": "x", "console": vec![json!({"level": "log", "message": "x"}); 100_000]}),
                None,
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "console",
        ),
        (
            "no title",
            form(&json!({"description": "x"}), None),
            StatusCode::UNPROCESSABLE_ENTITY,
            "title",
        ),
        (
            "no report part",
            Form::new().part(
                "screenshot",
                Part::bytes(png(10, 10)).mime_str("image/png").unwrap(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "report",
        ),
        (
            "an unknown part",
            form(&full_report(), None).text("extra", "x"),
            StatusCode::UNPROCESSABLE_ENTITY,
            "extra",
        ),
        (
            "over the body limit",
            form(&full_report(), None).part(
                "attachment",
                Part::bytes(vec![1u8; 5 * 1024 * 1024]).file_name("big.bin"),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "",
        ),
    ];
    for (what, body, expected, field) in cases {
        let (status, answer, _) = send(&app, &key, body, None).await;
        let error = error_of(status, &answer, expected);
        if !field.is_empty() {
            assert_eq!(error["field"], field, "{what}: {answer}");
        }
    }
    // A report part as the bytes sent, JSON or not.
    let raw = |bytes: Vec<u8>| {
        Form::new().part(
            "report",
            Part::bytes(bytes).mime_str("application/json").unwrap(),
        )
    };
    let deep = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested = format!("{{\"title\": \"x\", \"context\": {{\"deep\": {deep}}}}}");
    let (status, answer, _) = send(&app, &key, raw(nested.into_bytes()), None).await;
    error_of(status, &answer, StatusCode::BAD_REQUEST);
    // The same inside a captured list: skimmed without recursion while the body is parsed,
    // then refused by name where its entry is read, four levels down.
    let nested = format!("{{\"title\": \"x\", \"console\": [{{\"message\": {deep}}}]}}");
    let (status, answer, _) = send(&app, &key, raw(nested.into_bytes()), None).await;
    let error = error_of(status, &answer, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "console", "{answer}");
    assert_eq!(error["message"], "console is nested too deeply", "{answer}");
    // An escape that is no character (a lone surrogate) names the entry it is in.
    let lone_surrogate =
        r#"{"title": "x", "console": [{"message": "ok"}, {"message": "a\ud800b"}]}"#;
    let (status, answer, _) = send(&app, &key, raw(lone_surrogate.into()), None).await;
    let error = error_of(status, &answer, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error["field"], "console", "{answer}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("entry 2 of console cannot be read"),
        "{answer}"
    );
    let invalid_utf8 = vec![b'{', 0xC3, 0x28, b'}'];
    let (status, answer, _) = send(&app, &key, raw(invalid_utf8), None).await;
    error_of(status, &answer, StatusCode::BAD_REQUEST);
    let as_json = app
        .client
        .post(format!("{}/api/v1/intake/{key}", app.base))
        .json(&full_report())
        .send()
        .await
        .unwrap();
    assert_eq!(as_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (status, answer, _) = send(&app, "intake_unknown", form(&full_report(), None), None).await;
    error_of(status, &answer, StatusCode::NOT_FOUND);
    app.post("/api/v1/projects/WEB/intake-key", &admin, json!({}))
        .await;
    let (status, answer, _) = send(&app, &key, form(&full_report(), None), None).await;
    assert!(
        error_of(status, &answer, StatusCode::NOT_FOUND)["message"]
            .as_str()
            .unwrap()
            .contains("rotated")
    );

    assert_eq!(
        app.issue_count("WEB").await,
        1,
        "no refused report was filed"
    );
    let (_, list) = app.get("/api/v1/issues/WEB-1/attachments", &admin).await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "the earlier report is intact"
    );
    let page = app
        .client
        .get(first["status_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

async fn a_flood_on_one_key_is_limited_while_another_key_is_served(store: Store) {
    let app = TestApp::start_with(store, |config| {
        config.intake.rates = IntakeRates {
            per_key: Rate {
                per_second: 5,
                burst: 10,
            },
            per_address: Rate {
                per_second: 10_000,
                burst: 10_000,
            },
        };
    })
    .await;
    let admin = app.with_project().await;
    app.post(
        "/api/v1/projects",
        &admin,
        json!({"key": "API", "name": "API"}),
    )
    .await;
    let flooded = intake_key(&app, &admin).await;
    let other = app.get("/api/v1/projects/API", &admin).await.1["intake_key"]
        .as_str()
        .unwrap()
        .to_string();
    let mut limited = 0;
    let mut retry_after = None;
    for n in 0..60 {
        let (status, _, headers) = send(
            &app,
            &flooded,
            form(&json!({"title": format!("Flood {n}")}), None),
            None,
        )
        .await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
            retry_after = headers
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
        }
    }
    assert!(limited >= 40, "most of the flood was limited ({limited})");
    assert!(retry_after.is_some_and(|v| v.parse::<u64>().unwrap() >= 1));
    let (status, _, _) = send(
        &app,
        &other,
        form(&json!({"title": "Meanwhile elsewhere"}), None),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "another key is still served");
    assert!(app.issue_count("WEB").await <= 20);
}

/// Files under the attachments dir, wherever they are nested.
fn stored_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| {
                    let path = entry.path();
                    if path.is_dir() {
                        stored_files(&path)
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn send_keyed(
    app: &TestApp,
    key: &str,
    report: &Value,
    header: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = app
        .client
        .post(format!("{}/api/v1/intake/{key}", app.base))
        .multipart(form(report, Some((png(1440, 900), "image/png"))));
    if let Some(header) = header {
        request = request.header("idempotency-key", header);
    }
    let response = request.send().await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn a_report_resent_with_its_idempotency_key_is_answered_as_before_and_stored_once(
    store: Store,
) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = intake_key(&app, &admin).await;
    let first_key = "0193a5f2-7c1e-7d3a-9b1f-2c4e5a6b7c8d";
    let (status, first) = send_keyed(&app, &key, &full_report(), Some(first_key)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        (first["id"].as_str(), first["outcome"].as_str()),
        (Some("WEB-1"), Some("filed"))
    );
    let events = app.store.last_event_id().await.unwrap();
    let files = stored_files(app.files_dir());
    assert_eq!(files, 1);

    // The answer was lost: the outbox sends the same report again, by header or in the JSON.
    let (status, again) = send_keyed(&app, &key, &full_report(), Some(first_key)).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again, first, "the first answer, status link included");
    let mut keyed = full_report();
    keyed["idempotency_key"] = json!(first_key);
    let (status, again) = send_keyed(&app, &key, &keyed, None).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    let (status, again) = send_keyed(&app, &key, &keyed, Some(first_key)).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));
    assert_eq!(
        app.store.last_event_id().await.unwrap(),
        events,
        "nothing was written"
    );
    assert_eq!(
        stored_files(app.files_dir()),
        files,
        "the resent screenshot was not kept"
    );
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["duplicate_count"], 0);
    assert_eq!(issue["attachments"].as_array().unwrap().len(), 1);
    let page = app
        .client
        .get(first["status_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);

    // Another report of the same problem has its own key: stored, as a duplicate.
    let second_key = "0193a5f2-7c1e-7d3a-9b1f-000000000002";
    let (status, second) = send_keyed(&app, &key, &full_report(), Some(second_key)).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(
        (second["id"].as_str(), second["outcome"].as_str()),
        (Some("WEB-1"), Some("duplicate"))
    );
    assert_ne!(second["status_url"], first["status_url"]);
    let (status, again) = send_keyed(&app, &key, &full_report(), Some(second_key)).await;
    assert_eq!((status, &again), (StatusCode::OK, &second));
    assert_eq!(again["duplicate_of"], "WEB-1");
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["duplicate_count"], 1);
    assert_eq!(app.issue_count("WEB").await, 1);
    assert_eq!(stored_files(app.files_dir()), 2);

    // Without a key every send is a report of its own, as before.
    let plain = json!({"title": "No key"});
    for number in ["WEB-2", "WEB-3"] {
        let (status, answer, _) = send(&app, &key, form(&plain, None), None).await;
        assert_eq!(
            (status, answer["id"].as_str()),
            (StatusCode::CREATED, Some(number))
        );
    }
}

async fn idempotency_keys_are_checked_and_kept_per_project(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = intake_key(&app, &admin).await;
    let (status, other) = app
        .post(
            "/api/v1/projects",
            &admin,
            json!({"key": "OPS", "name": "Operations"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    let other_key = other["intake_key"].as_str().unwrap().to_string();
    let shared = "5b1c9e2a-33f0-4d7e-8a61-90c2f4e7d1ab";
    let report = json!({"title": "Search is slow"});
    let (status, web) = send_keyed(&app, &key, &report, Some(shared)).await;
    assert_eq!(status, StatusCode::CREATED, "{web}");
    let (status, ops) = send_keyed(&app, &other_key, &report, Some(shared)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another project's key space: {ops}"
    );
    assert_eq!(ops["id"], "OPS-1");
    assert_ne!(ops["status_url"], web["status_url"]);

    for (header, field) in [
        (Some("too-short"), None),
        (Some("a key with spaces in it, far too"), None),
        (None, Some(json!("short"))),
        (
            Some(shared),
            Some(json!("5b1c9e2a-33f0-4d7e-8a61-000000000000")),
        ),
    ] {
        let mut report = report.clone();
        if let Some(field) = field {
            report["idempotency_key"] = field;
        }
        let (status, body) = send_keyed(&app, &key, &report, header).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{header:?}: {body}"
        );
        assert_eq!(body["error"]["field"], "idempotency_key", "{body}");
    }
    assert_eq!(
        app.issue_count("WEB").await,
        1,
        "refused reports store nothing"
    );
}

/// Reports arriving together share one transaction (group commit), their attachments and keys
/// written at its end: the same report sent many times at once is stored once, and each of the
/// others keeps its own screenshot.
async fn reports_sent_at_the_same_moment_are_each_stored_once_with_their_screenshots(store: Store) {
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = intake_key(&app, &admin).await;
    let same_key = "0193a5f2-7c1e-7d3a-9b1f-5a5a5a5a5a5a";
    let mut sends = Vec::new();
    for i in 0..12 {
        let (app, key) = (&app, &key);
        sends.push(async move {
            if i % 2 == 0 {
                send_keyed(app, key, &full_report(), Some(same_key)).await
            } else {
                let mut report = full_report();
                report["title"] = json!(format!("Report {i}"));
                let part = ["cart", "basket", "wallet", "coupon", "invoice", "receipt"][i / 2];
                report["errors"] = json!([{"message": format!("TypeError: the {part} broke")}]);
                send_keyed(
                    app,
                    key,
                    &report,
                    Some(&format!("0193a5f2-7c1e-7d3a-9b1f-00000000000{i:x}")),
                )
                .await
            }
        });
    }
    let answers = futures::future::join_all(sends).await;
    let same: Vec<&(StatusCode, Value)> = answers.iter().step_by(2).collect();
    let created = same
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{same:?}");
    for (status, answer) in &same {
        assert!(status.is_success(), "{answer}");
        assert_eq!(
            answer["id"], same[0].1["id"],
            "one issue for one report: {answer}"
        );
        assert_eq!(answer["status_url"], same[0].1["status_url"]);
    }
    for (status, answer) in answers.iter().skip(1).step_by(2) {
        assert_eq!(*status, StatusCode::CREATED, "{answer}");
    }
    assert_eq!(
        app.issue_count("WEB").await,
        7,
        "one for the resent report, six others"
    );
    assert_eq!(
        stored_files(app.files_dir()),
        7,
        "the resent screenshots were not kept"
    );
    for number in 1..=7 {
        let (_, issue) = app
            .get(&format!("/api/v1/issues/WEB-{number}"), &admin)
            .await;
        let attachments = issue["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 1, "{issue}");
        assert_eq!(attachments[0]["content_type"], "image/png");
        assert_eq!(issue["duplicate_count"], 0, "{issue}");
    }
}
