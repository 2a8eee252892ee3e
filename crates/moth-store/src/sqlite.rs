//! The embedded SQLite store: WAL, one writer connection, a pool of readers.

use crate::error::StoreResult;
use crate::group_commit::GroupCommit;
use crate::models::{IssueFiling, ReportFiling, ReportReceipt};
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
    checkpointer: SqlitePool,
    /// Issues filed at the same moment share a transaction.
    filings: std::sync::Arc<GroupCommit<IssueFiling, moth_core::Issue>>,
    /// Captured reports arriving at the same moment share a transaction.
    report_filings: std::sync::Arc<GroupCommit<ReportFiling, ReportReceipt>>,
    /// How many issues hold each word, for similar issues' choice of words.
    word_counts: std::sync::Arc<crate::similar::WordCounts>,
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
            // Checkpoints (which wait for the disk) run on their own connection, not the writer's.
            .pragma("wal_autocheckpoint", "0");
        // One writer: SQLite allows one at a time, and a queue in the pool beats lock retries.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Its only connection goes from one write to the next; a ping before each (a round
            // trip through sqlx's worker thread) would wait in the one queue every write takes.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().read_only(true))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        tokio::spawn(checkpoint_until_closed(checkpointer.clone()));
        Ok(Self {
            writer,
            reader,
            checkpointer,
            filings: std::sync::Arc::new(GroupCommit::new()),
            report_filings: std::sync::Arc::new(GroupCommit::new()),
            word_counts: Default::default(),
        })
    }

    /// Brings the database to where a server is a minute after a bulk import (benchmarks):
    /// the WAL copied back into the database and emptied, as the background checkpointer does
    /// once writes pause. SQLite plans without statistics, as Moth never runs `analyze` there.
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        sqlx::query("pragma wal_checkpoint(truncate)")
            .execute(&self.checkpointer)
            .await?;
        Ok(())
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

    /// Rebuilds an issue's indexed comments and captured messages from scratch, after reports
    /// moved to or from it (a merge); filing only ever appends.
    async fn rebuild_search_text(
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        issue: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "update issue_search set extra = (select extra from issue_search_extra where issue_id = $1) \
             where rowid = $1",
        )
        .bind(issue)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The writer is alone: two reports of one problem are matched one after the other.
    async fn lock_fingerprint(
        _tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        _hash: &str,
    ) -> StoreResult<()> {
        Ok(())
    }

    /// Closes both pools, finishing the queries in flight.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
        self.checkpointer.close().await;
    }
}

/// Copies the WAL back into the database every half second, off the writer's path; a passive
/// checkpoint never blocks readers or the writer.
async fn checkpoint_until_closed(pool: SqlitePool) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    while !pool.is_closed() {
        tick.tick().await;
        if let Err(error) = sqlx::query("pragma wal_checkpoint(passive)")
            .execute(&pool)
            .await
        {
            if pool.is_closed() {
                break;
            }
            tracing::warn!(%error, "WAL checkpoint failed");
        }
    }
}

crate::sql::sql_store!(SqliteStore, sqlx::Sqlite);
crate::triage::triage_queries!(SqliteStore, sqlx::Sqlite);
crate::intake::intake_queries!(SqliteStore, sqlx::Sqlite);
crate::people::people_queries!(SqliteStore, sqlx::Sqlite);
crate::releases::release_queries!(SqliteStore, sqlx::Sqlite);
crate::views::view_queries!(SqliteStore, sqlx::Sqlite);
crate::links::link_queries!(SqliteStore, sqlx::Sqlite);
crate::merge::merge_queries!(SqliteStore, sqlx::Sqlite);
crate::metrics::metrics_store!(SqliteStore, sqlx::sqlite::SqliteRow);
crate::search::search_store!(SqliteStore, sqlx::Sqlite, Sqlite);
crate::similar::similar_queries!(SqliteStore, sqlx::Sqlite, Sqlite);
