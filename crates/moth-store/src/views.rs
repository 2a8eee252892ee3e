//! Saved views: named list queries, personal or shared, per project.

use serde::Serialize;

/// A saved list query.
#[derive(Debug, Clone, Serialize)]
pub struct SavedView {
    pub id: i64,
    pub name: String,
    /// The list page's query string, such as `view=bugs&severity=critical`.
    pub query: String,
    pub shared: bool,
    pub owner_id: i64,
    pub owner_name: String,
}

/// Implements the saved-view queries for one database type (expanded next to `sql_store!`).
macro_rules! view_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Saves a view of a project's list.
            pub async fn save_view(&self, project_key: &str, owner_id: i64, name: &str, query: &str, shared: bool) -> StoreResult<i64> {
                let mut tx = self.begin_write().await?;
                let project_id: i64 = sqlx::query_scalar("select id from projects where key = $1")
                    .bind(project_key)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| $crate::error::StoreError::NotFound(format!("project {project_key}")))?;
                let now = $crate::time::now_micros();
                let id: i64 = sqlx::query_scalar(
                    "insert into saved_views (project_id, owner_id, shared, name, query, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $6) returning id",
                )
                .bind(project_id)
                .bind(owner_id)
                .bind(shared)
                .bind(name)
                .bind(query)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(id)
            }

            /// The views a user sees on a project's lists: their own and the shared ones.
            pub async fn saved_views(&self, project_key: &str, user_id: i64) -> StoreResult<Vec<$crate::views::SavedView>> {
                use sqlx::Row;
                let rows = sqlx::query(
                    "select v.id, v.name, v.query, v.shared, v.owner_id, u.name as owner_name from saved_views v \
                     join users u on u.id = v.owner_id \
                     where v.project_id = (select id from projects where key = $1) and (v.owner_id = $2 or v.shared) \
                     order by v.shared, v.name",
                )
                .bind(project_key)
                .bind(user_id)
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .iter()
                    .map(|r| $crate::views::SavedView {
                        id: r.get("id"),
                        name: r.get("name"),
                        query: r.get("query"),
                        shared: r.get("shared"),
                        owner_id: r.get("owner_id"),
                        owner_name: r.get("owner_name"),
                    })
                    .collect())
            }

            /// Deletes a view; only its owner (or an admin, `any_owner`) may.
            pub async fn delete_view(&self, id: i64, user_id: i64, any_owner: bool) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query("delete from saved_views where id = $1 and (owner_id = $2 or $3)")
                    .bind(id)
                    .bind(user_id)
                    .bind(any_owner)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::error::StoreError::NotFound(format!("saved view {id} of yours")));
                }
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

pub(crate) use view_queries;
