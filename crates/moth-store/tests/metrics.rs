//! Quality figures and the stakeholder overview on known data, on SQLite and PostgreSQL.

use moth_core::metrics::MetricsWindow;
use moth_core::{
    IssueChange, IssueChangeInput, IssueDraftInput, IssueRef, IssueType, Name, NewIssue,
    ProjectKey, ProjectRules,
};
use moth_store::testing::TestDatabase;
use moth_store::{Actor, NewProject, Store};
use time::OffsetDateTime;
use time::macros::datetime;

/// Runs a test body with the store and its database (for back-dating rows) on both databases.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, db) = moth_store::testing::sqlite().await;
                    super::$name(store, db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some((store, db)) = moth_store::testing::postgres().await {
                        super::$name(store, db).await;
                    }
                }
            )*
        }
    };
}

on_both!(
    figures_count_known_data,
    the_overview_shows_broken_fixed_and_next,
    unknown_projects_are_not_found,
    an_empty_project_has_every_week_and_zeros,
    a_window_inside_weeks_counts_only_what_falls_in_it,
    figures_follow_changes_made_just_now,
);

/// Runs one statement on the test database directly: the store stamps times with "now", and
/// these tests need issues filed and resolved on known days.
async fn exec(db: &TestDatabase, sql: &str) {
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }
}

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1000) as i64
}

async fn backdate(
    db: &TestDatabase,
    number: i64,
    created: OffsetDateTime,
    resolved: Option<OffsetDateTime>,
) {
    let resolved = resolved.map_or("resolved_at".to_string(), |r| micros(r).to_string());
    exec(
        db,
        &format!(
            "update issues set created_at = {}, resolved_at = {resolved} where number = {number}",
            micros(created)
        ),
    )
    .await;
}

async fn file(store: &Store, issue_type: &str, severity: Option<&str>, title: &str) -> i64 {
    let input = IssueDraftInput {
        issue_type: issue_type.into(),
        title: title.into(),
        severity: severity.map(str::to_string),
        ..Default::default()
    };
    let new = NewIssue::parse(&input, &ProjectRules::default()).unwrap();
    store.create_issue("WEB", new, None).await.unwrap().number
}

async fn apply(store: &Store, number: i64, json: serde_json::Value) {
    let input: IssueChangeInput = serde_json::from_value(json).unwrap();
    let change = IssueChange::parse(&input).unwrap();
    let issue = IssueRef::parse(&format!("WEB-{number}")).unwrap();
    store
        .update_issue(&issue, change, Actor::SYSTEM)
        .await
        .unwrap();
}

async fn project(store: &Store) {
    store
        .create_project(
            NewProject {
                key: ProjectKey::parse("WEB").unwrap(),
                name: Name::parse("name", "Web shop").unwrap(),
                intake_key: "intake-web".into(),
            },
            Actor::SYSTEM,
        )
        .await
        .unwrap();
}

/// Nine issues across three ISO weeks (2026-W45..W47) and one from before the window.
async fn known_data(store: &Store, db: &TestDatabase) {
    project(store).await;
    let fixed = serde_json::json!({"status": "resolved", "resolution": "fixed"});
    let n1 = file(store, "bug", Some("critical"), "Checkout crashes").await;
    apply(store, n1, fixed.clone()).await;
    backdate(
        db,
        n1,
        datetime!(2026-11-03 10:00 UTC),
        Some(datetime!(2026-11-04 10:00 UTC)),
    )
    .await;
    let n2 = file(store, "bug", Some("critical"), "Login loops").await;
    apply(store, n2, fixed.clone()).await;
    backdate(
        db,
        n2,
        datetime!(2026-11-10 08:00 UTC),
        Some(datetime!(2026-11-12 08:00 UTC)),
    )
    .await;
    let n3 = file(store, "bug", Some("major"), "Totals off by one").await;
    backdate(db, n3, datetime!(2026-11-17 09:00 UTC), None).await;
    let n4 = file(store, "performance", Some("minor"), "Search is slow").await;
    backdate(db, n4, datetime!(2026-11-18 09:00 UTC), None).await;
    let n5 = file(store, "bug", None, "Old untriaged bug").await;
    backdate(db, n5, datetime!(2026-10-01 09:00 UTC), None).await;
    let n6 = file(store, "feature", None, "Dark mode").await;
    apply(
        store,
        n6,
        serde_json::json!({"status": "resolved", "resolution": "done"}),
    )
    .await;
    backdate(
        db,
        n6,
        datetime!(2026-11-04 09:00 UTC),
        Some(datetime!(2026-11-20 09:00 UTC)),
    )
    .await;
    let n7 = file(store, "task", None, "Rotate keys").await;
    backdate(db, n7, datetime!(2026-11-09 09:00 UTC), None).await;
    let n8 = file(store, "bug", Some("major"), "Cart empties").await;
    apply(store, n8, fixed.clone()).await;
    apply(store, n8, serde_json::json!({"status": "triaged"})).await;
    backdate(db, n8, datetime!(2026-11-05 09:00 UTC), None).await;
    let n9 = file(store, "bug", Some("minor"), "Typo is fine").await;
    apply(
        store,
        n9,
        serde_json::json!({"status": "resolved", "resolution": "wont_fix"}),
    )
    .await;
    backdate(
        db,
        n9,
        datetime!(2026-11-06 09:00 UTC),
        Some(datetime!(2026-11-06 10:00 UTC)),
    )
    .await;
    exec(
        db,
        "update issues set regression = true, affects_version = '2.10.0' where number = 8",
    )
    .await;
    exec(
        db,
        "update issues set regression = true, affects_version = '2.9.1' where number = 5",
    )
    .await;
    for (number, version) in [
        (1, "2.9.1"),
        (6, "2.10.0"),
        (3, "2.11.0"),
        (7, "3.0.0"),
        (4, "2.10.0"),
    ] {
        exec(
            db,
            &format!("update issues set fixed_in_version = '{version}' where number = {number}"),
        )
        .await;
    }
}

/// Each week as (week, bugs filed, bugs resolved, other filed, other resolved).
fn week_rows(m: &moth_core::metrics::ProjectMetrics) -> Vec<(&str, i64, i64, i64, i64)> {
    m.weekly
        .iter()
        .map(|w| {
            let week = w.week.as_str();
            (
                week,
                w.created_bugs,
                w.resolved_bugs,
                w.created_other,
                w.resolved_other,
            )
        })
        .collect()
}

async fn figures_count_known_data(store: Store, db: TestDatabase) {
    known_data(&store, &db).await;
    let now = datetime!(2026-11-25 12:00 UTC);
    let window = MetricsWindow::parse(Some("2026-11-02"), Some("2026-11-22"), now).unwrap();
    let m = store.project_metrics("WEB", &window).await.unwrap();

    assert_eq!(m.created_by_type[&IssueType::Bug], 5);
    assert_eq!(m.created_by_type[&IssueType::Performance], 1);
    assert_eq!(m.created_by_type[&IssueType::Feature], 1);
    assert_eq!(m.created_by_type[&IssueType::Task], 1);
    assert_eq!(m.created_by_type[&IssueType::Docs], 0);

    assert_eq!(m.open_by_type[&IssueType::Bug], 3);
    assert_eq!(m.open_by_type[&IssueType::Performance], 1);
    assert_eq!(m.open_by_type[&IssueType::Task], 1);
    assert_eq!(m.open_by_type[&IssueType::Feature], 0);

    let sev = &m.open_bugs_by_severity;
    assert_eq!(
        (
            sev["critical"],
            sev["major"],
            sev["minor"],
            sev["trivial"],
            sev["unset"]
        ),
        (0, 2, 1, 0, 1)
    );

    assert_eq!(
        week_rows(&m),
        vec![
            ("2026-W45", 3, 2, 1, 0),
            ("2026-W46", 1, 1, 1, 0),
            ("2026-W47", 2, 0, 0, 1)
        ]
    );

    let mttr = &m.mean_time_to_resolve_hours_by_severity;
    assert_eq!(mttr["critical"], Some(36.0));
    assert_eq!(mttr["major"], None);
    assert_eq!(mttr["minor"], None, "a declined bug is not a fix");
    assert_eq!(m.resolved_bugs_by_severity["critical"], 2);

    assert_eq!((m.reopened_bugs, m.ever_resolved_bugs), (1, 4));
    assert_eq!(m.reopen_rate, Some(0.25));

    let regressions: Vec<_> = m
        .regressions
        .iter()
        .map(|r| (r.version.as_deref(), r.count))
        .collect();
    assert_eq!(regressions, vec![(Some("2.9.1"), 1), (Some("2.10.0"), 1)]);
}

/// Whole weeks are read from the running tallies and the ends of a window that starts and ends
/// mid-week from the issues themselves: both halves must agree with the data.
async fn a_window_inside_weeks_counts_only_what_falls_in_it(store: Store, db: TestDatabase) {
    known_data(&store, &db).await;
    let now = datetime!(2026-11-25 12:00 UTC);
    // Wednesday 2026-11-04 00:00 to the end of Wednesday 2026-11-18.
    let window = MetricsWindow::parse(Some("2026-11-04"), Some("2026-11-18"), now).unwrap();
    let m = store.project_metrics("WEB", &window).await.unwrap();

    // WEB-1 was filed on the 3rd, before the window; WEB-6 resolved after it.
    assert_eq!(m.created_by_type[&IssueType::Bug], 4);
    assert_eq!(m.created_by_type[&IssueType::Performance], 1);
    assert_eq!(m.created_by_type[&IssueType::Feature], 1);
    assert_eq!(m.created_by_type[&IssueType::Task], 1);
    assert_eq!(
        week_rows(&m),
        vec![
            ("2026-W45", 2, 2, 1, 0),
            ("2026-W46", 1, 1, 1, 0),
            ("2026-W47", 2, 0, 0, 0)
        ]
    );
    assert_eq!(
        m.mean_time_to_resolve_hours_by_severity["critical"],
        Some(36.0)
    );
    assert_eq!(m.resolved_bugs_by_severity["critical"], 2);
    assert_eq!((m.reopened_bugs, m.ever_resolved_bugs), (1, 3));
    // Open counts are as of now, whatever the window.
    assert_eq!(m.open_by_type[&IssueType::Bug], 3);
}

/// A window that ends now reads its current week from the tallies, which every change keeps
/// up to date in its own transaction.
async fn figures_follow_changes_made_just_now(store: Store, _db: TestDatabase) {
    project(&store).await;
    let figures = |store: Store| async move {
        let window = MetricsWindow::parse(None, None, OffsetDateTime::now_utc()).unwrap();
        store.project_metrics("WEB", &window).await.unwrap()
    };
    let n = file(&store, "bug", Some("major"), "Checkout crashes").await;
    file(&store, "feature", None, "Dark mode").await;
    let m = figures(store.clone()).await;
    let this_week = m.weekly.last().unwrap();
    assert_eq!((this_week.created_bugs, this_week.created_other), (1, 1));
    assert_eq!(m.open_bugs_by_severity["major"], 1);

    apply(
        &store,
        n,
        serde_json::json!({"status": "resolved", "resolution": "fixed"}),
    )
    .await;
    let m = figures(store.clone()).await;
    assert_eq!(m.weekly.last().unwrap().resolved_bugs, 1);
    assert_eq!(m.open_bugs_by_severity["major"], 0);
    assert_eq!(m.open_by_type[&IssueType::Bug], 0);
    assert_eq!(m.resolved_bugs_by_severity["major"], 1);

    apply(&store, n, serde_json::json!({"status": "triaged"})).await;
    apply(&store, n, serde_json::json!({"severity": "critical"})).await;
    let m = figures(store.clone()).await;
    assert_eq!(
        m.weekly.last().unwrap().resolved_bugs,
        0,
        "reopening takes the fix back"
    );
    assert_eq!((m.reopened_bugs, m.ever_resolved_bugs), (1, 1));
    assert_eq!(
        (
            m.open_bugs_by_severity["major"],
            m.open_bugs_by_severity["critical"]
        ),
        (0, 1)
    );
}

async fn the_overview_shows_broken_fixed_and_next(store: Store, db: TestDatabase) {
    known_data(&store, &db).await;
    let overview = store
        .project_overview("WEB", datetime!(2026-11-21 12:00 UTC))
        .await
        .unwrap();
    let ids = |list: &[moth_core::metrics::IssueHeadline]| {
        list.iter().map(|h| h.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&overview.broken), vec!["WEB-3", "WEB-8"]);
    assert_eq!((overview.open_critical, overview.open_major), (0, 2));
    assert_eq!(overview.broken[0].title, "Totals off by one");
    assert_eq!(ids(&overview.recently_fixed), vec!["WEB-6", "WEB-2"]);
    assert_eq!(overview.next_release.as_deref(), Some("2.11.0"));
    assert_eq!(ids(&overview.planned), vec!["WEB-3"]);
}

async fn unknown_projects_are_not_found(store: Store, _db: TestDatabase) {
    let window = MetricsWindow::parse(None, None, OffsetDateTime::now_utc()).unwrap();
    assert!(matches!(
        store.project_metrics("NOPE", &window).await,
        Err(moth_store::StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .project_overview("NOPE", OffsetDateTime::now_utc())
            .await,
        Err(moth_store::StoreError::NotFound(_))
    ));
}

async fn an_empty_project_has_every_week_and_zeros(store: Store, _db: TestDatabase) {
    project(&store).await;
    let window = MetricsWindow::parse(None, None, OffsetDateTime::now_utc()).unwrap();
    let m = store.project_metrics("WEB", &window).await.unwrap();
    assert_eq!(m.weekly.len(), 12);
    assert!(m.weekly.iter().all(|w| w.created_bugs
        + w.resolved_bugs
        + w.created_other
        + w.resolved_other
        == 0));
    assert_eq!(m.reopen_rate, None);
    assert!(m.regressions.is_empty());
    let overview = store
        .project_overview("WEB", OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert!(overview.broken.is_empty() && overview.next_release.is_none());
}
