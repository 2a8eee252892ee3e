//! The one error the store raises, with the cases callers answer differently.

use moth_core::DomainError;

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing does not exist (or the caller may not know it does).
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value is already taken.
    #[error("{message}")]
    Conflict {
        field: &'static str,
        message: String,
    },
    /// The change breaks a domain rule.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The database could not be migrated.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// Attachment bytes could not be written or read.
    #[error("attachment storage error: {0}")]
    Files(#[from] object_store::Error),
    /// A stored value no longer parses: the database was edited by hand or is damaged.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

/// Shorthand for store results.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Turns a unique-constraint violation into a conflict on `field`, anything else stays.
    pub(crate) fn conflict_on(
        field: &'static str,
        message: impl Into<String>,
    ) -> impl FnOnce(sqlx::Error) -> StoreError {
        let message = message.into();
        move |error| match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict { field, message }
            }
            _ => StoreError::Database(error),
        }
    }
}

/// Maps a stored text that no longer parses to [`StoreError::Corrupt`].
pub(crate) fn corrupt(error: DomainError) -> StoreError {
    StoreError::Corrupt(error.to_string())
}
