//! Per-project figures every page shows (issue counts, release counts, the overview), kept
//! until the event log moves.
//!
//! Every change appends an event in its own transaction (appends are serialized, so ids become
//! visible in order): while the newest event id is the one a value was computed at, the value
//! is still true, and one indexed `max(id)` replaces the aggregate. Nodes sharing a database
//! each keep their own copy and all read the same log, so none serves figures older than it.

use moth_store::{IssueCount, ReleaseCount, Store, StoreResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Projects remembered at most per kind of figure; past this a cache starts over.
const CACHED_PROJECTS: usize = 1024;

/// How long the overview is reused at most: its "last 14 days" moves with the clock.
const OVERVIEW_MAX_AGE: Duration = Duration::from_secs(60);

/// One kind of figure, per project, with the event id it was computed at.
#[derive(Debug)]
pub struct ProjectCache<T> {
    entries: Mutex<HashMap<String, Cached<T>>>,
}

#[derive(Debug)]
struct Cached<T> {
    event: i64,
    at: Instant,
    value: T,
}

impl<T> Default for ProjectCache<T> {
    fn default() -> Self {
        Self {
            entries: Mutex::default(),
        }
    }
}

impl<T: Clone> ProjectCache<T> {
    /// The project's value, from the cache while the log has not moved (and it is younger
    /// than `max_age`, when given); computed and remembered otherwise.
    pub async fn get<F, Fut>(
        &self,
        store: &Store,
        project: &str,
        max_age: Option<Duration>,
        compute: F,
    ) -> StoreResult<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = StoreResult<T>>,
    {
        // Read before computing: a value stored under this id is at least as new as it.
        let event = store.last_event_id().await?;
        let hit = self
            .entries
            .lock()
            .expect("page cache")
            .get(project)
            .filter(|c| c.event == event && max_age.is_none_or(|age| c.at.elapsed() < age))
            .map(|c| c.value.clone());
        if let Some(value) = hit {
            return Ok(value);
        }
        let value = compute().await?;
        let mut entries = self.entries.lock().expect("page cache");
        if entries.len() >= CACHED_PROJECTS {
            entries.clear();
        }
        entries.insert(
            project.to_string(),
            Cached {
                event,
                at: Instant::now(),
                value: value.clone(),
            },
        );
        Ok(value)
    }
}

/// The figures pages share, each kept per project.
#[derive(Debug, Default)]
pub struct PageCache {
    counts: ProjectCache<Vec<IssueCount>>,
    releases: ProjectCache<Vec<ReleaseCount>>,
    overview: ProjectCache<moth_core::metrics::ProjectOverview>,
}

impl PageCache {
    /// The project's issues counted by type and status.
    pub async fn issue_counts(&self, store: &Store, project: &str) -> StoreResult<Vec<IssueCount>> {
        self.counts
            .get(store, project, None, || store.project_issue_counts(project))
            .await
    }

    /// Every version the project's issues name, with their counts.
    pub async fn release_counts(
        &self,
        store: &Store,
        project: &str,
    ) -> StoreResult<Vec<ReleaseCount>> {
        self.releases
            .get(store, project, None, || store.release_counts(project))
            .await
    }

    /// The stakeholder overview, at most a minute old.
    pub async fn overview(
        &self,
        store: &Store,
        project: &str,
    ) -> StoreResult<moth_core::metrics::ProjectOverview> {
        self.overview
            .get(store, project, Some(OVERVIEW_MAX_AGE), || {
                store.project_overview(project, time::OffsetDateTime::now_utc())
            })
            .await
    }
}
