//! Similar issues by text, the same cases on SQLite and PostgreSQL: which issues are
//! suggested, never the exact rank.

use moth_core::{IssueDraftInput, IssueRef, Name, NewIssue, ProjectKey, ProjectRules};
use moth_store::{
    Actor, NewProject, ProjectScope, SimilarOptions, SimilarRanking, SimilarText, Store, StoreError,
};
use std::collections::BTreeSet;

moth_store::conformance!(
    an_issue_finds_its_look_alikes_and_never_itself,
    filed_before_keeps_only_older_issues,
    only_projects_in_scope_are_suggested,
    unfiled_text_finds_issues_by_title_words,
    plain_ranking_finds_the_same_issues,
    limits_unknown_issues_and_hostile_text,
    common_words_are_not_looked_for_and_new_words_are_found_at_once,
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

async fn file(store: &Store, key: &str, title: &str, description: &str) -> String {
    let input: IssueDraftInput = serde_json::from_value(
        serde_json::json!({"type": "bug", "title": title, "description": description}),
    )
    .unwrap();
    let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
    store.create_issue(key, new, None).await.unwrap().id
}

/// WEB-1 and WEB-3 report the same crash; WEB-2 and WEB-4 are about other things; API-1
/// reports the crash again in another project.
async fn corpus(store: &Store) {
    project(store, "WEB").await;
    project(store, "API").await;
    file(
        store,
        "WEB",
        "NameNode crashes with NullPointerException on startup",
        "java.lang.NullPointerException at FSNamesystem.loadImage after upgrade",
    )
    .await;
    file(
        store,
        "WEB",
        "Login page slow",
        "Takes ten seconds to render",
    )
    .await;
    file(
        store,
        "WEB",
        "NameNode fails to start: NullPointerException in FSNamesystem",
        "Startup throws java.lang.NullPointerException",
    )
    .await;
    file(
        store,
        "WEB",
        "Typo in the readme",
        "Wording of the install guide",
    )
    .await;
    file(
        store,
        "API",
        "NullPointerException when the NameNode starts",
        "FSNamesystem again",
    )
    .await;
}

fn options(scope: ProjectScope) -> SimilarOptions {
    SimilarOptions::new(scope, 10)
}

fn web() -> ProjectScope {
    ProjectScope::Only(vec!["WEB".into()])
}

async fn similar(store: &Store, id: &str, options: &SimilarOptions) -> Vec<String> {
    let issue_ref = IssueRef::parse(id).unwrap();
    let found = store.similar_issues(&issue_ref, options).await.unwrap();
    for pair in found.windows(2) {
        assert!(pair[0].score >= pair[1].score, "best first: {found:?}");
    }
    found.into_iter().map(|s| s.id).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

async fn an_issue_finds_its_look_alikes_and_never_itself(store: Store) {
    corpus(&store).await;
    let found = similar(&store, "WEB-3", &options(web())).await;
    assert_eq!(
        found.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["WEB-1"])
    );
    let found = similar(&store, "WEB-1", &options(ProjectScope::All)).await;
    assert_eq!(
        found.iter().cloned().collect::<BTreeSet<_>>(),
        set(&["WEB-3", "API-1"])
    );
    let issue = store
        .similar_issues(&IssueRef::parse("WEB-1").unwrap(), &options(web()))
        .await
        .unwrap();
    assert_eq!(
        issue[0].title,
        "NameNode fails to start: NullPointerException in FSNamesystem"
    );
    assert_eq!(issue[0].status, moth_core::Status::New);
    assert!(issue[0].score > 0.0);
}

async fn filed_before_keeps_only_older_issues(store: Store) {
    corpus(&store).await;
    let mut older = options(ProjectScope::All);
    older.filed_before = true;
    assert!(similar(&store, "WEB-1", &older).await.is_empty());
    assert_eq!(similar(&store, "WEB-3", &older).await, ["WEB-1"]);
    let found: BTreeSet<String> = similar(&store, "API-1", &older).await.into_iter().collect();
    assert_eq!(found, set(&["WEB-1", "WEB-3"]));
}

async fn only_projects_in_scope_are_suggested(store: Store) {
    corpus(&store).await;
    let api = ProjectScope::Only(vec!["API".into()]);
    assert_eq!(similar(&store, "WEB-1", &options(api)).await, ["API-1"]);
    let nowhere = ProjectScope::Only(vec![]);
    assert!(similar(&store, "WEB-1", &options(nowhere)).await.is_empty());
}

async fn unfiled_text_finds_issues_by_title_words(store: Store) {
    corpus(&store).await;
    let text = SimilarText {
        title: "NullPointerException in the namenode".into(),
        ..Default::default()
    };
    let found: BTreeSet<String> = store
        .similar_to_text(&text, &options(web()))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(found, set(&["WEB-1", "WEB-3"]));
    let readme = SimilarText {
        title: "readme typo".into(),
        ..Default::default()
    };
    let found = store
        .similar_to_text(&readme, &options(web()))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].id, "WEB-4");
}

async fn plain_ranking_finds_the_same_issues(store: Store) {
    corpus(&store).await;
    let mut plain = options(web());
    plain.ranking = SimilarRanking::Plain;
    // Plain keeps stop words, which FTS5 matches and PostgreSQL drops: only the best is shared.
    assert_eq!(similar(&store, "WEB-3", &plain).await[0], "WEB-1");
}

async fn limits_unknown_issues_and_hostile_text(store: Store) {
    corpus(&store).await;
    let mut one = options(ProjectScope::All);
    one.limit = 1;
    assert_eq!(similar(&store, "WEB-1", &one).await.len(), 1);
    let missing = store
        .similar_issues(&IssueRef::parse("WEB-99").unwrap(), &one)
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    for hostile in [
        "\"a\" OR NEAR(b c) {title}: x*",
        "a & b | !c <-> d:* 'e'",
        "the of and",
        "",
        "\u{0}\u{2} ünïcödé 漢字 😀",
    ] {
        let text = SimilarText {
            title: hostile.into(),
            description: hostile.into(),
            component: None,
        };
        for ranking in [SimilarRanking::Moth, SimilarRanking::Plain] {
            let mut options = options(ProjectScope::All);
            options.ranking = ranking;
            store
                .similar_to_text(&text, &options)
                .await
                .unwrap_or_else(|e| panic!("{hostile:?}: {e}"));
        }
    }
}

fn text(title: &str) -> SimilarText {
    SimilarText {
        title: title.into(),
        ..Default::default()
    }
}

async fn ids_for(store: &Store, title: &str) -> Vec<String> {
    store
        .similar_to_text(&text(title), &options(web()))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

async fn common_words_are_not_looked_for_and_new_words_are_found_at_once(store: Store) {
    project(&store, "WEB").await;
    // More issues hold "checkout" and "timeout" than a word is counted to.
    let common = moth_core::similar::COMMON_WORD_ISSUES as usize + 20;
    let issues: Vec<moth_store::ImportedIssue> = (0..common)
        .map(|i| moth_store::ImportedIssue {
            issue_type: moth_core::IssueType::Bug,
            title: format!("Checkout timeout number {i}"),
            description: "The checkout page hits a timeout".into(),
            status: moth_core::Status::New,
            resolution: None,
            severity: None,
            priority: moth_core::Priority::None,
            fixed_in_version: None,
            created_at: 1_000 + i as i64,
            updated_at: 1_000 + i as i64,
        })
        .collect();
    store.import_issues("WEB", &issues).await.unwrap();
    let rare = file(
        &store,
        "WEB",
        "Checkout timeout with the zebrafish plugin",
        "",
    )
    .await;
    // The rare word decides; the common ones are not asked for.
    let found = ids_for(&store, "checkout timeout zebrafish").await;
    assert_eq!(found.first(), Some(&rare), "{found:?}");
    // Only common words: the newest issues holding them.
    let found = ids_for(&store, "checkout timeout").await;
    assert_eq!(found.len(), 10);
    let newest = common as i64 + 1 - moth_store::SIMILAR_CANDIDATES;
    for id in &found {
        let number: i64 = id.trim_start_matches("WEB-").parse().unwrap();
        assert!(number > newest, "{found:?}");
    }
    // A word no issue holds yet is found as soon as one does (its count of 0 is not kept).
    assert!(ids_for(&store, "wombat").await.is_empty());
    let wombat = file(&store, "WEB", "Wombat crash", "").await;
    assert_eq!(ids_for(&store, "wombat").await, [wombat]);
}
