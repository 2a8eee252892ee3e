//! Moth's domain: the vocabulary of CONTRACT.md, values parsed at the edge, and the workflow
//! rules of filing and changing issues. No I/O lives here.

mod error;
pub mod issue;
pub mod markdown;
pub mod values;
pub mod version;
pub mod vocabulary;

pub use error::DomainError;
pub use issue::{
    ChangeContext, FieldChange, IssueChange, IssueChangeInput, IssueDraftInput, IssueFields,
    NewIssue, ProjectRules, Reporter, UserSummary,
};
pub use markdown::render_markdown;
pub use values::{Email, IssueRef, IssueTitle, LongText, Name, Password, ProjectKey};
pub use version::Version;
pub use vocabulary::{IssueType, Priority, Resolution, Role, Severity, Status};
