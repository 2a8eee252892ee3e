//! Moth's domain: the vocabulary of CONTRACT.md, values parsed at the edge, and the workflow
//! rules of filing and changing issues. No I/O lives here.

pub mod captured;
mod error;
pub mod fingerprint;
pub mod intake;
pub mod issue;
pub mod links;
pub mod listing;
pub mod markdown;
pub mod metrics;
pub mod query;
pub mod records;
pub mod redact;
pub mod screenshot;
pub mod similar;
pub mod triage;
pub mod values;
pub mod version;
pub mod vocabulary;

pub use error::DomainError;
pub use issue::{
    ChangeContext, FieldChange, IssueChange, IssueChangeInput, IssueDraftInput, IssueFields,
    NewIssue, ProjectRules, Reporter, UserSummary,
};
pub use links::{IssueLink, Link, LinkKind, LinkRefusal, LinkRelation, LinkedIssue};
pub use listing::{
    AssigneeFilter, IssueFilter, IssueFilterInput, IssueSort, ReleaseFilter, SortKey,
};
pub use markdown::render_markdown;
pub use query::{Query, QueryError};
pub use records::{ActivityEntry, ApiToken, Attachment, Comment, Issue, Project, User};
pub use values::{Email, IssueRef, IssueTitle, LongText, Name, Password, ProjectKey, parse_origin};
pub use version::Version;
pub use vocabulary::{IssueType, Priority, Resolution, Role, Severity, Status};
