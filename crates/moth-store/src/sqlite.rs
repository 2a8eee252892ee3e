//! The embedded SQLite store: WAL, one writer connection, a pool of readers.

use crate::error::StoreResult;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;

/// Moth's data in one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at a `sqlite:` URL.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .pragma("temp_store", "memory")
            .pragma("cache_size", "-32768")
            // Fewer, larger checkpoints: each one waits for the disk twice.
            .pragma("wal_autocheckpoint", "16384");
        // One writer: SQLite allows one at a time, and a queue in the pool beats lock retries.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// `begin immediate` takes the write lock up front, so a transaction never fails to upgrade.
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.writer.begin_with("begin immediate").await?)
    }

    /// The writer holds the database lock already.
    async fn lock_users(_tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> StoreResult<()> {
        Ok(())
    }

    /// One writer at a time: events are appended in commit order already.
    async fn serialize_event_appends(
        _tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    ) -> StoreResult<()> {
        Ok(())
    }

    const LOCK_ISSUE_ROW: &'static str = "";

    /// Closes both pools, finishing the queries in flight.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite);
