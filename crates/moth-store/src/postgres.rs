//! The PostgreSQL store, for teams that run several Moth nodes on one database.

use crate::error::StoreResult;
use crate::group_commit::GroupCommit;
use crate::models::{IssueFiling, ReportFiling, ReportReceipt};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Advisory lock key that serializes event appends (see `serialize_event_appends`).
const EVENT_APPEND_LOCK: i64 = 0x6d6f_7468_0001;
/// Advisory lock key that serializes first-run admin creation.
const FIRST_USER_LOCK: i64 = 0x6d6f_7468_0002;

/// Moth's data in a PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Issues filed at the same moment share a transaction.
    filings: std::sync::Arc<GroupCommit<IssueFiling, moth_core::Issue>>,
    /// Captured reports arriving at the same moment share a transaction.
    report_filings: std::sync::Arc<GroupCommit<ReportFiling, ReportReceipt>>,
    /// How many issues hold each word, for similar issues' choice of words.
    word_counts: std::sync::Arc<crate::similar::WordCounts>,
}

impl PgStore {
    /// Connects to a `postgres://` URL and migrates; sqlx's migrator takes a lock, so nodes
    /// that start together migrate once.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)?.application_name("moth");
        // One direct connection first, so an unreachable server or a bad password is reported
        // as such instead of as a pool timeout.
        sqlx::PgConnection::connect_with(&options)
            .await?
            .close()
            .await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(Self {
            pool,
            filings: std::sync::Arc::new(GroupCommit::new()),
            report_filings: std::sync::Arc::new(GroupCommit::new()),
            word_counts: Default::default(),
        })
    }

    /// Refreshes the planner's statistics, as autovacuum does within a minute of a bulk
    /// import (benchmarks).
    pub async fn refresh_statistics(&self) -> StoreResult<()> {
        sqlx::query("analyze").execute(&self.pool).await?;
        Ok(())
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    /// A write transaction, holding the event log's lock from its first statement: writes to
    /// the running counts (`issue_tallies`, `search_words`) upsert rows every writer shares,
    /// in an order that depends on the data, so two writers each holding one could wait on
    /// each other until PostgreSQL aborts one as a deadlock. One writer at a time cannot
    /// deadlock, and costs little more than before: every write already held this lock from its
    /// event append through its commit's flush, and issues and reports arriving together are
    /// written as one batch (`GroupCommit`).
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.pool.begin().await?;
        Self::serialize_event_appends(&mut tx).await?;
        Ok(tx)
    }

    /// Rebuilds an issue's indexed comments and captured messages from scratch, after reports
    /// moved to or from it (a merge); filing only ever appends.
    async fn rebuild_search_text(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        issue: i64,
    ) -> StoreResult<()> {
        sqlx::query("update issues set search_extra = moth_search_extra($1) where id = $1")
            .bind(issue)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn lock_users(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> StoreResult<()> {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(FIRST_USER_LOCK)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Identity values are taken in one order and may commit in another, so a reader tailing
    /// "id > last seen" could skip an event for good. Holding this lock from taking the id
    /// until commit makes ids visible in order. Write transactions take it when they begin
    /// (see `begin_write`); taking it again before the append changes nothing then, and keeps
    /// the order safe for any transaction begun otherwise.
    async fn serialize_event_appends(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    ) -> StoreResult<()> {
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(EVENT_APPEND_LOCK)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    const LOCK_ISSUE_ROW: &'static str = " for update of i";

    /// Serializes intake of reports with one match key, so two reports of one new problem
    /// arriving together file one issue, not two. The key is the hash's first 60 bits.
    async fn lock_fingerprint(
        tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
        hash: &str,
    ) -> StoreResult<()> {
        let key = i64::from_str_radix(hash.get(..15).unwrap_or(hash), 16).unwrap_or(0);
        sqlx::query("select pg_advisory_xact_lock($1)")
            .bind(key)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Closes the pool, finishing the queries in flight.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

crate::sql::sql_store!(PgStore, sqlx::Postgres);
crate::triage::triage_queries!(PgStore, sqlx::Postgres);
crate::intake::intake_queries!(PgStore, sqlx::Postgres);
crate::people::people_queries!(PgStore, sqlx::Postgres);
crate::releases::release_queries!(PgStore, sqlx::Postgres);
crate::views::view_queries!(PgStore, sqlx::Postgres);
crate::links::link_queries!(PgStore, sqlx::Postgres);
crate::merge::merge_queries!(PgStore, sqlx::Postgres);
crate::metrics::metrics_store!(PgStore, sqlx::postgres::PgRow);
crate::search::search_store!(PgStore, sqlx::Postgres, Postgres);
crate::similar::similar_queries!(PgStore, sqlx::Postgres, Postgres);
