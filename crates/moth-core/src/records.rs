//! What Moth keeps, as read back: projects, issues, comments, attachments, history, users.

use crate::issue::{FieldChange, IssueFields, Reporter, UserSummary};
use crate::vocabulary::Role;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

/// A project: its key, name, intake key and the choices its issues may use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Project {
    pub key: String,
    pub name: String,
    pub intake_key: String,
    /// Origins the widget may report from; empty means any.
    pub allowed_origins: Vec<String>,
    pub components: Vec<String>,
    pub versions: Vec<String>,
    pub issue_count: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One issue with everything the contract shows about it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Issue {
    /// `WEB-12`.
    pub id: String,
    pub number: i64,
    pub project: String,
    #[serde(flatten)]
    pub fields: IssueFields,
    pub reporter: Reporter,
    pub watchers: Vec<UserSummary>,
    pub duplicate_count: i64,
    /// Distinct people whose captured reports landed on this issue (the first and every
    /// duplicate occurrence; a report without an e-mail counts as one person).
    pub affected_reporters: i64,
    /// A fixed issue this one matched at intake without a version to judge by: triage decides
    /// whether it is a regression (`WEB-12`).
    pub possible_regression_of: Option<String>,
    /// What the capture widget recorded, for captured reports.
    pub context: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
}

/// A comment, with its Markdown and the sanitized HTML it renders to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Comment {
    pub id: i64,
    pub issue: String,
    pub author: UserSummary,
    pub body: String,
    pub body_html: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A file attached to an issue; its bytes live in the object store under `object_key`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    pub issue: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    #[serde(skip)]
    pub object_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// One entry of an issue's history: who did what, when.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActivityEntry {
    pub id: i64,
    /// `issue.created`, `issue.updated`, `comment.added`, `attachment.added`...
    pub kind: String,
    pub actor: Option<UserSummary>,
    pub changes: Vec<FieldChange>,
    pub comment_id: Option<i64>,
    pub attachment_id: Option<String>,
    /// Why the system made this change, in words (a regression reopened by a report).
    pub detail: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A person who can sign in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[schema(value_type = String, example = "member")]
    pub role: Role,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    /// How the user appears on issues.
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
        }
    }
}

/// An API token as listed: never its secret, which is shown once at creation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}
