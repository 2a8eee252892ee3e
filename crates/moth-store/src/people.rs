//! Managing people: roles, deactivation (keeping at least one active admin) and invitations.

use serde::Serialize;
use time::OffsetDateTime;

/// An invitation waiting to be accepted (its secret is never stored).
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub role: moth_core::Role,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What an admin changes about an account; `None` leaves it as it is.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub role: Option<moth_core::Role>,
    pub active: Option<bool>,
}

/// Implements the people queries for one database type (expanded next to `sql_store!`).
macro_rules! people_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Changes a user's role or deactivates them; the last active admin stays one.
            pub async fn change_user(
                &self,
                id: i64,
                change: $crate::people::UserChange,
                actor: $crate::models::Actor,
            ) -> StoreResult<moth_core::User> {
                let mut tx = self.begin_write().await?;
                Self::lock_users(&mut tx).await?;
                let row: Option<$crate::rows::UserRow> =
                    sqlx::query_as(&format!("{} where id = $1", $crate::rows::USER_SELECT))
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let current = row
                    .ok_or_else(|| $crate::error::StoreError::NotFound(format!("user {id}")))?
                    .into_user()?;
                let role = change.role.unwrap_or(current.role);
                let active = change.active.unwrap_or(current.active);
                let stays_admin = role.is_admin() && active;
                if current.role.is_admin() && current.active && !stays_admin {
                    let admins: i64 = sqlx::query_scalar(
                        "select count(*) from users where role = 'admin' and active and id <> $1",
                    )
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if admins == 0 {
                        return Err($crate::error::StoreError::Conflict {
                            field: "role",
                            message: "Moth needs at least one active admin; make someone else admin first".into(),
                        });
                    }
                }
                let now = $crate::time::now_micros();
                sqlx::query("update users set role = $1, active = $2, updated_at = $3 where id = $4")
                    .bind(role.as_str())
                    .bind(active)
                    .bind(now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if !active {
                    // A deactivated account is signed out everywhere at once.
                    sqlx::query("delete from sessions where user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                let payload = serde_json::json!({
                    "user": id,
                    "from": {"role": current.role.as_str(), "active": current.active},
                    "to": {"role": role.as_str(), "active": active},
                });
                self.append_event(&mut tx, "user.changed", None, None, actor, payload).await?;
                tx.commit().await?;
                Ok(moth_core::User { role, active, ..current })
            }

            /// Records an invitation by the hash of its link's secret.
            pub async fn create_invitation(
                &self,
                email: &moth_core::Email,
                role: moth_core::Role,
                token_hash: &str,
                expires_at: time::OffsetDateTime,
                actor: $crate::models::Actor,
            ) -> StoreResult<$crate::people::Invitation> {
                let mut tx = self.begin_write().await?;
                let taken: i64 = sqlx::query_scalar("select count(*) from users where email = $1")
                    .bind(email.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                if taken > 0 {
                    return Err($crate::error::StoreError::Conflict {
                        field: "email",
                        message: format!("{} already has an account", email.as_str()),
                    });
                }
                let now = $crate::time::now_micros();
                let id: i64 = sqlx::query_scalar(
                    "insert into invitations (email, role, token_hash, invited_by, expires_at, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $6) returning id",
                )
                .bind(email.as_str())
                .bind(role.as_str())
                .bind(token_hash)
                .bind(actor.0)
                .bind($crate::time::to_micros(expires_at))
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                self.append_event(&mut tx, "user.invited", None, None, actor, serde_json::json!({"email": email.as_str(), "role": role.as_str()})).await?;
                tx.commit().await?;
                Ok($crate::people::Invitation {
                    id,
                    email: email.as_str().to_string(),
                    role,
                    expires_at,
                    created_at: $crate::time::from_micros(now)?,
                })
            }

            /// Invitations not yet accepted nor expired, newest first.
            pub async fn pending_invitations(&self) -> StoreResult<Vec<$crate::people::Invitation>> {
                let rows = sqlx::query(
                    "select id, email, role, expires_at, created_at from invitations \
                     where accepted_at is null and expires_at > $1 order by id desc",
                )
                .bind($crate::time::now_micros())
                .fetch_all(self.reader())
                .await?;
                rows.iter().map(Self::invitation_of).collect()
            }

            fn invitation_of(row: &<$db as sqlx::Database>::Row) -> StoreResult<$crate::people::Invitation> {
                use sqlx::Row;
                let role: String = row.get("role");
                Ok($crate::people::Invitation {
                    id: row.get("id"),
                    email: row.get("email"),
                    role: moth_core::Role::parse(&role)?,
                    expires_at: $crate::time::from_micros(row.get("expires_at"))?,
                    created_at: $crate::time::from_micros(row.get("created_at"))?,
                })
            }

            /// A live invitation by the hash of its link's secret.
            pub async fn invitation(&self, token_hash: &str) -> StoreResult<Option<$crate::people::Invitation>> {
                let row = sqlx::query(
                    "select id, email, role, expires_at, created_at from invitations \
                     where token_hash = $1 and accepted_at is null and expires_at > $2",
                )
                .bind(token_hash)
                .bind($crate::time::now_micros())
                .fetch_optional(self.reader())
                .await?;
                row.as_ref().map(Self::invitation_of).transpose()
            }

            /// Creates the invited account and uses up the invitation, in one go.
            pub async fn accept_invitation(
                &self,
                token_hash: &str,
                name: &str,
                password_hash: &str,
            ) -> StoreResult<moth_core::User> {
                let mut tx = self.begin_write().await?;
                let now = $crate::time::now_micros();
                let row = sqlx::query(
                    "update invitations set accepted_at = $1, updated_at = $1 \
                     where token_hash = $2 and accepted_at is null and expires_at > $1 returning email, role",
                )
                .bind(now)
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(row) = row else {
                    return Err($crate::error::StoreError::NotFound("invitation (it may have been used or have expired)".into()));
                };
                use sqlx::Row;
                let role: String = row.get("role");
                let user = Self::insert_user(
                    &mut tx,
                    &$crate::models::NewUser {
                        email: row.get("email"),
                        name: name.to_string(),
                        role: moth_core::Role::parse(&role)?,
                        password_hash: Some(password_hash.to_string()),
                    },
                )
                .await?;
                self.append_event(&mut tx, "user.joined", None, None, $crate::models::Actor::user(user.id), serde_json::json!({"user": user.id})).await?;
                tx.commit().await?;
                Ok(user)
            }
        }
    };
}

pub(crate) use people_queries;
