//! Merging a duplicate into its original: its watchers join the original's, and its captured
//! reports (with their reporters' status links) move onto the original; reopening the
//! duplicate takes its reports back.

/// What moved when a duplicate was merged or taken back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Merged {
    pub watchers: u64,
    pub reports: u64,
}

/// Implements merging for one database type (expanded next to `sql_store!`).
macro_rules! merge_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Follows a change of `duplicate`'s `duplicate_of` (already written), in the
            /// caller's transaction, before its event (row changes always come first).
            ///
            /// Each report counts on the root of the duplicate chain its issue belongs to; the
            /// reports of `duplicate` and of every issue that (transitively) duplicates it move
            /// to the new root, so a reopened duplicate gets back what it brought.
            async fn follow_original(
                tx: &mut Tx,
                duplicate: i64,
                original: Option<i64>,
                now: i64,
            ) -> StoreResult<$crate::merge::Merged> {
                let mut merged = $crate::merge::Merged::default();
                let root: Option<i64> = sqlx::query_scalar(
                    "with recursive up(id, next) as (select id, duplicate_of_id from issues where id = $1 \
                     union select i.id, i.duplicate_of_id from issues i join up on i.id = up.next) \
                     select id from up where next is null",
                )
                .bind(duplicate)
                .fetch_optional(&mut **tx)
                .await?;
                // A chain that loops has no root: the reports stay where they are.
                let root = root.unwrap_or(duplicate);
                if original.is_some() {
                    merged.watchers = sqlx::query(
                        "insert into watchers (issue_id, user_id, created_at, updated_at) \
                         select $1, user_id, $2, $2 from watchers where issue_id = $3 on conflict do nothing",
                    )
                    .bind(root)
                    .bind(now)
                    .bind(duplicate)
                    .execute(&mut **tx)
                    .await?
                    .rows_affected();
                }
                const FAMILY: &str = "(merged_from_issue_id in (select id from family) \
                     or (issue_id in (select id from family) and merged_from_issue_id is null))";
                const TREE: &str = "with recursive family(id) as (select cast($1 as bigint) \
                     union select i.id from issues i join family f on i.duplicate_of_id = f.id) ";
                let holders: Vec<i64> = sqlx::query_scalar(&format!(
                    "{TREE}select distinct issue_id from reports where {FAMILY} and issue_id <> $2"
                ))
                .bind(duplicate)
                .bind(root)
                .fetch_all(&mut **tx)
                .await?;
                if holders.is_empty() {
                    return Ok(merged);
                }
                merged.reports = sqlx::query(&format!(
                    "{TREE}update reports set \
                     merged_from_issue_id = case when coalesce(merged_from_issue_id, issue_id) = $2 then null \
                     else coalesce(merged_from_issue_id, issue_id) end, \
                     issue_id = $2, updated_at = $3 where {FAMILY} and issue_id <> $2"
                ))
                .bind(duplicate)
                .bind(root)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected();
                for issue in holders.into_iter().chain([root]) {
                    sqlx::query(
                        "update issues set affected_reporters = (select count(distinct coalesce(r.reporter_email, 'report:' || r.id)) \
                         from reports r where r.issue_id = issues.id) where id = $1",
                    )
                    .bind(issue)
                    .execute(&mut **tx)
                    .await?;
                    // Their captured messages are searched under the issue that holds them.
                    Self::rebuild_search_text(tx, issue).await?;
                }
                Ok(merged)
            }
        }
    };
}

pub(crate) use merge_queries;
