//! Fresh databases for tests: a SQLite file in a temp dir, and a PostgreSQL database of its own
//! on the server named by `MOTH_TEST_DATABASE_URL`.

use crate::Store;
use rand::Rng;
use sqlx::Connection;

/// Keeps a test database alive (its temp dir) for as long as the test holds it.
pub struct TestDatabase {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// For PostgreSQL: the server's admin URL and the database to drop afterwards.
    dropper: Option<(String, String)>,
}

impl Drop for TestDatabase {
    /// Drops a PostgreSQL test database so runs do not fill the disk.
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.dropper.take() else {
            return;
        };
        // Drop cannot be async; a small runtime on its own thread does the work.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                sqlx::query(&format!("drop database if exists {name} with (force)"))
                    .execute(&mut admin)
                    .await
                    .ok()
            })
        })
        .join();
    }
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
            dropper: None,
        },
    )
}

/// A migrated store on a new PostgreSQL database, or `None` (said on stderr) when no server
/// can be had. The server is `MOTH_TEST_DATABASE_URL`, or else a throwaway cluster this harness
/// starts from the installed PostgreSQL. With `MOTH_TEST_REQUIRE_POSTGRES=1` (as in CI) a
/// missing server fails the test instead.
pub async fn postgres() -> Option<(Store, TestDatabase)> {
    let admin_url = match std::env::var("MOTH_TEST_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => match local_cluster() {
            Ok(url) => url,
            Err(why) => {
                if std::env::var("MOTH_TEST_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!("MOTH_TEST_REQUIRE_POSTGRES=1 but no PostgreSQL: {why}");
                }
                eprintln!(
                    "skipped: PostgreSQL half of this test ({why}; set MOTH_TEST_DATABASE_URL)"
                );
                return None;
            }
        },
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
    Some((
        store,
        TestDatabase {
            url,
            _dir: None,
            dropper: Some((admin_url, name)),
        },
    ))
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

/// Port of the throwaway test cluster.
const LOCAL_PORT: u16 = 54329;

/// Starts (once, and reuses across runs) a PostgreSQL cluster in the temp dir for tests.
fn local_cluster() -> Result<String, String> {
    static URL: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    URL.get_or_init(start_local_cluster).clone()
}

fn start_local_cluster() -> Result<String, String> {
    let bin = postgres_bin_dir()
        .ok_or("no PostgreSQL server is installed (initdb and pg_ctl not found)")?;
    let dir = std::env::temp_dir().join("moth-test-postgres");
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    // PostgreSQL refuses to run as root; the `postgres` account runs it instead.
    let run = |program: &str, args: &[&str]| -> Result<std::process::Output, String> {
        let path = bin.join(program);
        let mut command = if as_root {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&path);
            c
        } else {
            std::process::Command::new(&path)
        };
        command
            .args(args)
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))
    };
    let _lock = DirLock::acquire(&dir.with_extension("lock"));
    let data = dir.display().to_string();
    if !dir.join("PG_VERSION").exists() {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        if as_root {
            std::process::Command::new("chown")
                .args(["postgres:postgres", &data])
                .status()
                .map_err(|e| e.to_string())?;
        }
        let init = run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "moth_test",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        if !init.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&init.stderr)
            ));
        }
    }
    if !run("pg_ctl", &["status", "-D", &data])?.status.success() {
        let options = format!(
            "-p {LOCAL_PORT} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        );
        let log = format!("{data}/server.log");
        let start = run(
            "pg_ctl",
            &["start", "-w", "-D", &data, "-l", &log, "-o", &options],
        )?;
        if !start.status.success() {
            return Err(format!(
                "pg_ctl start failed: {}",
                String::from_utf8_lossy(&start.stderr)
            ));
        }
        eprintln!(
            "started a throwaway PostgreSQL for tests in {data} (stop it with pg_ctl stop -D {data})"
        );
    }
    Ok(format!(
        "postgres://moth_test@127.0.0.1:{LOCAL_PORT}/postgres"
    ))
}

/// The newest installed PostgreSQL's programs.
fn postgres_bin_dir() -> Option<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|v| v.parse::<u32>().ok())
                .map(|v| (v, e.path().join("bin")))
        })
        .filter(|(_, bin)| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    dirs.sort_by_key(|(version, _)| *version);
    dirs.pop().map(|(_, bin)| bin)
}

/// A lock between test processes that may start the cluster at the same time.
struct DirLock(std::path::PathBuf);

impl DirLock {
    fn acquire(path: &std::path::Path) -> Self {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::fs::create_dir(path).is_err() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        DirLock(path.to_path_buf())
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}
