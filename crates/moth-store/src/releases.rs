//! The release pages' queries: what is planned for, fixed in and reported against a version.

/// How many issues name a version, as planned, fixed in it, or affecting it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseCount {
    pub version: String,
    /// Open issues to be fixed in it.
    pub planned: i64,
    /// Resolved or closed issues fixed in it.
    pub fixed: i64,
    /// Issues reported against it.
    pub affecting: i64,
}

/// Implements the release queries for one database type (expanded next to `sql_store!`).
macro_rules! release_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Every version named by a project's issues, with its counts (unordered).
            pub async fn release_counts(&self, project_key: &str) -> StoreResult<Vec<$crate::releases::ReleaseCount>> {
                use sqlx::Row;
                let project = "(select id from projects where key = $1)";
                let fixed = sqlx::query(&format!(
                    "select fixed_in_version as v, \
                     sum(case when status in ('resolved', 'closed') then 1 else 0 end) as done, \
                     sum(case when status in ('resolved', 'closed') then 0 else 1 end) as planned \
                     from issues where project_id = {project} and fixed_in_version is not null group by fixed_in_version"
                ))
                .bind(project_key)
                .fetch_all(self.reader())
                .await?;
                let affects = sqlx::query(&format!(
                    "select affects_version as v, count(*) as n from issues \
                     where project_id = {project} and affects_version is not null group by affects_version"
                ))
                .bind(project_key)
                .fetch_all(self.reader())
                .await?;
                let mut counts: Vec<$crate::releases::ReleaseCount> = Vec::new();
                let mut entry = |version: String| -> usize {
                    match counts.iter().position(|c| c.version == version) {
                        Some(i) => i,
                        None => {
                            counts.push($crate::releases::ReleaseCount { version, ..Default::default() });
                            counts.len() - 1
                        }
                    }
                };
                let mut rows = Vec::new();
                for row in &fixed {
                    let i = entry(row.get("v"));
                    rows.push((i, row.get::<i64, _>("planned"), row.get::<i64, _>("done"), 0));
                }
                for row in &affects {
                    let i = entry(row.get("v"));
                    rows.push((i, 0, 0, row.get::<i64, _>("n")));
                }
                for (i, planned, done, affecting) in rows {
                    counts[i].planned += planned;
                    counts[i].fixed += done;
                    counts[i].affecting += affecting;
                }
                Ok(counts)
            }

            /// A project's issues that affect or are fixed in a version, oldest first.
            pub async fn release_issues(&self, project_key: &str, version: &str, limit: i64) -> StoreResult<Vec<moth_core::Issue>> {
                let project = "(select id from projects where key = $1)";
                let rows: Vec<$crate::rows::IssueRow> = sqlx::query_as(&format!(
                    "{} where i.id in (select id from issues where project_id = {project} and fixed_in_version = $2 \
                     union select id from issues where project_id = {project} and affects_version = $2) \
                     order by i.id limit $3",
                    $crate::rows::ISSUE_SELECT
                ))
                .bind(project_key)
                .bind(version)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                let labels = self.labels_of(&rows).await?;
                let watchers = self.watchers_of(&rows).await?;
                rows.into_iter()
                    .map(|row| {
                        let labels = labels.iter().filter(|(id, _)| *id == row.id).map(|(_, l)| l.clone()).collect();
                        let watchers = watchers.iter().filter(|(id, _)| *id == row.id).map(|(_, w)| w.clone()).collect();
                        row.into_issue(labels, watchers, None)
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use release_queries;
