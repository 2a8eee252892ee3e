//! The triage inbox's queries: new reports not snoozed, and snoozing one.

/// Implements the triage queries for one database type (expanded next to `sql_store!`).
macro_rules! triage_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// A project's new issues that are not snoozed, oldest first, and how many wait.
            pub async fn triage_queue(
                &self,
                project_key: &str,
                now: time::OffsetDateTime,
                limit: i64,
            ) -> StoreResult<(Vec<moth_core::Issue>, i64)> {
                let now = $crate::time::to_micros(now);
                let waiting = "from issues i where i.project_id = (select id from projects where key = $1) \
                     and i.status = 'new' and (i.snoozed_until is null or i.snoozed_until <= $2)";
                let count: i64 = sqlx::query_scalar(&format!("select count(*) {waiting}"))
                    .bind(project_key)
                    .bind(now)
                    .fetch_one(self.reader())
                    .await?;
                let rows: Vec<$crate::rows::IssueRow> = sqlx::query_as(&format!(
                    "{} where i.id in (select i.id {waiting} order by i.id limit $3) order by i.id",
                    $crate::rows::ISSUE_SELECT
                ))
                .bind(project_key)
                .bind(now)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                let labels = self.labels_of(&rows).await?;
                let watchers = self.watchers_of(&rows).await?;
                let items = rows
                    .into_iter()
                    .map(|row| {
                        let labels = labels.iter().filter(|(id, _)| *id == row.id).map(|(_, l)| l.clone()).collect();
                        let watchers = watchers.iter().filter(|(id, _)| *id == row.id).map(|(_, w)| w.clone()).collect();
                        row.into_issue(labels, watchers, None)
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                Ok((items, count))
            }

            /// Takes a new issue out of the triage inbox until `until`.
            pub async fn snooze_issue(
                &self,
                issue_ref: &moth_core::IssueRef,
                until: time::OffsetDateTime,
                actor: $crate::models::Actor,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let (issue_id, project_id) = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| $crate::error::StoreError::NotFound(issue_ref.to_string()))?;
                let until_micros = $crate::time::to_micros(until);
                sqlx::query("update issues set snoozed_until = $1 where id = $2")
                    .bind(until_micros)
                    .bind(issue_id)
                    .execute(&mut *tx)
                    .await?;
                let payload = serde_json::json!({
                    "until": until.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
                });
                self.append_event(&mut tx, "issue.snoozed", Some(project_id), Some(issue_id), actor, payload).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use triage_queries;
