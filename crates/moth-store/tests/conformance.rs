//! One suite, run against SQLite and PostgreSQL: both stores must behave the same.

use moth_core::{
    IssueChange, IssueChangeInput, IssueDraftInput, IssueFilter, IssueFilterInput, IssueRef,
    IssueSort, LongText, Name, NewIssue, ProjectKey, ProjectRules, Role, Status,
};
use moth_store::{
    Actor, IssueListing, NewAttachment, NewProject, NewUser, ProjectChange, Store, StoreError,
};
use std::collections::HashSet;
use std::time::Duration;

moth_store::conformance!(
    reports_filed_together_are_decided_in_order,
    users_have_unique_emails_and_one_first_admin,
    sessions_and_tokens_resolve_to_active_users,
    a_server_secret_is_made_once_and_kept,
    projects_have_unique_keys_and_rotatable_intake_keys,
    issues_are_numbered_per_project_and_read_back,
    changes_follow_the_workflow_and_are_recorded,
    a_refused_change_changes_nothing,
    duplicates_are_counted_on_the_original,
    lists_filter_and_sort,
    cursor_pages_stay_stable_while_issues_are_added,
    concurrent_creation_keeps_numbers_unique_and_gap_free,
    issues_filed_together_are_each_answered_on_their_own,
    comments_render_markdown_and_appear_in_history,
    attachments_are_recorded_on_their_issue,
    orphaned_attachment_files_are_swept,
    hostile_text_is_stored_as_typed,
    a_captured_report_is_filed_all_at_once,
);

async fn user(store: &Store, email: &str, role: Role) -> moth_core::User {
    store
        .create_user(NewUser {
            email: email.into(),
            name: email.split('@').next().unwrap().into(),
            role,
            password_hash: None,
        })
        .await
        .unwrap()
}

async fn project(store: &Store, key: &str) -> moth_core::Project {
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
        .unwrap()
}

fn draft(issue_type: &str, title: &str) -> IssueDraftInput {
    IssueDraftInput {
        issue_type: issue_type.into(),
        title: title.into(),
        ..Default::default()
    }
}

async fn file(store: &Store, key: &str, input: IssueDraftInput) -> moth_core::Issue {
    let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
    store.create_issue(key, new, None).await.unwrap()
}

fn change(json: serde_json::Value) -> IssueChange {
    let input: IssueChangeInput = serde_json::from_value(json).unwrap();
    IssueChange::parse(&input).unwrap()
}

fn id(text: &str) -> IssueRef {
    IssueRef::parse(text).unwrap()
}

fn listing(filter: IssueFilterInput<'_>, sort: &str, limit: i64) -> IssueListing {
    IssueListing {
        filter: IssueFilter::parse(&filter).unwrap(),
        sort: IssueSort::parse(Some(sort)).unwrap(),
        limit,
        cursor: None,
    }
}

async fn users_have_unique_emails_and_one_first_admin(store: Store) {
    assert_eq!(store.count_users().await.unwrap(), 0);
    let admin = NewUser {
        email: "root@example.com".into(),
        name: "Root".into(),
        role: Role::Admin,
        password_hash: Some("h".into()),
    };
    let created = store.create_first_admin(admin.clone()).await.unwrap();
    assert_eq!(created.role, Role::Admin);
    let again = store
        .create_first_admin(NewUser {
            email: "other@example.com".into(),
            ..admin.clone()
        })
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict { .. })),
        "{again:?}"
    );
    let dup = store.create_user(admin).await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { field: "email", .. })),
        "{dup:?}"
    );
    let creds = store
        .user_credentials("root@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(creds.password_hash.as_deref(), Some("h"));
    assert!(
        store
            .user_credentials("nobody@example.com")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.count_users().await.unwrap(), 1);
}

async fn a_server_secret_is_made_once_and_kept(store: Store) {
    let first = store
        .server_secret("status_link_key", "made-first")
        .await
        .unwrap();
    assert_eq!(first, "made-first");
    let again = store
        .server_secret("status_link_key", "made-later")
        .await
        .unwrap();
    assert_eq!(again, "made-first", "the stored one wins");
    let other = store.server_secret("another", "its-own").await.unwrap();
    assert_eq!(other, "its-own");
}

async fn sessions_and_tokens_resolve_to_active_users(store: Store) {
    let ana = user(&store, "ana@example.com", Role::Member).await;
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let earlier = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
    store.create_session(ana.id, "live", later).await.unwrap();
    store
        .create_session(ana.id, "stale", earlier)
        .await
        .unwrap();
    assert_eq!(
        store.session_user("live").await.unwrap().unwrap().id,
        ana.id
    );
    assert!(store.session_user("stale").await.unwrap().is_none());
    store.delete_session("live").await.unwrap();
    assert!(store.session_user("live").await.unwrap().is_none());

    let token = store
        .create_api_token(ana.id, "ci", "hash-1", None)
        .await
        .unwrap();
    store
        .create_api_token(ana.id, "old", "hash-2", Some(earlier))
        .await
        .unwrap();
    assert_eq!(
        store.token_user("hash-1").await.unwrap().unwrap().email,
        "ana@example.com"
    );
    assert!(
        store.token_user("hash-2").await.unwrap().is_none(),
        "expired token"
    );
    store.revoke_api_token(ana.id, token.id).await.unwrap();
    assert!(
        store.token_user("hash-1").await.unwrap().is_none(),
        "revoked token"
    );
    assert!(matches!(
        store.revoke_api_token(ana.id, token.id).await,
        Err(StoreError::NotFound(_))
    ));
    let tokens = store.api_tokens(ana.id).await.unwrap();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.iter().any(|t| t.revoked_at.is_some()));
}

async fn projects_have_unique_keys_and_rotatable_intake_keys(store: Store) {
    project(&store, "WEB").await;
    let dup = store
        .create_project(
            NewProject {
                key: ProjectKey::parse("WEB").unwrap(),
                name: Name::parse("name", "x").unwrap(),
                intake_key: "other".into(),
            },
            Actor::SYSTEM,
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict { field: "key", .. })),
        "{dup:?}"
    );
    let changed = store
        .update_project(
            "WEB",
            ProjectChange {
                components: Some(vec!["checkout".into()]),
                allowed_origins: Some(vec!["https://shop.example.com".into()]),
                ..Default::default()
            },
            Actor::SYSTEM,
        )
        .await
        .unwrap();
    assert_eq!(changed.components, ["checkout"]);
    assert_eq!(changed.allowed_origins, ["https://shop.example.com"]);
    assert_eq!(changed.name, "Project WEB", "unchanged settings stay");
    let rotated = store
        .rotate_intake_key("WEB", "fresh", Actor::SYSTEM)
        .await
        .unwrap();
    assert_eq!(rotated.intake_key, "fresh");
    assert!(
        store
            .project_by_intake_key("intake-WEB")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .project_by_intake_key("fresh")
            .await
            .unwrap()
            .unwrap()
            .key,
        "WEB"
    );
    assert!(matches!(
        store.project("NOPE").await,
        Err(StoreError::NotFound(_))
    ));
}

async fn issues_are_numbered_per_project_and_read_back(store: Store) {
    project(&store, "WEB").await;
    project(&store, "API").await;
    let ana = user(&store, "ana@example.com", Role::Member).await;
    let mut input = draft("bug", "Checkout button does nothing");
    input.severity = Some("major".into());
    input.labels = Some(vec!["ui".into(), "checkout".into()]);
    input.steps_to_reproduce = Some("1. Open /checkout\n2. Click Pay".into());
    input.affects_version = Some("2.3.0".into());
    input.assignee = Some("ana@example.com".into());
    let first = file(&store, "WEB", input).await;
    assert_eq!((first.id.as_str(), first.number), ("WEB-1", 1));
    assert_eq!(
        first
            .fields
            .labels
            .iter()
            .map(|l| l.as_str())
            .collect::<Vec<_>>(),
        ["checkout", "ui"]
    );
    assert_eq!(first.fields.assignee.as_ref().unwrap().id, ana.id);
    assert!(
        first.watchers.iter().any(|w| w.id == ana.id),
        "the assignee watches"
    );
    assert_eq!(
        file(&store, "WEB", draft("feature", "Dark mode")).await.id,
        "WEB-2"
    );
    assert_eq!(
        file(&store, "API", draft("task", "Rotate keys")).await.id,
        "API-1"
    );
    let read = store.issue(&id("WEB-1")).await.unwrap();
    assert_eq!(read.fields, first.fields);
    assert_eq!(
        serde_json::to_value(&read).unwrap(),
        serde_json::to_value(&first).unwrap(),
        "the issue answered at creation is the issue stored"
    );
    assert_eq!(
        read.fields.steps_to_reproduce,
        "1. Open /checkout\n2. Click Pay"
    );
    assert!(matches!(
        store.issue(&id("WEB-99")).await,
        Err(StoreError::NotFound(_))
    ));
    let unknown = NewIssue::parse(&draft("bug", "x"), &ProjectRules::default()).unwrap();
    assert!(matches!(
        store.create_issue("NOPE", unknown, None).await,
        Err(StoreError::NotFound(_))
    ));
    let mut input = draft("bug", "Nobody by that name");
    input.assignee = Some("ghost@example.com".into());
    let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
    assert!(matches!(
        store.create_issue("WEB", new, None).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(
        file(&store, "WEB", draft("bug", "Next")).await.id,
        "WEB-3",
        "a refused issue used no number"
    );
}

async fn changes_follow_the_workflow_and_are_recorded(store: Store) {
    project(&store, "WEB").await;
    let ana = user(&store, "ana@example.com", Role::Member).await;
    file(&store, "WEB", draft("bug", "Crash on save")).await;
    let web1 = id("WEB-1");
    let actor = Actor::user(ana.id);
    let resolved = store
        .update_issue(&web1, change(serde_json::json!({"status": "resolved", "resolution": "fixed", "fixed_in_version": "2.3.1"})), actor)
        .await
        .unwrap();
    assert_eq!(resolved.fields.status, Status::Resolved);
    assert!(resolved.resolved_at.is_some());
    let reopened = store
        .update_issue(
            &web1,
            change(serde_json::json!({"status": "triaged"})),
            actor,
        )
        .await
        .unwrap();
    assert_eq!(
        (reopened.fields.resolution, reopened.fields.reopen_count),
        (None, 1)
    );
    assert!(reopened.resolved_at.is_none());
    let history = store.activity(&web1).await.unwrap();
    assert_eq!(
        history.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["issue.created", "issue.updated", "issue.updated"]
    );
    let status_change = history[1]
        .changes
        .iter()
        .find(|c| c.field == "status")
        .unwrap();
    assert_eq!(
        (status_change.from.as_str(), status_change.to.as_str()),
        (Some("new"), Some("resolved"))
    );
    assert_eq!(history[1].actor.as_ref().unwrap().id, ana.id);
    let unchanged = store
        .update_issue(
            &web1,
            change(serde_json::json!({"title": "Crash on save"})),
            actor,
        )
        .await
        .unwrap();
    assert_eq!(unchanged.updated_at, reopened.updated_at);
    assert_eq!(
        store.activity(&web1).await.unwrap().len(),
        3,
        "a change to the same value records nothing"
    );
}

async fn a_refused_change_changes_nothing(store: Store) {
    project(&store, "WEB").await;
    let before = file(&store, "WEB", draft("feature", "Dark mode")).await;
    let web1 = id("WEB-1");
    let refused = store
        .update_issue(
            &web1,
            change(serde_json::json!({"title": "Changed", "severity": "major"})),
            Actor::SYSTEM,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(ref e)) if e.field == Some("severity")),
        "{refused:?}"
    );
    let refused = store
        .update_issue(
            &web1,
            change(serde_json::json!({"status": "closed"})),
            Actor::SYSTEM,
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(ref e)) if e.field == Some("resolution")),
        "{refused:?}"
    );
    let refused = store
        .update_issue(&web1, change(serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-9"})), Actor::SYSTEM)
        .await;
    assert!(
        matches!(refused, Err(StoreError::Invalid(ref e)) if e.message.contains("does not exist")),
        "{refused:?}"
    );
    let after = store.issue(&web1).await.unwrap();
    assert_eq!(after.fields, before.fields);
    assert_eq!(after.updated_at, before.updated_at);
    assert_eq!(store.activity(&web1).await.unwrap().len(), 1);
}

async fn duplicates_are_counted_on_the_original(store: Store) {
    project(&store, "WEB").await;
    file(&store, "WEB", draft("bug", "Original")).await;
    file(&store, "WEB", draft("bug", "Copy one")).await;
    file(&store, "WEB", draft("bug", "Copy two")).await;
    let dup = serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-1"});
    let copy = store
        .update_issue(&id("WEB-2"), change(dup.clone()), Actor::SYSTEM)
        .await
        .unwrap();
    assert_eq!(copy.fields.duplicate_of, Some(id("WEB-1")));
    store
        .update_issue(&id("WEB-3"), change(dup), Actor::SYSTEM)
        .await
        .unwrap();
    assert_eq!(store.issue(&id("WEB-1")).await.unwrap().duplicate_count, 2);
    store
        .update_issue(
            &id("WEB-3"),
            change(serde_json::json!({"status": "triaged"})),
            Actor::SYSTEM,
        )
        .await
        .unwrap();
    assert_eq!(store.issue(&id("WEB-1")).await.unwrap().duplicate_count, 1);
}

async fn lists_filter_and_sort(store: Store) {
    project(&store, "WEB").await;
    project(&store, "API").await;
    let ana = user(&store, "ana@example.com", Role::Member).await;
    let specs = [
        ("bug", Some("critical"), "low", "Payment crash"),
        ("bug", Some("major"), "urgent", "Cart empties"),
        ("bug", Some("minor"), "high", "Typo on button"),
        ("feature", None, "high", "Dark mode"),
        ("performance", Some("major"), "medium", "Slow search"),
    ];
    for (issue_type, severity, priority, title) in specs {
        let mut input = draft(issue_type, title);
        input.severity = severity.map(str::to_string);
        input.priority = Some(priority.into());
        if title == "Cart empties" {
            input.labels = Some(vec!["checkout".into()]);
            input.assignee = Some(ana.email.clone());
        }
        file(&store, "WEB", input).await;
    }
    file(&store, "API", draft("bug", "Other project")).await;
    store
        .update_issue(
            &id("WEB-1"),
            change(serde_json::json!({"status": "resolved", "resolution": "fixed"})),
            Actor::SYSTEM,
        )
        .await
        .unwrap();

    let titles = |page: moth_store::IssuePage| {
        page.items
            .into_iter()
            .map(|i| i.fields.title.as_str().to_string())
            .collect::<Vec<_>>()
    };
    let open_serious_bugs = listing(
        IssueFilterInput {
            types: Some("bug"),
            statuses: Some("open"),
            severities: Some("major,critical"),
            ..Default::default()
        },
        "priority",
        50,
    );
    assert_eq!(
        titles(store.list_issues("WEB", &open_serious_bugs).await.unwrap()),
        ["Cart empties"]
    );
    let all = listing(IssueFilterInput::default(), "priority", 50);
    assert_eq!(
        titles(store.list_issues("WEB", &all).await.unwrap()),
        [
            "Cart empties",
            "Typo on button",
            "Dark mode",
            "Slow search",
            "Payment crash"
        ]
    );
    let newest = listing(IssueFilterInput::default(), "-created", 2);
    assert_eq!(
        titles(store.list_issues("WEB", &newest).await.unwrap()),
        ["Slow search", "Dark mode"]
    );
    let by_severity = listing(
        IssueFilterInput {
            types: Some("bug,performance"),
            ..Default::default()
        },
        "severity",
        50,
    );
    assert_eq!(
        titles(store.list_issues("WEB", &by_severity).await.unwrap())[0],
        "Payment crash"
    );
    let labelled = listing(
        IssueFilterInput {
            labels: Some("checkout"),
            ..Default::default()
        },
        "-created",
        50,
    );
    assert_eq!(
        titles(store.list_issues("WEB", &labelled).await.unwrap()),
        ["Cart empties"]
    );
    let mine = listing(
        IssueFilterInput {
            assignees: Some("ana@example.com"),
            ..Default::default()
        },
        "-created",
        50,
    );
    assert_eq!(
        titles(store.list_issues("WEB", &mine).await.unwrap()),
        ["Cart empties"]
    );
    let nobody = listing(
        IssueFilterInput {
            assignees: Some("none"),
            ..Default::default()
        },
        "-created",
        50,
    );
    assert_eq!(
        store.list_issues("WEB", &nobody).await.unwrap().items.len(),
        4
    );
    let text = listing(
        IssueFilterInput {
            text: Some("CRASH"),
            ..Default::default()
        },
        "-created",
        50,
    );
    assert_eq!(
        titles(store.list_issues("WEB", &text).await.unwrap()),
        ["Payment crash"]
    );
    let percent = listing(
        IssueFilterInput {
            text: Some("100%"),
            ..Default::default()
        },
        "-created",
        50,
    );
    assert!(
        store
            .list_issues("WEB", &percent)
            .await
            .unwrap()
            .items
            .is_empty(),
        "% is matched literally"
    );
    let closed = listing(
        IssueFilterInput {
            statuses: Some("resolved,closed"),
            ..Default::default()
        },
        "-created",
        50,
    );
    assert_eq!(
        titles(store.list_issues("WEB", &closed).await.unwrap()),
        ["Payment crash"]
    );
    assert!(matches!(
        store.list_issues("NOPE", &all).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn cursor_pages_stay_stable_while_issues_are_added(store: Store) {
    project(&store, "WEB").await;
    let priorities = ["urgent", "high", "medium", "low", "none"];
    for n in 0..23 {
        let mut input = draft("task", &format!("Task {n}"));
        input.priority = Some(priorities[n % 5].into());
        file(&store, "WEB", input).await;
    }
    for sort in [
        "-created",
        "created",
        "priority",
        "-priority",
        "updated",
        "-updated",
        "severity",
    ] {
        let mut seen = Vec::new();
        let mut request = listing(IssueFilterInput::default(), sort, 5);
        let mut added = 0;
        loop {
            let page = store.list_issues("WEB", &request).await.unwrap();
            assert!(page.items.len() <= 5);
            seen.extend(page.items.iter().map(|i| i.id.clone()));
            // New issues arrive between pages; the pages already walked must not shift.
            if added < 3 {
                let mut input = draft("task", &format!("Late {sort} {added}"));
                input.priority = Some("urgent".into());
                file(&store, "WEB", input).await;
                added += 1;
            }
            match page.next_cursor {
                Some(cursor) => request.cursor = Some(moth_store::decode_cursor(&cursor).unwrap()),
                None => break,
            }
        }
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "{sort}: no issue twice");
        for n in 1..=23 {
            assert!(
                seen.contains(&format!("WEB-{n}")),
                "{sort}: WEB-{n} was skipped"
            );
        }
    }
    let mut wrong = listing(IssueFilterInput::default(), "priority", 5);
    wrong.cursor = Some(moth_store::PageCursor {
        sort: "-created".into(),
        value: 1,
        id: 1,
    });
    assert!(matches!(
        store.list_issues("WEB", &wrong).await,
        Err(StoreError::Invalid(_))
    ));
}

async fn concurrent_creation_keeps_numbers_unique_and_gap_free(store: Store) {
    project(&store, "WEB").await;
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let new = NewIssue::parse(
                &draft("bug", &format!("Race {n}")),
                &ProjectRules::default(),
            )
            .unwrap();
            store.create_issue("WEB", new, None).await.unwrap().number
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=40).collect::<Vec<_>>());
}

/// Filings that arrive together share a transaction: each must still get its own answer, a
/// refused one must not sink the others, and each project keeps its own gap-free numbers.
async fn issues_filed_together_are_each_answered_on_their_own(store: Store) {
    project(&store, "WEB").await;
    project(&store, "API").await;
    let dev = user(&store, "dev@example.com", Role::Member).await;
    let reporter = user(&store, "qa@example.com", Role::Member).await.summary();
    let mut tasks = Vec::new();
    for n in 0..60 {
        let store = store.clone();
        let reporter = reporter.clone();
        tasks.push(tokio::spawn(async move {
            let key = if n % 2 == 0 { "WEB" } else { "API" };
            let mut input = draft("bug", &format!("Filed together {n}"));
            input.assignee = match n % 7 {
                0 => Some("nobody@example.com".into()),
                3 => Some("dev@example.com".into()),
                _ => None,
            };
            input.labels = Some(vec![format!("batch-{n}"), "together".into()]);
            let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
            (n, store.create_issue(key, new, Some(&reporter)).await)
        }));
    }
    let mut numbers: std::collections::HashMap<String, Vec<i64>> = Default::default();
    let mut filed = Vec::new();
    for task in tasks {
        let (n, answer) = task.await.unwrap();
        if n % 7 == 0 {
            let Err(StoreError::Invalid(error)) = answer else {
                panic!("filing {n} names an unknown assignee and must be refused: {answer:?}");
            };
            assert_eq!(error.field, Some("assignee"));
            continue;
        }
        let issue = answer.unwrap();
        assert_eq!(issue.fields.title.as_str(), format!("Filed together {n}"));
        numbers
            .entry(issue.project.clone())
            .or_default()
            .push(issue.number);
        filed.push((n, issue));
    }
    for (key, mut numbers) in numbers {
        numbers.sort();
        let count = numbers.len() as i64;
        assert_eq!(numbers, (1..=count).collect::<Vec<_>>(), "numbers of {key}");
    }
    for (n, answered) in &filed {
        let stored = store.issue(&id(&answered.id)).await.unwrap();
        assert_eq!(
            serde_json::to_value(&stored).unwrap(),
            serde_json::to_value(answered).unwrap(),
            "filing {n} read back"
        );
        let labels: Vec<&str> = stored.fields.labels.iter().map(|l| l.as_str()).collect();
        assert_eq!(labels, [format!("batch-{n}").as_str(), "together"]);
        let mut watchers: Vec<i64> = stored.watchers.iter().map(|w| w.id).collect();
        watchers.sort();
        let mut expected = vec![reporter.id];
        if n % 7 == 3 {
            expected.push(dev.id);
            assert_eq!(stored.fields.assignee.as_ref().map(|a| a.id), Some(dev.id));
        }
        expected.sort();
        assert_eq!(watchers, expected, "watchers of filing {n}");
    }
    let created: Vec<String> = store
        .events_after(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "issue.created")
        .filter_map(|e| e.issue)
        .collect();
    let mut expected: Vec<String> = filed.iter().map(|(_, issue)| issue.id.clone()).collect();
    let mut logged = created.clone();
    logged.sort();
    expected.sort();
    assert_eq!(
        logged, expected,
        "one creation event for each issue filed, none for the refused"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_tailing_reader_sees_every_event_exactly_once() {
    let (store, _db) = moth_store::testing::sqlite().await;
    a_tailing_reader_sees_every_event_exactly_once(store).await;
}

/// On PostgreSQL a trigger sleeps a little after each event insert, before commit: the window
/// in which a later id can commit first and a reader tailing "id > last seen" skips one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_tailing_reader_sees_every_event_exactly_once() {
    use sqlx::Connection;
    let Some((store, db)) = moth_store::testing::postgres().await else {
        return;
    };
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::raw_sql(
        "create function slow_commit() returns trigger language plpgsql as $$ \
         begin perform pg_sleep(random() * 0.004); return new; end $$; \
         create trigger slow_commit after insert on events for each row execute function slow_commit();",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    a_tailing_reader_sees_every_event_exactly_once(store).await;
}

async fn a_tailing_reader_sees_every_event_exactly_once(store: Store) {
    // Each writer files into its own project, so nothing but the event log orders them.
    let keys = ["WA", "WB", "WC", "WD", "WE", "WF", "WG", "WH"];
    for key in keys {
        project(&store, key).await;
    }
    let writers = keys.len();
    let per_writer = 40;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (w, key) in keys.into_iter().enumerate() {
        let store = store.clone();
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..per_writer {
                let new = NewIssue::parse(
                    &draft("bug", &format!("Writer {w} issue {n}")),
                    &ProjectRules::default(),
                )
                .unwrap();
                store.create_issue(key, new, None).await.unwrap();
            }
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }));
    }
    // The reader tails "id > last seen" while the writers commit, as every consumer does.
    let mut last = 0;
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let finished = done.load(std::sync::atomic::Ordering::SeqCst) == writers;
        let events = store.events_after(last, 7).await.unwrap();
        for event in &events {
            assert!(event.id > last, "events arrive in order");
            last = event.id;
            if event.kind == "issue.created" {
                seen.push(event.issue.clone().unwrap());
            }
        }
        if finished && events.is_empty() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "reader timed out");
        if events.is_empty() {
            tokio::task::yield_now().await;
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no event twice");
    assert_eq!(seen.len(), writers * per_writer, "no event skipped");
}

async fn comments_render_markdown_and_appear_in_history(store: Store) {
    project(&store, "WEB").await;
    let ana = user(&store, "ana@example.com", Role::Member).await;
    file(&store, "WEB", draft("bug", "Crash")).await;
    let body = LongText::parse("body", "Seen on **2.3.0** <script>alert(1)</script>").unwrap();
    let comment = store
        .add_comment(&id("WEB-1"), ana.id, &body)
        .await
        .unwrap();
    assert_eq!(comment.body, "Seen on **2.3.0** <script>alert(1)</script>");
    assert!(comment.body_html.contains("<strong>2.3.0</strong>"));
    assert!(!comment.body_html.contains("<script"));
    let comments = store.comments(&id("WEB-1")).await.unwrap();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].author.email, "ana@example.com");
    let history = store.activity(&id("WEB-1")).await.unwrap();
    assert_eq!(history.last().unwrap().comment_id, Some(comment.id));
    assert!(
        store
            .issue(&id("WEB-1"))
            .await
            .unwrap()
            .watchers
            .iter()
            .any(|w| w.id == ana.id),
        "commenters watch"
    );
    assert!(matches!(
        store.comments(&id("WEB-2")).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn attachments_are_recorded_on_their_issue(store: Store) {
    project(&store, "WEB").await;
    file(&store, "WEB", draft("bug", "Crash")).await;
    let new = NewAttachment {
        id: "att-1".into(),
        filename: "trace.txt".into(),
        content_type: "text/plain".into(),
        size: 12,
        object_key: "WEB/att-1".into(),
        is_screenshot: false,
    };
    let attachment = store
        .add_attachment(&id("WEB-1"), new, Actor::SYSTEM)
        .await
        .unwrap();
    assert_eq!((attachment.issue.as_str(), attachment.size), ("WEB-1", 12));
    assert_eq!(store.attachments(&id("WEB-1")).await.unwrap().len(), 1);
    assert_eq!(
        store.attachment("att-1").await.unwrap().object_key,
        "WEB/att-1"
    );
    assert!(matches!(
        store.attachment("nope").await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.attachment_object_keys().await.unwrap(), ["WEB/att-1"]);
}

async fn hostile_text_is_stored_as_typed(store: Store) {
    project(&store, "WEB").await;
    let hostile = "<img src=x onerror=alert(1)>'; drop table issues; -- \u{202e}";
    let mut input = draft("bug", hostile);
    input.description = Some(hostile.into());
    input.labels = Some(vec!["<b>".into()]);
    let issue = file(&store, "WEB", input).await;
    let read = store
        .issue(&IssueRef::parse(&issue.id).unwrap())
        .await
        .unwrap();
    assert_eq!(read.fields.title.as_str(), hostile.trim());
    assert_eq!(read.fields.description, hostile);
    assert_eq!(read.fields.labels[0].as_str(), "<b>");
    let found = store
        .list_issues(
            "WEB",
            &listing(
                IssueFilterInput {
                    text: Some("drop table"),
                    ..Default::default()
                },
                "-created",
                5,
            ),
        )
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
}

async fn orphaned_attachment_files_are_swept(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let files = moth_store::AttachmentFiles::local(dir.path()).unwrap();
    project(&store, "WEB").await;
    file(&store, "WEB", draft("bug", "Crash")).await;
    files
        .put("attachments/WEB/kept", bytes::Bytes::from_static(b"kept"))
        .await
        .unwrap();
    let new = NewAttachment {
        id: "kept".into(),
        filename: "kept.txt".into(),
        content_type: "text/plain".into(),
        size: 4,
        object_key: "attachments/WEB/kept".into(),
        is_screenshot: false,
    };
    store
        .add_attachment(&id("WEB-1"), new, Actor::SYSTEM)
        .await
        .unwrap();
    files
        .put(
            "attachments/WEB/orphan",
            bytes::Bytes::from_static(b"never committed"),
        )
        .await
        .unwrap();
    assert_eq!(
        files
            .sweep_orphans(&store, Duration::from_secs(3600))
            .await
            .unwrap(),
        0,
        "young files are left alone"
    );
    assert_eq!(
        files.sweep_orphans(&store, Duration::ZERO).await.unwrap(),
        1
    );
    assert!(files.get("attachments/WEB/orphan").await.is_err());
    assert_eq!(
        files.get("attachments/WEB/kept").await.unwrap().as_ref(),
        b"kept"
    );
}

async fn a_captured_report_is_filed_all_at_once(store: Store) {
    project(&store, "WEB").await;
    let new = NewIssue::parse(&draft("bug", "Checkout fails"), &ProjectRules::default()).unwrap();
    let report = moth_store::NewReport {
        issue: new.clone(),
        reporter_name: Some("Ana".into()),
        reporter_email: Some("ana@example.com".into()),
        page_url: Some("https://shop.example.com/checkout".into()),
        app_version: Some("2.3.0".into()),
        build: Some("2.3.0+481".into()),
        context: serde_json::json!({"console": [{"level": "error", "message": "boom"}]}).into(),
        status_token_hash: "status-hash".into(),
        match_key: None,
        idempotency_key_hash: None,
    };
    let screenshot = NewAttachment {
        id: "shot-1".into(),
        filename: "screenshot.png".into(),
        content_type: "image/png".into(),
        size: 100,
        object_key: "attachments/WEB/shot-1".into(),
        is_screenshot: true,
    };
    let issue = store
        .create_report("WEB", report.clone(), vec![screenshot.clone()])
        .await
        .unwrap();
    assert_eq!(issue.id, "WEB-1");
    assert!(
        matches!(&issue.reporter, moth_core::Reporter::Guest { name: Some(n), .. } if n == "Ana")
    );
    assert_eq!(
        issue.context.as_ref().unwrap()["console"][0]["message"],
        "boom"
    );
    assert_eq!(store.attachments(&id("WEB-1")).await.unwrap().len(), 1);
    let status = store.report_status("status-hash").await.unwrap().unwrap();
    assert_eq!(status.issue.id, "WEB-1");
    assert_eq!(status.screenshot_attachment_id.as_deref(), Some("shot-1"));
    assert!(store.report_status("other").await.unwrap().is_none());
    let listed = store
        .list_issues("WEB", &listing(IssueFilterInput::default(), "-created", 5))
        .await
        .unwrap();
    assert!(
        listed.items[0].context.is_none(),
        "lists leave the heavy context out"
    );

    // A second report reusing the attachment id fails as a whole: no issue, no report row.
    let again = moth_store::NewReport {
        status_token_hash: "second".into(),
        match_key: None,
        idempotency_key_hash: None,
        ..report
    };
    assert!(
        store
            .create_report("WEB", again, vec![screenshot])
            .await
            .is_err()
    );
    assert!(store.report_status("second").await.unwrap().is_none());
    assert!(matches!(
        store.issue(&id("WEB-2")).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        file(&store, "WEB", draft("bug", "Next")).await.id,
        "WEB-2",
        "the failed report used no number"
    );
}

/// Reports filed at the same moment share one batch, decided in order: of ten reports of one new
/// problem the first files the issue and the others join it (a person counted once, a report
/// without an e-mail as a person of its own); a report sent twice is stored once.
async fn reports_filed_together_are_decided_in_order(store: Store) {
    use moth_core::fingerprint::{FingerprintKind, MatchKey};
    use moth_store::ReportOutcome;
    project(&store, "WEB").await;
    let new = NewIssue::parse(&draft("bug", "Checkout fails"), &ProjectRules::default()).unwrap();
    let people = ["ana@example.com", "bob@example.com", "cy@example.com"];
    let report = |n: usize, key: Option<&str>| moth_store::NewReport {
        issue: new.clone(),
        reporter_name: None,
        reporter_email: (n < 8).then(|| people[n % 3].to_string()),
        page_url: None,
        app_version: None,
        build: None,
        context:
            serde_json::json!({"console": [{"level": "error", "message": format!("boom {n}")}]})
                .into(),
        status_token_hash: format!("status-{n}"),
        match_key: Some(MatchKey {
            kind: FingerprintKind::Error,
            hash: "checkout-boom".into(),
        }),
        idempotency_key_hash: key.map(str::to_string),
    };
    // Ten reports, the last two without an e-mail, and the sixth sent twice.
    // Another problem first: its batch is being written while the next ones queue, so the ten
    // reports of the new problem share the next batch.
    let other = moth_store::NewReport {
        status_token_hash: "status-other".into(),
        match_key: Some(MatchKey {
            kind: FingerprintKind::Error,
            hash: "other".into(),
        }),
        ..report(0, None)
    };
    let mut reports = vec![other];
    reports.extend((0..10).map(|n| report(n, (n == 5).then_some("key-5"))));
    reports.push(moth_store::NewReport {
        status_token_hash: "status-again".into(),
        ..report(5, Some("key-5"))
    });
    let receipts = futures::future::join_all(
        reports
            .into_iter()
            .map(|r| store.receive_report("WEB", r, Vec::new())),
    )
    .await;
    let mut receipts: Vec<_> = receipts.into_iter().map(Result::unwrap).collect();
    assert_eq!(receipts.remove(0).issue.to_string(), "WEB-1");
    assert!(
        receipts.iter().all(|r| r.issue.to_string() == "WEB-2"),
        "one issue: {receipts:?}"
    );
    let filed = receipts
        .iter()
        .filter(|r| r.outcome == ReportOutcome::Filed)
        .count();
    let joined = receipts
        .iter()
        .filter(|r| r.outcome == ReportOutcome::Duplicate)
        .count();
    assert_eq!((filed, joined), (1, 10), "{receipts:?}");
    assert_eq!(
        receipts.iter().filter(|r| r.replayed).count(),
        1,
        "sent twice, stored once"
    );
    let issue = store.issue(&id("WEB-2")).await.unwrap();
    assert_eq!(
        (issue.duplicate_count, issue.affected_reporters),
        (9, 5),
        "ten reports stored; three people and two reports without an e-mail"
    );
    assert!(store.report_status("status-again").await.unwrap().is_none());
    assert!(matches!(
        store.issue(&id("WEB-3")).await,
        Err(StoreError::NotFound(_))
    ));
}
