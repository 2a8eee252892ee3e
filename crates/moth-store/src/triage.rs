//! The triage inbox's queries: new reports not snoozed, a page at a time, and snoozing one.

/// Implements the triage queries for one database type (expanded next to `sql_store!`).
macro_rules! triage_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// A page of a project's new issues that are not snoozed, oldest first: those
            /// numbered after `after` (0 for the first page).
            pub async fn triage_queue(
                &self,
                project_key: &str,
                now: time::OffsetDateTime,
                after: i64,
                limit: i64,
            ) -> StoreResult<Vec<moth_core::Issue>> {
                let now = $crate::time::to_micros(now);
                // The partial index of new issues by number walks the queue in order.
                let rows: Vec<$crate::rows::IssueRow> = sqlx::query_as(&format!(
                    "{} where i.id in (select i.id from issues i \
                     where i.project_id = (select id from projects where key = $1) and i.status = 'new' \
                     and i.number > $3 and (i.snoozed_until is null or i.snoozed_until <= $2) \
                     order by i.number limit $4) order by i.number",
                    $crate::rows::ISSUE_SELECT
                ))
                .bind(project_key)
                .bind(now)
                .bind(after)
                .bind(limit)
                .fetch_all(self.reader())
                .await?;
                self.issues_of(rows).await
            }

            /// How many of a project's new issues are snoozed now (the inbox counts the new
            /// issues less these).
            pub async fn snoozed_count(&self, project_key: &str, now: time::OffsetDateTime) -> StoreResult<i64> {
                Ok(sqlx::query_scalar(
                    "select count(*) from issues where project_id = (select id from projects where key = $1) \
                     and status = 'new' and snoozed_until > $2",
                )
                .bind(project_key)
                .bind($crate::time::to_micros(now))
                .fetch_one(self.reader())
                .await?)
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
