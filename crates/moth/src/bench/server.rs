//! A throwaway Moth for the benchmark: a fresh database, an admin with an API token, and the
//! HTTP app listening on 127.0.0.1 until it is stopped.

use anyhow::{Context, anyhow, bail};
use moth_core::Role;
use moth_server::{AppState, ServerConfig};
use moth_store::{AttachmentFiles, NewUser, Store};
use rand::Rng;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A database the benchmark can run on.
pub enum Database {
    /// A new SQLite file in a temp dir.
    Sqlite,
    /// A PostgreSQL server on which the benchmark may create and drop databases.
    Postgres { server_url: String },
}

impl Database {
    /// Reads a `--databases` entry; PostgreSQL needs the server URL.
    pub fn parse(name: &str, postgres_url: Option<&str>) -> anyhow::Result<Self> {
        match name.trim() {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => {
                let url = postgres_url.ok_or_else(|| {
                    anyhow!("benchmarking postgres needs --postgres-url or MOTH_BENCH_POSTGRES_URL, e.g. postgres://user:password@127.0.0.1:5432/postgres")
                })?;
                Ok(Self::Postgres {
                    server_url: url.to_string(),
                })
            }
            other => bail!("unknown database {other:?} in --databases; use sqlite, postgres"),
        }
    }

    /// The name shown in the table.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres { .. } => "postgres",
        }
    }
}

/// A running Moth on a fresh database.
pub struct BenchServer {
    /// Where the server listens, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    /// An admin's API token.
    pub token: String,
    /// The same admin's e-mail and password, to sign in to the pages like a browser.
    pub admin_login: (String, String),
    store: Store,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    scratch: Option<ScratchDatabase>,
    _dir: tempfile::TempDir,
}

/// A PostgreSQL database made for one run, dropped at the end.
struct ScratchDatabase {
    server_url: String,
    name: String,
}

impl BenchServer {
    /// Creates the database, the admin and token, and starts serving.
    pub async fn start(database: &Database) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("cannot create a temp dir")?;
        let (url, scratch) = match database {
            Database::Sqlite => {
                let url = format!("sqlite:{}", dir.path().join("moth.db").display());
                (url, None)
            }
            Database::Postgres { server_url } => {
                let scratch = ScratchDatabase::create(server_url).await?;
                (scratch.url()?, Some(scratch))
            }
        };
        match Self::launch(&url, dir).await {
            Ok(server) => Ok(Self { scratch, ..server }),
            Err(error) => {
                if let Some(scratch) = &scratch {
                    scratch.drop_best_effort().await;
                }
                Err(error.context(format!("cannot start Moth on {}", database.name())))
            }
        }
    }

    /// Opens the store at `url`, seeds the admin and serves on an unused loopback port.
    async fn launch(url: &str, dir: tempfile::TempDir) -> anyhow::Result<Self> {
        let store = Store::connect(url)
            .await
            .context("cannot open the database")?;
        let (token, admin_login) = create_admin_token(&store).await?;
        let files = AttachmentFiles::local(&dir.path().join("attachments"))
            .context("cannot make the attachments dir")?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on 127.0.0.1")?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let mut config = ServerConfig::new(&base_url);
        // One client sends thousands of reports: the limits meant for floods would time those.
        let unlimited = moth_server::ratelimit::Rate {
            per_second: 1_000_000,
            burst: 1_000_000,
        };
        config.intake.rates = moth_server::ratelimit::IntakeRates {
            per_key: unlimited,
            per_address: unlimited,
        };
        let state = AppState::new(store.clone(), files, config);
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(moth_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Ok(Self {
            base_url,
            token,
            admin_login,
            store,
            shutdown,
            task,
            scratch: None,
            _dir: dir,
        })
    }

    /// The store the server runs on, for work that bypasses HTTP (bulk seeding).
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops the server, closes the store and drops a PostgreSQL scratch database; problems
    /// are reported on stderr, not returned, so they never hide the benchmark's own error.
    pub async fn stop(self) {
        let _ = self.shutdown.send(());
        match self.task.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!("warning: the server stopped with an error: {error}"),
            Err(error) => eprintln!("warning: the server task failed: {error}"),
        }
        self.store.close().await;
        if let Some(scratch) = &self.scratch {
            scratch.drop_best_effort().await;
        }
    }
}

/// Makes an admin account directly in the store and returns a new API token of theirs, with
/// their e-mail and password.
async fn create_admin_token(store: &Store) -> anyhow::Result<(String, (String, String))> {
    let (password, _) = moth_server::auth::new_secret("pw");
    let password_hash = moth_server::auth::hash_password(&password)
        .await
        .map_err(|e| anyhow!("cannot hash a password: {e:?}"))?;
    let email = "bench@moth.invalid".to_string();
    let admin = NewUser {
        email: email.clone(),
        name: "Benchmark".to_string(),
        role: Role::Admin,
        password_hash: Some(password_hash),
    };
    let user = store
        .create_user(admin)
        .await
        .context("cannot create the admin")?;
    let (token, hash) = moth_server::auth::new_secret("moth");
    store
        .create_api_token(user.id, "bench", &hash, None)
        .await
        .context("cannot create the API token")?;
    Ok((token, (email, password)))
}

impl ScratchDatabase {
    /// Creates `moth_bench_<random hex>` on the server.
    async fn create(server_url: &str) -> anyhow::Result<Self> {
        let name = format!("moth_bench_{:016x}", rand::thread_rng().r#gen::<u64>());
        let mut admin = sqlx::PgConnection::connect(server_url)
            .await
            .context("cannot reach the PostgreSQL server of --postgres-url")?;
        sqlx::query(&format!("create database {name}"))
            .execute(&mut admin)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
        let _ = admin.close().await;
        Ok(Self {
            server_url: server_url.to_string(),
            name,
        })
    }

    /// The URL of the scratch database: the server URL with its database name replaced.
    fn url(&self) -> anyhow::Result<String> {
        with_database(&self.server_url, &self.name)
    }

    async fn drop_best_effort(&self) {
        if let Err(error) = self.drop_database().await {
            eprintln!(
                "warning: could not drop database {} ({error:#}); drop it by hand",
                self.name
            );
        }
    }

    async fn drop_database(&self) -> anyhow::Result<()> {
        let mut admin = sqlx::PgConnection::connect(&self.server_url).await?;
        sqlx::query(&format!(
            "drop database if exists {} with (force)",
            self.name
        ))
        .execute(&mut admin)
        .await?;
        let _ = admin.close().await;
        Ok(())
    }
}

/// Replaces the database (path) of a `postgres://` URL, keeping its query string.
fn with_database(server_url: &str, database: &str) -> anyhow::Result<String> {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base
        .find("://")
        .map(|i| i + 3)
        .context("the PostgreSQL URL must look like postgres://user:password@host:port/db")?;
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |i| authority_start + i);
    let mut url = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced() {
        let cases = [
            (
                "postgres://u:p@127.0.0.1:5432/postgres",
                "postgres://u:p@127.0.0.1:5432/b",
            ),
            (
                "postgres://u:p@host/postgres?sslmode=disable",
                "postgres://u:p@host/b?sslmode=disable",
            ),
            ("postgresql://host:5432", "postgresql://host:5432/b"),
            (
                "postgres://host/?application_name=x",
                "postgres://host/b?application_name=x",
            ),
        ];
        for (server, expected) in cases {
            assert_eq!(with_database(server, "b").unwrap(), expected);
        }
        assert!(with_database("not a url", "b").is_err());
    }

    #[test]
    fn databases_are_named_and_postgres_needs_a_url() {
        assert_eq!(Database::parse("sqlite", None).unwrap().name(), "sqlite");
        assert!(Database::parse("postgres", None).is_err());
        assert!(Database::parse("postgres", Some("postgres://h/db")).is_ok());
        assert!(Database::parse("mysql", None).is_err());
    }
}
