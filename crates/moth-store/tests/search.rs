//! Full-text search and the query language, the same cases on SQLite and PostgreSQL: which
//! issues are found, never the exact rank.

use moth_core::{
    IssueChange, IssueChangeInput, IssueDraftInput, IssueFilterInput, IssueRef, IssueSort,
    LongText, Name, NewIssue, ProjectKey, ProjectRules, Query, Role,
};
use moth_store::{
    Actor, IssueListing, NewProject, NewReport, NewUser, ProjectScope, SearchRequest, Store,
};
use std::collections::BTreeSet;

moth_store::conformance!(
    words_stems_phrases_exclusions_and_prefixes_are_found,
    comments_and_console_messages_are_found,
    a_changed_title_is_found_by_its_new_words_only,
    field_terms_filter_with_and_without_text,
    versions_compare_in_the_domain_order,
    results_are_highlighted_as_safe_html,
    pages_of_results_cover_every_match_once,
    hostile_text_never_fails,
    project_lists_accept_the_query_language,
    search_looks_only_into_the_projects_in_scope,
    big_and_odd_texts_are_indexed_without_failing,
    every_report_of_an_issue_is_found_up_to_the_indexed_length,
);

async fn project(store: &Store, key: &str) {
    store
        .create_project(
            NewProject {
                key: ProjectKey::parse(key).unwrap(),
                name: Name::parse("name", &format!("Project {key}")).unwrap(),
                intake_key: format!("intake-{key}"),
            },
            Actor::SYSTEM,
        )
        .await
        .unwrap();
}

async fn file(store: &Store, key: &str, input: serde_json::Value) -> String {
    let input: IssueDraftInput = serde_json::from_value(input).unwrap();
    let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
    store.create_issue(key, new, None).await.unwrap().id
}

fn change(json: serde_json::Value) -> IssueChange {
    let input: IssueChangeInput = serde_json::from_value(json).unwrap();
    IssueChange::parse(&input).unwrap()
}

/// A small tracker: two projects, a comment and a captured report.
async fn corpus(store: &Store) {
    project(store, "WEB").await;
    project(store, "API").await;
    file(
        store,
        "WEB",
        serde_json::json!({"type": "bug", "title": "Payment crashes on checkout",
        "description": "The pay button throws", "severity": "critical", "labels": ["checkout"]}),
    )
    .await; // WEB-1
    file(
        store,
        "WEB",
        serde_json::json!({"type": "performance", "title": "Login page slow",
        "description": "It takes ten seconds after a crash of the auth service"}),
    )
    .await; // WEB-2
    file(store, "WEB", serde_json::json!({"type": "bug", "title": "Cart empties",
        "steps_to_reproduce": "Add an item, reload: the payment failed message shows", "labels": ["cart", "flaky"]}))
    .await; // WEB-3
    file(
        store,
        "WEB",
        serde_json::json!({"type": "docs", "title": "Settings wording",
        "description": "The failed payment banner is misspelled"}),
    )
    .await; // WEB-4
    file(
        store,
        "API",
        serde_json::json!({"type": "bug", "title": "Timeout in payments gateway",
        "environment": "staging cluster", "affects_version": "2.3.0"}),
    )
    .await; // API-1
    let author = store
        .create_user(NewUser {
            email: "dev@example.com".into(),
            name: "Dev".into(),
            role: Role::Member,
            password_hash: None,
        })
        .await
        .unwrap();
    store
        .add_comment(
            &IssueRef::parse("API-1").unwrap(),
            author.id,
            &LongText::parse_optional("body", "Seen again: a quirky network partition in CI")
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap();
    let draft: IssueDraftInput =
        serde_json::from_value(serde_json::json!({"type": "bug", "title": "Checkout fails"}))
            .unwrap();
    store
        .create_report(
            "WEB",
            NewReport {
                issue: NewIssue::parse(&draft, &ProjectRules::default()).unwrap(),
                reporter_name: None,
                reporter_email: None,
                page_url: None,
                app_version: Some("2.3.0".into()),
                build: None,
                context: serde_json::json!({"console": [
                    {"level": "error", "message": "TypeError: gizmoFactory is undefined"},
                    "not an object"
                ]})
                .into(),
                status_token_hash: "s1".into(),
                match_key: None,
                idempotency_key_hash: None,
            },
            vec![],
        )
        .await
        .unwrap(); // WEB-5
}

fn request(q: &str, limit: i64, cursor: Option<String>) -> SearchRequest {
    SearchRequest {
        query: Query::parse(q).unwrap(),
        scope: ProjectScope::All,
        limit,
        cursor,
    }
}

async fn found(store: &Store, q: &str) -> BTreeSet<String> {
    let page = store
        .search(&request(q, 50, None))
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    page.items.into_iter().map(|hit| hit.issue.id).collect()
}

fn ids(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

async fn words_stems_phrases_exclusions_and_prefixes_are_found(store: Store) {
    corpus(&store).await;
    assert_eq!(found(&store, "checkout").await, ids(&["WEB-1", "WEB-5"]));
    assert_eq!(found(&store, "CHECKOUT crashes").await, ids(&["WEB-1"]));
    // Stems: crash finds crashes, and the other way round.
    assert_eq!(found(&store, "crash").await, ids(&["WEB-1", "WEB-2"]));
    assert_eq!(found(&store, "crashing").await, ids(&["WEB-1", "WEB-2"]));
    assert_eq!(found(&store, "\"payment failed\"").await, ids(&["WEB-3"]));
    assert_eq!(
        found(&store, "payment failed").await,
        ids(&["WEB-3", "WEB-4"])
    );
    assert_eq!(found(&store, "crash -slow").await, ids(&["WEB-1"]));
    assert_eq!(
        found(&store, "payment -\"payment failed\"").await,
        ids(&["WEB-1", "WEB-4", "API-1"])
    );
    assert_eq!(
        found(&store, "pay*").await,
        ids(&["WEB-1", "WEB-3", "WEB-4", "API-1"])
    );
    assert_eq!(found(&store, "gatew*").await, ids(&["API-1"]));
    assert_eq!(
        found(&store, "pay* -gatew*").await,
        ids(&["WEB-1", "WEB-3", "WEB-4"])
    );
    // Bug-report fields are searched too.
    assert_eq!(found(&store, "staging").await, ids(&["API-1"]));
    assert!(found(&store, "zebra").await.is_empty());
    // Only exclusions: everything else.
    assert_eq!(found(&store, "-payment").await, ids(&["WEB-2", "WEB-5"]));
}

async fn comments_and_console_messages_are_found(store: Store) {
    corpus(&store).await;
    assert_eq!(found(&store, "quirky partition").await, ids(&["API-1"]));
    assert_eq!(found(&store, "gizmofactory").await, ids(&["WEB-5"]));
    assert_eq!(
        found(&store, "\"gizmoFactory is undefined\"").await,
        ids(&["WEB-5"])
    );
}

async fn a_changed_title_is_found_by_its_new_words_only(store: Store) {
    corpus(&store).await;
    store
        .update_issue(
            &IssueRef::parse("WEB-2").unwrap(),
            change(
                serde_json::json!({"title": "Login page sluggish", "description": "Nothing else"}),
            ),
            Actor::SYSTEM,
        )
        .await
        .unwrap();
    assert_eq!(found(&store, "sluggish").await, ids(&["WEB-2"]));
    assert!(found(&store, "slow").await.is_empty());
    assert_eq!(found(&store, "crash").await, ids(&["WEB-1"]));
}

async fn field_terms_filter_with_and_without_text(store: Store) {
    corpus(&store).await;
    assert_eq!(found(&store, "type:performance").await, ids(&["WEB-2"]));
    assert_eq!(
        found(&store, "type:bug severity:critical,major crash").await,
        ids(&["WEB-1"])
    );
    assert_eq!(found(&store, "label:checkout").await, ids(&["WEB-1"]));
    assert_eq!(
        found(&store, "label:Flaky,checkout").await,
        ids(&["WEB-1", "WEB-3"])
    );
    assert_eq!(
        found(&store, "-label:flaky pay*").await,
        ids(&["WEB-1", "WEB-4", "API-1"])
    );
    assert_eq!(found(&store, "project:api").await, ids(&["API-1"]));
    assert_eq!(found(&store, "-project:WEB").await, ids(&["API-1"]));
    assert_eq!(
        found(&store, "status:open type:docs").await,
        ids(&["WEB-4"])
    );
    assert!(found(&store, "status:resolved").await.is_empty());
    assert!(found(&store, "reopened:>0").await.is_empty());
    assert_eq!(found(&store, "reopened:0 type:docs").await, ids(&["WEB-4"]));
    assert_eq!(found(&store, "created:<1d").await.len(), 6);
    assert!(found(&store, "created:>1d").await.is_empty());
    assert!(found(&store, "updated:<2020-01-01").await.is_empty());
    assert_eq!(
        found(&store, "created:>2020-01-01 type:docs").await,
        ids(&["WEB-4"])
    );
    assert_eq!(found(&store, "assignee:none").await.len(), 6);
    assert!(
        found(&store, "assignee:nobody@example.com")
            .await
            .is_empty()
    );
    assert!(found(&store, "is:regression").await.is_empty());
    assert_eq!(
        found(&store, "-is:regression type:docs").await,
        ids(&["WEB-4"])
    );
    assert!(found(&store, "is:duplicate").await.is_empty());
}

async fn versions_compare_in_the_domain_order(store: Store) {
    corpus(&store).await;
    for (id, version) in [
        ("WEB-1", "2.10.0"),
        ("WEB-3", "2.3.0-beta.1"),
        ("WEB-4", "2.3"),
    ] {
        store
            .update_issue(
                &IssueRef::parse(id).unwrap(),
                change(serde_json::json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": version})),
                Actor::SYSTEM,
            )
            .await
            .unwrap();
    }
    assert_eq!(found(&store, "fixed:>=2.3").await, ids(&["WEB-1", "WEB-4"]));
    assert_eq!(found(&store, "fixed:<2.3").await, ids(&["WEB-3"]));
    assert_eq!(found(&store, "fixed:2.3.0").await, ids(&["WEB-4"]));
    assert_eq!(found(&store, "fixed:>2.9").await, ids(&["WEB-1"]));
    assert!(found(&store, "fixed:>3").await.is_empty());
    assert_eq!(found(&store, "affects:2.3").await, ids(&["API-1"]));
    assert_eq!(
        found(&store, "status:resolved payment").await,
        ids(&["WEB-1", "WEB-3", "WEB-4"])
    );
}

async fn results_are_highlighted_as_safe_html(store: Store) {
    project(&store, "WEB").await;
    file(&store, "WEB", serde_json::json!({"type": "bug", "title": "<script>alert(1)</script> crash & burn",
        "description": "Before the words. The crash happened <img src=x onerror=alert(1)> after lunch"}))
    .await;
    let page = store.search(&request("crash", 10, None)).await.unwrap();
    let highlight = &page.items[0].highlight;
    assert!(
        highlight.title.contains("<mark>crash</mark>"),
        "{highlight:?}"
    );
    assert!(
        highlight.title.starts_with("&lt;script&gt;"),
        "{highlight:?}"
    );
    assert!(
        highlight.snippet.contains("<mark>crash</mark>"),
        "{highlight:?}"
    );
    assert!(highlight.snippet.contains("&lt;img"), "{highlight:?}");
    for html in [&highlight.title, &highlight.snippet] {
        let without_marks = html.replace("<mark>", "").replace("</mark>", "");
        assert!(
            !without_marks.contains('<') && !without_marks.contains('>'),
            "{html}"
        );
    }
    // Found by a filter alone: the title escaped, nothing marked.
    let page = store.search(&request("type:bug", 10, None)).await.unwrap();
    assert!(!page.items[0].highlight.title.contains("<mark>"));
    assert!(page.items[0].highlight.title.contains("&lt;script&gt;"));
}

async fn pages_of_results_cover_every_match_once(store: Store) {
    project(&store, "WEB").await;
    for i in 0..7 {
        let title = if i % 2 == 0 {
            format!("Crash number {i}")
        } else {
            format!("Number {i}")
        };
        file(
            &store,
            "WEB",
            serde_json::json!({"type": "bug", "title": title, "description": "a crash"}),
        )
        .await;
    }
    for q in ["crash", "type:bug"] {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = store.search(&request(q, 3, cursor)).await.unwrap();
            assert!(page.items.len() <= 3);
            seen.extend(page.items.iter().map(|h| h.issue.id.clone()));
            cursor = page.next_cursor;
            if cursor.is_none() {
                break;
            }
        }
        let unique: BTreeSet<_> = seen.iter().cloned().collect();
        assert_eq!((seen.len(), unique.len()), (7, 7), "{q}: {seen:?}");
        if q == "crash" {
            // Title matches rank first.
            let titled: BTreeSet<_> = seen[..4].iter().cloned().collect();
            assert_eq!(titled, ids(&["WEB-1", "WEB-3", "WEB-5", "WEB-7"]));
        }
    }
    let bad = SearchRequest {
        cursor: Some("garbage".into()),
        ..request("crash", 3, None)
    };
    assert!(matches!(
        store.search(&bad).await,
        Err(moth_store::StoreError::Invalid(_))
    ));
}

async fn hostile_text_never_fails(store: Store) {
    corpus(&store).await;
    for q in [
        "\"",
        "\"\"",
        "*",
        "pay**",
        "NEAR(payment crash",
        "NEAR(\"a\" \"b\", 2)",
        "payment AND OR NOT",
        "((( unbalanced",
        ")",
        "'; drop table issues; --",
        "\" or 1=1 --",
        "{title}: crash",
        "title:crash",
        "crash^2 ~3 :*",
        "-",
        "--crash",
        "- -- ---",
        "%_\\",
        "\u{0}\u{2}\u{3}",
        "日本語 のテスト",
        "a",
        "the",
        "x*",
        "-*",
        "ab*",
    ] {
        match Query::parse(q) {
            Ok(query) => {
                let request = SearchRequest {
                    query: query.clone(),
                    scope: ProjectScope::All,
                    limit: 10,
                    cursor: None,
                };
                store
                    .search(&request)
                    .await
                    .unwrap_or_else(|e| panic!("{q:?}: {e}"));
                let listing = IssueListing {
                    filter: moth_core::IssueFilter::parse(&IssueFilterInput {
                        text: Some(q),
                        ..Default::default()
                    })
                    .unwrap(),
                    sort: IssueSort::default(),
                    limit: 10,
                    cursor: None,
                };
                store
                    .list_issues("WEB", &listing)
                    .await
                    .unwrap_or_else(|e| panic!("list {q:?}: {e}"));
            }
            Err(error) => assert!(error.position >= 1, "{q:?}"),
        }
    }
    assert_eq!(found(&store, "'; drop table issues; --").await.len(), 0);
    assert_eq!(found(&store, "checkout").await.len(), 2);
}

async fn project_lists_accept_the_query_language(store: Store) {
    corpus(&store).await;
    let list = |q: &'static str, types: Option<&'static str>| IssueListing {
        filter: moth_core::IssueFilter::parse(&IssueFilterInput {
            text: Some(q),
            types,
            ..Default::default()
        })
        .unwrap(),
        sort: IssueSort::default(),
        limit: 50,
        cursor: None,
    };
    let titles = |page: moth_store::IssuePage| -> BTreeSet<String> {
        page.items.into_iter().map(|i| i.id).collect()
    };
    assert_eq!(
        titles(
            store
                .list_issues("WEB", &list("crash", None))
                .await
                .unwrap()
        ),
        ids(&["WEB-1", "WEB-2"])
    );
    assert_eq!(
        titles(
            store
                .list_issues("WEB", &list("crash", Some("bug")))
                .await
                .unwrap()
        ),
        ids(&["WEB-1"])
    );
    assert_eq!(
        titles(
            store
                .list_issues("WEB", &list("pay* -label:flaky", None))
                .await
                .unwrap()
        ),
        ids(&["WEB-1", "WEB-4"])
    );
    assert_eq!(
        titles(store.list_issues("API", &list("pay*", None)).await.unwrap()),
        ids(&["API-1"])
    );
}

async fn search_looks_only_into_the_projects_in_scope(store: Store) {
    corpus(&store).await;
    for (scope, expected) in [
        (ProjectScope::Only(vec!["API".into()]), ids(&["API-1"])),
        (ProjectScope::Only(vec![]), ids(&[])),
        (
            ProjectScope::All,
            ids(&["WEB-1", "WEB-3", "WEB-4", "API-1"]),
        ),
    ] {
        for q in ["pay*", "pay* type:bug,docs"] {
            let page = store
                .search(&SearchRequest {
                    scope: scope.clone(),
                    ..request(q, 50, None)
                })
                .await
                .unwrap();
            let got: BTreeSet<String> = page.items.into_iter().map(|h| h.issue.id).collect();
            assert_eq!(got, expected, "{scope:?} {q}");
        }
    }
}

async fn big_and_odd_texts_are_indexed_without_failing(store: Store) {
    project(&store, "WEB").await;
    // Nearly the largest description allowed, of distinct words: the index never fails a write.
    let mut description = String::from("zanzibar ");
    let mut i = 0u32;
    while description.len() < 250 * 1024 {
        description.push_str(&format!("w{i:x}q "));
        i += 1;
    }
    let big = serde_json::json!({"type": "bug", "title": "Big", "description": description,
        "steps_to_reproduce": description, "expected": description});
    file(&store, "WEB", big).await;
    assert_eq!(found(&store, "zanzibar").await, ids(&["WEB-1"]));
    let draft: IssueDraftInput =
        serde_json::from_value(serde_json::json!({"type": "bug", "title": "Odd report"})).unwrap();
    store
        .create_report(
            "WEB",
            NewReport {
                issue: NewIssue::parse(&draft, &ProjectRules::default()).unwrap(),
                reporter_name: None,
                reporter_email: None,
                page_url: None,
                app_version: None,
                build: None,
                context: serde_json::json!({"console": [
                    {"level": "warn", "message": "nul \u{0} byte"},
                    {"level": "error", "message": "wibble overflow"},
                    {"level": "error", "message": 42}
                ], "errors": [{"message": "kaboom in renderer"}]})
                .into(),
                status_token_hash: "s2".into(),
                match_key: None,
                idempotency_key_hash: None,
            },
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(found(&store, "wibble").await, ids(&["WEB-2"]));
    assert_eq!(found(&store, "kaboom").await, ids(&["WEB-2"]));
}

/// A captured report of the error with hash `hash`, carrying these console messages.
fn report_with(token: &str, hash: &str, console: &[&str]) -> NewReport {
    let draft: IssueDraftInput =
        serde_json::from_value(serde_json::json!({"type": "bug", "title": "Cart page breaks"}))
            .unwrap();
    let console: Vec<_> = console
        .iter()
        .map(|m| serde_json::json!({"level": "log", "message": m}))
        .collect();
    NewReport {
        issue: NewIssue::parse(&draft, &ProjectRules::default()).unwrap(),
        reporter_name: None,
        reporter_email: None,
        page_url: None,
        app_version: None,
        build: None,
        context: serde_json::json!({"console": console, "errors": [{"message": format!("{token} thrown")}]}).into(),
        status_token_hash: token.into(),
        match_key: Some(moth_core::fingerprint::MatchKey {
            kind: moth_core::fingerprint::FingerprintKind::Error,
            hash: hash.into(),
        }),
        idempotency_key_hash: None,
    }
}

/// Each report adds its own messages to its issue's index (the issue's text is not rebuilt
/// from all its reports); comments rebuild it and keep them; past 50,000 characters of
/// comments and captured messages an issue's index takes no more (on both databases).
async fn every_report_of_an_issue_is_found_up_to_the_indexed_length(store: Store) {
    project(&store, "WEB").await;
    let first = store
        .file_report(
            "WEB",
            report_with("alpha", "h1", &["wombat loaded"]),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(first.issue.id, "WEB-1");
    let again = store
        .file_report(
            "WEB",
            report_with("bravo", "h1", &["quokka stalled in checkout"]),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(again.issue.id, "WEB-1", "a duplicate occurrence");
    store
        .file_report(
            "WEB",
            report_with("charlie", "h2", &["wombat elsewhere"]),
            vec![],
        )
        .await
        .unwrap(); // WEB-2
    for q in ["quokka", "\"quokka stalled\"", "bravo", "alpha"] {
        assert_eq!(found(&store, q).await, ids(&["WEB-1"]), "{q}");
    }
    assert_eq!(found(&store, "wombat").await, ids(&["WEB-1", "WEB-2"]));
    let author = store
        .create_user(NewUser {
            email: "dev@example.com".into(),
            name: "Dev".into(),
            role: Role::Member,
            password_hash: None,
        })
        .await
        .unwrap();
    let comment = LongText::parse_optional("body", "A numbat saw it too")
        .unwrap()
        .unwrap();
    store
        .add_comment(&IssueRef::parse("WEB-1").unwrap(), author.id, &comment)
        .await
        .unwrap();
    for q in ["numbat", "quokka", "alpha", "bravo"] {
        assert_eq!(
            found(&store, q).await,
            ids(&["WEB-1"]),
            "{q} after a comment"
        );
    }
    // 60,000 characters of console, then one more report: stored, but past the indexed length.
    let long = "filler ".repeat(8_000);
    store
        .file_report("WEB", report_with("delta", "h1", &[&long]), vec![])
        .await
        .unwrap();
    assert_eq!(found(&store, "filler").await, ids(&["WEB-1"]));
    let late = store
        .file_report(
            "WEB",
            report_with("echo", "h1", &["platypus appeared"]),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(late.issue.duplicate_count, 3);
    assert!(found(&store, "platypus").await.is_empty());
    assert_eq!(found(&store, "quokka").await, ids(&["WEB-1"]));
}
