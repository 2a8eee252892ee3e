//! Every line of Moth's SQL: the SQLite and PostgreSQL stores, their migrations, the event log,
//! and attachment bytes in an object store.

mod cursor;
mod error;
mod files;
mod group_commit;
mod intake;
mod links;
mod merge;
mod metrics;
mod models;
mod people;
mod postgres;
mod releases;
mod rows;
pub mod search;
pub mod similar;
mod sql;
mod sqlite;
pub mod testing;
mod time;
mod triage;
mod views;

pub use cursor::{decode as decode_cursor, encode as encode_cursor};
pub use error::{StoreError, StoreResult};
pub use files::AttachmentFiles;
pub use models::*;
pub use people::{Invitation, UserChange};
pub use postgres::PgStore;
pub use releases::ReleaseCount;
pub use search::{Highlight, ImportedIssue, ProjectScope, SearchHit, SearchPage, SearchRequest};
pub use similar::{SIMILAR_CANDIDATES, SimilarIssue, SimilarOptions, SimilarRanking, SimilarText};
pub use sqlite::SqliteStore;
/// The database driver's error, for callers that tell outages from bugs.
pub use sqlx::Error as SqlxError;
pub use views::SavedView;

use ::time::OffsetDateTime;
use moth_core::{
    ActivityEntry, ApiToken, Attachment, Comment, Issue, IssueChange, IssueRef, LongText, NewIssue,
    Project, User,
};

/// The database Moth runs on, chosen at start from the database URL.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl Store {
    /// Connects to `postgres://…` or `sqlite:…` and migrates the schema.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Store::Postgres(PgStore::connect(url).await?))
        } else if url.starts_with("sqlite:") {
            Ok(Store::Sqlite(SqliteStore::connect(url).await?))
        } else {
            Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database URL {url:?}: use postgres://user:password@host/db or sqlite:path/moth.db").into(),
            )))
        }
    }

    /// Which database this is, for logs and `/readyz`.
    pub fn kind(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }

    /// Closes connections after the queries in flight finish.
    pub async fn close(&self) {
        match self {
            Store::Sqlite(s) => s.close().await,
            Store::Postgres(s) => s.close().await,
        }
    }
}

/// Forwards each listed operation to the store in use.
macro_rules! delegate {
    ($( $(#[$meta:meta])* fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        impl Store {
            $(
                $(#[$meta])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match self {
                        Store::Sqlite(store) => store.$name($($arg),*).await,
                        Store::Postgres(store) => store.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

delegate! {
    /// How many accounts exist (zero means first run).
    fn count_users(&self) -> StoreResult<i64>;
    /// Creates an account; the e-mail must be unused.
    fn create_user(&self, user: NewUser) -> StoreResult<User>;
    /// Creates the first admin, only while no account exists.
    fn create_first_admin(&self, user: NewUser) -> StoreResult<User>;
    /// An account and its password hash, by e-mail.
    fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>>;
    /// An account by id.
    fn user(&self, id: i64) -> StoreResult<User>;
    /// Every account.
    fn users(&self) -> StoreResult<Vec<User>>;
    /// Remembers a session by the hash of its secret.
    fn create_session(&self, user_id: i64, token_hash: &str, expires_at: OffsetDateTime) -> StoreResult<()>;
    /// The user of a live session.
    fn session_user(&self, token_hash: &str) -> StoreResult<Option<User>>;
    /// Ends a session.
    fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// The server's secret named `name`, stored as `made` by the first call.
    fn server_secret(&self, name: &str, made: &str) -> StoreResult<String>;
    /// Records an API token by the hash of its secret.
    fn create_api_token(&self, user_id: i64, name: &str, token_hash: &str, expires_at: Option<OffsetDateTime>) -> StoreResult<ApiToken>;
    /// The user of a live, unrevoked token.
    fn token_user(&self, token_hash: &str) -> StoreResult<Option<User>>;
    /// A user's tokens.
    fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>>;
    /// Revokes one of a user's tokens.
    fn revoke_api_token(&self, user_id: i64, token_id: i64) -> StoreResult<()>;
    /// Creates a project.
    fn create_project(&self, project: NewProject, actor: Actor) -> StoreResult<Project>;
    /// Every project.
    fn projects(&self) -> StoreResult<Vec<Project>>;
    /// One project by key.
    fn project(&self, key: &str) -> StoreResult<Project>;
    /// The project an intake key belongs to.
    fn project_by_intake_key(&self, intake_key: &str) -> StoreResult<Option<Project>>;
    /// Changes a project's settings.
    fn update_project(&self, key: &str, change: ProjectChange, actor: Actor) -> StoreResult<Project>;
    /// Replaces a project's intake key.
    fn rotate_intake_key(&self, key: &str, new_key: &str, actor: Actor) -> StoreResult<Project>;
    /// Files an issue.
    fn create_issue(&self, project_key: &str, new: NewIssue, reporter: Option<&moth_core::UserSummary>) -> StoreResult<Issue>;
    /// Files a captured report with its attachments, all or nothing.
    fn create_report(&self, project_key: &str, report: NewReport, attachments: Vec<NewAttachment>) -> StoreResult<Issue>;
    /// Files a captured report, matched against known issues by its fingerprint; says what became of it.
    fn file_report(&self, project_key: &str, report: NewReport, attachments: Vec<NewAttachment>) -> StoreResult<FiledReport>;
    /// Files a captured report and says what became of it, without reading its issue back.
    fn receive_report(&self, project_key: &str, report: NewReport, attachments: Vec<NewAttachment>) -> StoreResult<ReportReceipt>;
    /// Stores many captured reports at once on existing issues, with their match keys.
    fn import_reports(&self, project_key: &str, reports: &[ImportedReport]) -> StoreResult<usize>;
    /// The known issue a report with this match key would join.
    fn known_issue(&self, project_key: &str, hash: &str) -> StoreResult<Option<KnownReport>>;
    /// What became of a report, by the hash of its status link's secret.
    fn report_status(&self, token_hash: &str) -> StoreResult<Option<ReportStatus>>;
    /// One issue.
    fn issue(&self, issue_ref: &IssueRef) -> StoreResult<Issue>;
    /// Makes a user watch an issue, or stop watching it.
    fn set_watching(&self, issue_ref: &IssueRef, email: &moth_core::Email, watching: bool, actor: Actor) -> StoreResult<Issue>;
    /// Changes an issue under the workflow rules.
    fn update_issue(&self, issue_ref: &IssueRef, change: IssueChange, actor: Actor) -> StoreResult<Issue>;
    /// A page of a project's issues.
    fn list_issues(&self, project_key: &str, listing: &IssueListing) -> StoreResult<IssuePage>;
    /// The first page of each of several list requests, in one query (a board's columns).
    fn list_issue_columns(&self, project_key: &str, listings: &[IssueListing]) -> StoreResult<Vec<Vec<Issue>>>;
    /// A project's issues matching a filter, counted per status or per planned release.
    fn count_issues(&self, project_key: &str, filter: &moth_core::IssueFilter, by: CountBy) -> StoreResult<Vec<(Option<String>, i64)>>;
    /// Adds a comment.
    fn add_comment(&self, issue_ref: &IssueRef, author: i64, body: &LongText) -> StoreResult<Comment>;
    /// An issue's comments.
    fn comments(&self, issue_ref: &IssueRef) -> StoreResult<Vec<Comment>>;
    /// An issue's links from both sides, with its duplicate links.
    fn links(&self, issue_ref: &IssueRef) -> StoreResult<Vec<moth_core::IssueLink>>;
    /// Links an issue to another, recorded on both.
    fn add_link(&self, issue_ref: &IssueRef, relation: moth_core::LinkRelation, target: &IssueRef, actor: Actor) -> StoreResult<moth_core::IssueLink>;
    /// Removes a link between two issues, from either side.
    fn remove_link(&self, issue_ref: &IssueRef, relation: moth_core::LinkRelation, target: &IssueRef, actor: Actor) -> StoreResult<()>;
    /// An issue's history.
    fn activity(&self, issue_ref: &IssueRef) -> StoreResult<Vec<ActivityEntry>>;
    /// Records an attachment whose bytes are stored.
    fn add_attachment(&self, issue_ref: &IssueRef, new: NewAttachment, actor: Actor) -> StoreResult<Attachment>;
    /// An issue's attachments.
    fn attachments(&self, issue_ref: &IssueRef) -> StoreResult<Vec<Attachment>>;
    /// One attachment.
    fn attachment(&self, id: &str) -> StoreResult<Attachment>;
    /// Every object key recorded for an attachment.
    fn attachment_object_keys(&self) -> StoreResult<Vec<String>>;
    /// A page of a project's new, unsnoozed issues, oldest first, numbered after `after`.
    fn triage_queue(&self, project_key: &str, now: OffsetDateTime, after: i64, limit: i64) -> StoreResult<Vec<moth_core::Issue>>;
    /// How many of a project's new issues are snoozed now.
    fn snoozed_count(&self, project_key: &str, now: OffsetDateTime) -> StoreResult<i64>;
    /// Takes a new issue out of the triage inbox for a while.
    fn snooze_issue(&self, issue_ref: &IssueRef, until: OffsetDateTime, actor: Actor) -> StoreResult<()>;
    /// Changes a user's role or deactivates them (never the last active admin).
    fn change_user(&self, id: i64, change: UserChange, actor: Actor) -> StoreResult<User>;
    /// Records an invitation by the hash of its link's secret.
    fn create_invitation(&self, email: &moth_core::Email, role: moth_core::Role, token_hash: &str, expires_at: OffsetDateTime, actor: Actor) -> StoreResult<Invitation>;
    /// Invitations waiting to be accepted.
    fn pending_invitations(&self) -> StoreResult<Vec<Invitation>>;
    /// A live invitation by the hash of its secret.
    fn invitation(&self, token_hash: &str) -> StoreResult<Option<Invitation>>;
    /// Creates the invited account and uses up the invitation.
    fn accept_invitation(&self, token_hash: &str, name: &str, password_hash: &str) -> StoreResult<User>;
    /// Every version a project's issues name, with what is planned, fixed and affected.
    fn release_counts(&self, project_key: &str) -> StoreResult<Vec<ReleaseCount>>;
    /// The issues that affect or are fixed in a version.
    fn release_issues(&self, project_key: &str, version: &str, limit: i64) -> StoreResult<Vec<moth_core::Issue>>;
    /// Saves a named view of a project's list.
    fn save_view(&self, project_key: &str, owner_id: i64, name: &str, query: &str, shared: bool) -> StoreResult<i64>;
    /// A user's own and the shared views of a project.
    fn saved_views(&self, project_key: &str, user_id: i64) -> StoreResult<Vec<SavedView>>;
    /// Deletes a view of the user's (or any, for admins).
    fn delete_view(&self, id: i64, user_id: i64, any_owner: bool) -> StoreResult<()>;
    /// Events after a cursor, in log order.
    fn events_after(&self, after: i64, limit: i64) -> StoreResult<Vec<Event>>;
    /// The newest event's id, 0 when there is none.
    fn last_event_id(&self) -> StoreResult<i64>;
    /// Issues counted by type and status.
    fn issue_counts(&self) -> StoreResult<Vec<IssueCount>>;
    /// One project's issues counted by type and status.
    fn project_issue_counts(&self, project_key: &str) -> StoreResult<Vec<IssueCount>>;
    /// Whether the database answers.
    fn ping(&self) -> StoreResult<()>;
    /// Refreshes the query planner's statistics after a bulk import, as PostgreSQL's
    /// autovacuum soon would by itself; nothing on SQLite, which never gathers any.
    fn refresh_statistics(&self) -> StoreResult<()>;
    /// A project's quality figures over a window.
    fn project_metrics(&self, project_key: &str, window: &moth_core::metrics::MetricsWindow) -> StoreResult<moth_core::metrics::ProjectMetrics>;
    /// Open serious defects, recent fixes and the next release, for the stakeholder overview.
    fn project_overview(&self, project_key: &str, now: OffsetDateTime) -> StoreResult<moth_core::metrics::ProjectOverview>;
    /// Full-text search with the query language, ranked and highlighted.
    fn search(&self, request: &SearchRequest) -> StoreResult<SearchPage>;
    /// The newest issues matching a query (id and title), at most `limit`.
    fn newest_matches(&self, query: &moth_core::Query, scope: &ProjectScope, limit: i64) -> StoreResult<Vec<(String, String)>>;
    /// Files many issues at once (importers, benchmarks).
    fn import_issues(&self, project_key: &str, issues: &[ImportedIssue]) -> StoreResult<usize>;
    /// Issues that read like a filed one (never itself), best first.
    fn similar_issues(&self, issue_ref: &IssueRef, options: &SimilarOptions) -> StoreResult<Vec<SimilarIssue>>;
    /// Issues that read like text not filed yet, best first.
    fn similar_to_text(&self, text: &SimilarText, options: &SimilarOptions) -> StoreResult<Vec<SimilarIssue>>;
}
