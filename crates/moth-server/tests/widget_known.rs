//! In Chromium: before sending, the widget says a report looks like a known issue, and the
//! reporter adds to it with one click.

#[path = "common/browser.rs"]
#[allow(dead_code)]
mod browser;
mod common;

use common::TestApp;

const SHADOW: &str = "document.querySelector('[data-moth-widget]')?.shadowRoot";

/// A customer's page (another origin) that fails the same way on every visit, with another
/// order number each time.
async fn failing_shop(moth: &str, key: &str) -> String {
    let html = format!(
        "<!doctype html><html><head><title>Shop</title>\
         <script src=\"{moth}/widget.js\" data-moth-key=\"{key}\"></script></head><body><h1>Shop</h1>\
         <script>setTimeout(function pay() {{ throw new TypeError('cannot read total of order ' + Math.floor(Math.random() * 1e6)); }}, 10);</script>\
         </body></html>"
    );
    common::one_page_site("/checkout", html).await
}

async fn open_form(page: &chromiumoxide::Page) {
    browser::wait_for(
        page,
        "the error",
        "window.Moth && Moth._i.buf.errors.length > 0",
    )
    .await;
    browser::eval(page, "Moth.open(); true").await;
    browser::wait_for(
        page,
        "the form",
        &format!("{SHADOW}.querySelector('form')?.getAttribute('data-shot')"),
    )
    .await;
}

#[tokio::test]
async fn the_widget_says_a_report_looks_like_a_known_one() {
    if browser::chromium_missing() {
        return;
    }
    let (store, _db) = moth_store::testing::sqlite().await;
    let app = TestApp::start(store).await;
    let admin = app.with_project().await;
    let key = app.intake_key(&admin).await;
    let site = failing_shop(&app.base, &key).await;
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = browser::launch(profile.path()).await;

    // The first report is new: nothing is suggested, and it is filed.
    let page = chromium.new_page(format!("{site}/checkout")).await.unwrap();
    open_form(&page).await;
    browser::eval(
        &page,
        &format!(
            "const f = {SHADOW}.querySelector('form'); f.elements.title.value = 'Pay crashes'; \
             f.querySelector('button.send').click(); true"
        ),
    )
    .await;
    let said = browser::wait_for(
        &page,
        "the answer",
        &format!("{SHADOW}.querySelector('.done')?.textContent"),
    )
    .await;
    assert!(
        said.as_str().unwrap().starts_with("Thanks! Track it here:"),
        "{said}"
    );
    assert_eq!(app.issue_count("WEB").await, 1);

    // The next visit fails the same way: the form says so before anything is sent.
    let page = chromium.new_page(format!("{site}/checkout")).await.unwrap();
    open_form(&page).await;
    let known = browser::wait_for(
        &page,
        "the known issue",
        &format!("{SHADOW}.querySelector('.known:not([hidden]) p')?.textContent"),
    )
    .await;
    assert_eq!(
        known.as_str().unwrap(),
        "This looks like WEB-1 (1 other reported it): Pay crashes"
    );
    browser::eval(
        &page,
        &format!("{SHADOW}.querySelector('.known button.add').click(); true"),
    )
    .await;
    let said = browser::wait_for(
        &page,
        "the answer",
        &format!("{SHADOW}.querySelector('.done')?.textContent"),
    )
    .await;
    assert!(
        said.as_str()
            .unwrap()
            .starts_with("Thanks! Your report was added to WEB-1."),
        "{said}"
    );
    chromium.close().await.unwrap();
    let _ = chromium.wait().await;
    assert_eq!(app.issue_count("WEB").await, 1, "no second issue");
    let (_, issue) = app.get("/api/v1/issues/WEB-1", &admin).await;
    assert_eq!(issue["duplicate_count"], 1);
}
