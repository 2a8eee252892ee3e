//! Fresh databases for tests: a SQLite file in a temp dir, and a PostgreSQL database of its own
//! on the server named by `MOTH_TEST_DATABASE_URL`.

use crate::Store;
use rand::Rng;
use sqlx::Connection;

/// Keeps a test database alive (its temp dir) for as long as the test holds it.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// A migrated store on a new SQLite file.
pub async fn sqlite() -> (Store, TestDatabase) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("moth.db").display());
    let store = Store::connect(&url).await.expect("sqlite store");
    (
        store,
        TestDatabase {
            url,
            _dir: Some(dir),
        },
    )
}

/// A migrated store on a new PostgreSQL database, or `None` (said on stderr) when no server
/// is configured. With `MOTH_TEST_REQUIRE_POSTGRES=1` (as in CI) a missing server fails.
pub async fn postgres() -> Option<(Store, TestDatabase)> {
    let Ok(admin_url) = std::env::var("MOTH_TEST_DATABASE_URL") else {
        if std::env::var("MOTH_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
            panic!("MOTH_TEST_REQUIRE_POSTGRES=1 but MOTH_TEST_DATABASE_URL is not set");
        }
        eprintln!(
            "skipped: PostgreSQL half of this test (set MOTH_TEST_DATABASE_URL, or run bash .ci/run)"
        );
        return None;
    };
    let name = format!("moth_test_{:016x}", rand::thread_rng().r#gen::<u64>());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach MOTH_TEST_DATABASE_URL: {e}"));
    sqlx::query(&format!("create database {name}"))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let url = match admin_url.rfind('/') {
        Some(slash)
            if admin_url[..slash].contains("//")
                && slash > admin_url.find("//").unwrap_or(0) + 1 =>
        {
            let query = admin_url[slash..]
                .find('?')
                .map(|q| &admin_url[slash + q..])
                .unwrap_or("");
            format!("{}/{name}{query}", &admin_url[..slash])
        }
        _ => format!("{admin_url}/{name}"),
    };
    let store = Store::connect(&url).await.expect("postgres store");
    Some((store, TestDatabase { url, _dir: None }))
}

/// Runs an async test body against SQLite and, when available, PostgreSQL.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let (store, _db) = $crate::testing::sqlite().await;
                    super::$name(store).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some((store, _db)) = $crate::testing::postgres().await {
                        super::$name(store).await;
                    }
                }
            )*
        }
    };
}
