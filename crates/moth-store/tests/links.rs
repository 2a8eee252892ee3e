//! Links between issues and merging duplicates, on SQLite and PostgreSQL alike.

use moth_core::{
    IssueChange, IssueChangeInput, IssueDraftInput, IssueRef, LinkRelation, Name, NewIssue,
    ProjectKey, ProjectRules, Role,
};
use moth_store::{Actor, NewProject, NewReport, NewUser, Store, StoreError};

moth_store::conformance!(
    links_show_on_both_sides_and_in_both_histories,
    refused_links_change_nothing,
    merging_a_duplicate_moves_its_watchers_and_reporters,
    later_reports_of_a_duplicate_join_its_original,
    merged_reports_are_searched_under_the_issue_that_holds_them,
);

async fn project(store: &Store, key: &str) {
    store
        .create_project(
            NewProject {
                key: ProjectKey::parse(key).unwrap(),
                name: Name::parse("name", key).unwrap(),
                intake_key: format!("intake-{key}"),
            },
            Actor::SYSTEM,
        )
        .await
        .unwrap();
}

async fn file(store: &Store, key: &str, title: &str, by: Option<&moth_core::User>) -> IssueRef {
    let input = IssueDraftInput {
        issue_type: "bug".into(),
        title: title.into(),
        ..Default::default()
    };
    let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
    let issue = store
        .create_issue(key, new, by.map(|u| u.summary()).as_ref())
        .await
        .unwrap();
    id(&issue.id)
}

async fn report(store: &Store, key: &str, email: &str, token: &str) -> IssueRef {
    keyed_report(store, key, email, token, None).await.0
}

/// A captured report titled `title` with its status link's `token` and `context`, matched on
/// nothing and from nobody known; callers set what they test.
fn captured(title: &str, token: &str, context: serde_json::Value) -> NewReport {
    let input = IssueDraftInput {
        issue_type: "bug".into(),
        title: title.into(),
        ..Default::default()
    };
    NewReport {
        issue: NewIssue::parse(&input, &ProjectRules::default()).unwrap(),
        reporter_name: None,
        reporter_email: None,
        page_url: None,
        app_version: None,
        build: None,
        context: context.into(),
        status_token_hash: token.into(),
        match_key: None,
        idempotency_key_hash: None,
    }
}

/// Files a captured report whose console holds `message`.
async fn report_saying(store: &Store, key: &str, title: &str, message: &str) -> IssueRef {
    let context = serde_json::json!({"console": [{"level": "error", "message": message}]});
    let report = captured(title, &format!("token-{title}"), context);
    id(&store
        .file_report(key, report, Vec::new())
        .await
        .unwrap()
        .issue
        .id)
}

/// The issues a full-text search finds.
async fn found(store: &Store, q: &str) -> Vec<String> {
    let request = moth_store::SearchRequest {
        query: moth_core::Query::parse(q).unwrap(),
        scope: moth_store::ProjectScope::All,
        limit: 10,
        cursor: None,
    };
    let mut ids: Vec<String> = store
        .search(&request)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|hit| hit.issue.id)
        .collect();
    ids.sort();
    ids
}

/// Files a captured report, matched on `hash` when given; the issue it landed on and how.
async fn keyed_report(
    store: &Store,
    key: &str,
    email: &str,
    token: &str,
    hash: Option<&str>,
) -> (IssueRef, moth_store::ReportOutcome) {
    let context = serde_json::json!({"page_url": format!("https://{token}.example.com/")});
    let report = NewReport {
        reporter_email: Some(email.into()),
        match_key: hash.map(|h| moth_core::fingerprint::MatchKey {
            kind: moth_core::fingerprint::FingerprintKind::Error,
            hash: h.into(),
        }),
        ..captured("Captured", token, context)
    };
    let filed = store.file_report(key, report, Vec::new()).await.unwrap();
    (id(&filed.issue.id), filed.outcome)
}

async fn user(store: &Store, email: &str) -> moth_core::User {
    store
        .create_user(NewUser {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            role: Role::Member,
            password_hash: None,
        })
        .await
        .unwrap()
}

fn id(text: &str) -> IssueRef {
    IssueRef::parse(text).unwrap()
}

fn rel(text: &str) -> LinkRelation {
    LinkRelation::parse(text).unwrap()
}

fn change(json: serde_json::Value) -> IssueChange {
    let input: IssueChangeInput = serde_json::from_value(json).unwrap();
    IssueChange::parse(&input).unwrap()
}

/// Each link as `relation id`, in the order the store lists them.
async fn shown(store: &Store, issue: &str) -> Vec<String> {
    store
        .links(&id(issue))
        .await
        .unwrap()
        .iter()
        .map(|l| format!("{} {}", l.relation, l.issue.id))
        .collect()
}

async fn details(store: &Store, issue: &str) -> Vec<String> {
    store
        .activity(&id(issue))
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| e.detail.map(|d| format!("{} {d}", e.kind)))
        .collect()
}

async fn links_show_on_both_sides_and_in_both_histories(store: Store) {
    project(&store, "WEB").await;
    project(&store, "API").await;
    let ana = user(&store, "ana@example.com").await;
    for title in ["Checkout", "Payments", "Dup"] {
        file(&store, "WEB", title, None).await;
    }
    file(&store, "API", "Pay endpoint", None).await;
    let by = Actor::user(ana.id);
    let added = store
        .add_link(&id("WEB-2"), rel("blocked_by"), &id("WEB-1"), by)
        .await
        .unwrap();
    assert_eq!(
        (added.kind, added.relation, added.label),
        ("blocks", "blocked_by", "blocked by")
    );
    assert_eq!(added.issue.title, "Checkout");
    store
        .add_link(&id("WEB-1"), rel("relates_to"), &id("WEB-2"), by)
        .await
        .unwrap();
    store
        .add_link(&id("API-1"), rel("regressed_by"), &id("WEB-1"), by)
        .await
        .unwrap();
    store
        .update_issue(
            &id("WEB-3"),
            change(
                serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-1"}),
            ),
            by,
        )
        .await
        .unwrap();
    assert_eq!(
        shown(&store, "WEB-1").await,
        [
            "duplicates WEB-3",
            "blocks WEB-2",
            "regressions API-1",
            "relates_to WEB-2"
        ]
    );
    assert_eq!(
        shown(&store, "WEB-2").await,
        ["blocked_by WEB-1", "relates_to WEB-1"]
    );
    assert_eq!(shown(&store, "API-1").await, ["regressed_by WEB-1"]);
    assert_eq!(shown(&store, "WEB-3").await, ["duplicate_of WEB-1"]);
    assert!(
        details(&store, "WEB-1")
            .await
            .contains(&"issue.linked linked: blocks WEB-2".to_string())
    );
    assert!(
        details(&store, "WEB-2")
            .await
            .contains(&"issue.linked linked: blocked by WEB-1".to_string())
    );
    assert!(
        details(&store, "API-1")
            .await
            .contains(&"issue.linked linked: regressed by WEB-1".to_string())
    );

    // Removed from the other side than it was added from.
    store
        .remove_link(&id("WEB-1"), rel("blocks"), &id("WEB-2"), by)
        .await
        .unwrap();
    assert_eq!(shown(&store, "WEB-2").await, ["relates_to WEB-1"]);
    store
        .remove_link(&id("WEB-2"), rel("relates_to"), &id("WEB-1"), by)
        .await
        .unwrap();
    assert!(shown(&store, "WEB-2").await.is_empty());
    assert!(
        details(&store, "WEB-2")
            .await
            .contains(&"issue.unlinked removed the link: blocked by WEB-1".to_string())
    );
    let again = store
        .remove_link(&id("WEB-1"), rel("blocks"), &id("WEB-2"), by)
        .await;
    assert!(matches!(again, Err(StoreError::NotFound(_))), "{again:?}");
}

async fn refused_links_change_nothing(store: Store) {
    project(&store, "WEB").await;
    file(&store, "WEB", "One", None).await;
    file(&store, "WEB", "Two", None).await;
    let by = Actor::SYSTEM;
    store
        .add_link(&id("WEB-1"), rel("blocks"), &id("WEB-2"), by)
        .await
        .unwrap();
    let events = store.last_event_id().await.unwrap();
    let twice = store
        .add_link(&id("WEB-1"), rel("blocks"), &id("WEB-2"), by)
        .await;
    assert!(
        matches!(
            &twice,
            Err(StoreError::Conflict {
                field: "target",
                ..
            })
        ),
        "{twice:?}"
    );
    let cycle = store
        .add_link(&id("WEB-1"), rel("blocked_by"), &id("WEB-2"), by)
        .await;
    assert!(
        matches!(&cycle, Err(StoreError::Invalid(e)) if e.message.contains("WEB-1 already blocks WEB-2")),
        "{cycle:?}"
    );
    let own = store
        .add_link(&id("WEB-1"), rel("relates_to"), &id("WEB-1"), by)
        .await;
    assert!(matches!(&own, Err(StoreError::Invalid(e)) if e.field == Some("target")));
    let nowhere = store
        .add_link(&id("WEB-1"), rel("relates_to"), &id("WEB-9"), by)
        .await;
    assert!(
        matches!(&nowhere, Err(StoreError::Invalid(e)) if e.message == "WEB-9 does not exist"),
        "{nowhere:?}"
    );
    let unknown = store
        .add_link(&id("WEB-9"), rel("relates_to"), &id("WEB-1"), by)
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))));
    assert!(matches!(
        store.links(&id("WEB-9")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.last_event_id().await.unwrap(), events, "no event");
    assert_eq!(shown(&store, "WEB-2").await, ["blocked_by WEB-1"]);
}

async fn merging_a_duplicate_moves_its_watchers_and_reporters(store: Store) {
    project(&store, "WEB").await;
    let ana = user(&store, "ana@example.com").await;
    let bo = user(&store, "bo@example.com").await;
    let original = report(&store, "WEB", "eve@example.com", "eve-token").await;
    let duplicate = file(&store, "WEB", "Same problem", Some(&ana)).await;
    // The duplicate's captured reports: a new reporter, and one who reported the original too.
    for (email, token) in [
        ("kim@example.com", "kim-token"),
        ("eve@example.com", "eve-again"),
    ] {
        let captured = report(&store, "WEB", email, token).await;
        store
            .update_issue(
                &captured,
                change(serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": duplicate.to_string()})),
                Actor::user(ana.id),
            )
            .await
            .unwrap();
    }
    let bo_email = moth_core::Email::parse(&bo.email).unwrap();
    store
        .set_watching(&duplicate, &bo_email, true, Actor::user(bo.id))
        .await
        .unwrap();
    let merge = serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": original.to_string()});
    store
        .update_issue(&duplicate, change(merge), Actor::user(bo.id))
        .await
        .unwrap();

    let merged = store.issue(&original).await.unwrap();
    let watchers: Vec<&str> = merged.watchers.iter().map(|w| w.email.as_str()).collect();
    assert_eq!(watchers, ["ana@example.com", "bo@example.com"]);
    assert_eq!(
        merged.affected_reporters, 2,
        "eve and kim, each counted once"
    );
    let status = store.report_status("kim-token").await.unwrap().unwrap();
    assert_eq!(
        status.issue.id, "WEB-3",
        "the report still tells of its own issue"
    );
    assert_eq!(
        status.original.as_ref().map(|o| o.id.as_str()),
        Some("WEB-1"),
        "and follows the original, past the issue it was first merged into"
    );
    let status = store.report_status("eve-token").await.unwrap().unwrap();
    assert_eq!(
        (status.issue.id.as_str(), status.original.is_none()),
        ("WEB-1", true)
    );
    assert_eq!(
        store.issue(&id("WEB-3")).await.unwrap().context.unwrap()["page_url"],
        "https://kim-token.example.com/",
        "a merged issue keeps its captured context"
    );
    assert!(
        details(&store, "WEB-1").await.contains(
            &"issue.merged WEB-2 was merged into this issue as a duplicate: 2 watcher(s) and 2 report(s) moved here"
                .to_string()
        ),
        "{:?}",
        details(&store, "WEB-1").await
    );

    // Reopened, the duplicate takes its reports back (its watchers stay on the original).
    store
        .update_issue(
            &duplicate,
            change(serde_json::json!({"status": "triaged"})),
            Actor::user(bo.id),
        )
        .await
        .unwrap();
    assert_eq!(store.issue(&original).await.unwrap().affected_reporters, 1);
    assert_eq!(
        store.issue(&duplicate).await.unwrap().affected_reporters,
        2,
        "with the reports of the issues that duplicate it"
    );
    let status = store.report_status("kim-token").await.unwrap().unwrap();
    assert_eq!(
        status.original.as_ref().map(|o| o.id.as_str()),
        Some("WEB-2")
    );
    assert!(
        details(&store, "WEB-1")
            .await
            .iter()
            .any(|d| d.starts_with("issue.unmerged WEB-2 is no longer a duplicate"))
    );
}

async fn later_reports_of_a_duplicate_join_its_original(store: Store) {
    project(&store, "WEB").await;
    let original = file(&store, "WEB", "Pay broken", None).await;
    let hash = "0123456789abcdef0123";
    let (duplicate, _) = keyed_report(&store, "WEB", "ana@example.com", "ana", Some(hash)).await;
    store
        .update_issue(
            &duplicate,
            change(serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": original.to_string()})),
            Actor::SYSTEM,
        )
        .await
        .unwrap();
    let (joined, outcome) = keyed_report(&store, "WEB", "kim@example.com", "kim", Some(hash)).await;
    assert_eq!(joined, original, "judged by and joined to the original");
    assert_eq!(outcome, moth_store::ReportOutcome::Duplicate);
    let (again, _) = keyed_report(&store, "WEB", "ana@example.com", "ana-2", Some(hash)).await;
    assert_eq!(again, original);
    assert_eq!(
        store.issue(&original).await.unwrap().affected_reporters,
        2,
        "ana (merged in, then again) and kim"
    );
    let status = store.report_status("kim").await.unwrap().unwrap();
    assert_eq!(
        (status.issue.id.as_str(), status.original.is_none()),
        ("WEB-1", true)
    );
}

async fn merged_reports_are_searched_under_the_issue_that_holds_them(store: Store) {
    project(&store, "WEB").await;
    let ana = user(&store, "ana@example.com").await;
    let original = report_saying(&store, "WEB", "Checkout fails", "payment gateway timeout").await;
    let duplicate =
        report_saying(&store, "WEB", "Pay button dead", "zanzibar widget exploded").await;
    assert_eq!(found(&store, "zanzibar").await, ["WEB-2"]);

    let merge = serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": original.to_string()});
    store
        .update_issue(&duplicate, change(merge), Actor::user(ana.id))
        .await
        .unwrap();
    assert_eq!(
        found(&store, "zanzibar").await,
        ["WEB-1"],
        "the report's messages moved with it"
    );
    assert_eq!(found(&store, "gateway").await, ["WEB-1"]);

    store
        .update_issue(
            &duplicate,
            change(serde_json::json!({"status": "triaged"})),
            Actor::user(ana.id),
        )
        .await
        .unwrap();
    assert_eq!(
        found(&store, "zanzibar").await,
        ["WEB-2"],
        "and back when the duplicate is reopened"
    );
    assert_eq!(found(&store, "gateway").await, ["WEB-1"]);
}
