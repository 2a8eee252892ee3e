//! What callers hand the store and what it hands back besides the domain records.

use moth_core::{IssueSort, Role};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A user to create; the password is already hashed by the caller.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

/// A user with the hash their password is checked against.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    pub user: moth_core::User,
    pub password_hash: Option<String>,
}

/// Who did something: a signed-in user, or nobody (the widget, the system).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor(pub Option<i64>);

impl Actor {
    pub const SYSTEM: Actor = Actor(None);

    pub fn user(id: i64) -> Self {
        Actor(Some(id))
    }
}

/// Who filed an issue when it is not the actor: a guest reporting through the widget.
#[derive(Debug, Clone, Default)]
pub struct GuestReporter {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject {
    pub key: moth_core::ProjectKey,
    pub name: moth_core::Name,
    pub intake_key: String,
}

/// The settings an admin may change on a project; `None` leaves one alone.
#[derive(Debug, Clone, Default)]
pub struct ProjectChange {
    pub name: Option<moth_core::Name>,
    pub allowed_origins: Option<Vec<String>>,
    pub components: Option<Vec<String>>,
    pub versions: Option<Vec<String>>,
}

/// A page of issues and the cursor of the next one.
#[derive(Debug, Clone, Serialize)]
pub struct IssuePage {
    pub items: Vec<moth_core::Issue>,
    pub next_cursor: Option<String>,
}

/// Where a page starts: after the issue with this sort value and row id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageCursor {
    /// The sort the cursor was made for, so it is not reused with another.
    pub sort: String,
    pub value: i64,
    pub id: i64,
}

/// What issues are counted by (`Store::count_issues`): a board's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    Status,
    FixedInVersion,
}

/// A list request: which issues, in what order, how many, from where.
#[derive(Debug, Clone)]
pub struct IssueListing {
    pub filter: moth_core::IssueFilter,
    pub sort: IssueSort,
    pub limit: i64,
    pub cursor: Option<PageCursor>,
}

/// An attachment's facts, recorded once its bytes are stored.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub id: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub object_key: String,
    /// The screenshot of a captured report (shown on the reporter's status page).
    pub is_screenshot: bool,
}

/// Everything a report captured, as the JSON text stored. Written where the report is read
/// (each request's own task), not in the writer's turn, which reports take one at a time.
#[derive(Debug, Clone)]
pub struct CapturedContext(String);

impl CapturedContext {
    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<moth_core::captured::CapturedJson> for CapturedContext {
    fn from(context: moth_core::captured::CapturedJson) -> Self {
        Self(context.into_string())
    }
}

impl From<serde_json::Value> for CapturedContext {
    fn from(context: serde_json::Value) -> Self {
        Self(context.to_string())
    }
}

/// A captured report to file, scrubbed and checked by the domain.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub issue: moth_core::NewIssue,
    pub reporter_name: Option<String>,
    pub reporter_email: Option<String>,
    pub page_url: Option<String>,
    pub app_version: Option<String>,
    pub build: Option<String>,
    pub context: CapturedContext,
    /// Hash of the secret in the reporter's status link.
    pub status_token_hash: String,
    /// The key it is matched on against known issues (none: always filed anew).
    pub match_key: Option<moth_core::fingerprint::MatchKey>,
    /// Hash of the sender's idempotency key: a second report with it in the project is
    /// answered with the first one's issue and outcome, and nothing is stored.
    pub idempotency_key_hash: Option<String>,
}

/// A captured report to store in bulk on an existing issue (benchmarks, importers).
#[derive(Debug, Clone)]
pub struct ImportedReport {
    pub issue_number: i64,
    pub status_token_hash: String,
    pub reporter_email: Option<String>,
    pub app_version: Option<String>,
    pub context: serde_json::Value,
    /// Registered for the issue, so later reports with the key join it.
    pub match_key: Option<moth_core::fingerprint::MatchKey>,
}

/// What intake did with a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportOutcome {
    /// Filed as a new issue.
    Filed,
    /// Filed as a new issue that may be a regression of a fixed one (flagged for triage).
    PossibleRegression { of: moth_core::IssueRef },
    /// Added to an open (or otherwise decided) issue as another occurrence.
    Duplicate,
    /// Added to a fixed issue, which reopened as a regression.
    Regression,
    /// Added to an issue fixed in a later version than the report's.
    AlreadyFixed,
}

impl ReportOutcome {
    /// The word the reporter's client is told: whether a new report may be a regression is
    /// for triage, so it is simply `filed`.
    pub fn answer(&self) -> &'static str {
        match self {
            ReportOutcome::Filed | ReportOutcome::PossibleRegression { .. } => "filed",
            ReportOutcome::Duplicate => "duplicate",
            ReportOutcome::Regression => "regression",
            ReportOutcome::AlreadyFixed => "already_fixed",
        }
    }

    /// The outcome an answer word stands for (a `possible_regression` reads back as `Filed`).
    pub(crate) fn from_answer(word: &str) -> Self {
        match word {
            "duplicate" => ReportOutcome::Duplicate,
            "regression" => ReportOutcome::Regression,
            "already_fixed" => ReportOutcome::AlreadyFixed,
            _ => ReportOutcome::Filed,
        }
    }
}

/// A filed report: the issue it is on (new or the one it joined) and what happened.
#[derive(Debug, Clone)]
pub struct FiledReport {
    pub issue: moth_core::Issue,
    pub outcome: ReportOutcome,
    /// The report had been filed before under the same idempotency key: this is that
    /// report's answer, and nothing was stored now.
    pub replayed: bool,
}

/// The known issue a report looks like, as the widget may show it to a reporter.
#[derive(Debug, Clone, Serialize)]
pub struct KnownReport {
    pub id: String,
    pub title: String,
    pub status: String,
    /// Distinct people who reported it already.
    pub reporters: i64,
}

/// What became of a report, for its reporter.
#[derive(Debug, Clone)]
pub struct ReportStatus {
    pub issue: moth_core::Issue,
    /// The issue it duplicates, when it was marked a duplicate.
    pub original: Option<moth_core::Issue>,
    pub screenshot_attachment_id: Option<String>,
    /// The versions the report was sent from, to tell its reporter whether a fix reached them.
    pub app_version: Option<String>,
    pub build: Option<String>,
    pub reported_at: OffsetDateTime,
}

/// Where a freshly inserted issue is.
#[derive(Debug, Clone)]
pub(crate) struct FiledIssue {
    pub issue_id: i64,
    pub project_id: i64,
    pub issue_ref: moth_core::IssueRef,
    pub assignee: Option<moth_core::UserSummary>,
    pub created_at: i64,
}

/// One entry of the event log, as consumers read it.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: i64,
    pub kind: String,
    pub project: Option<String>,
    pub issue: Option<String>,
    pub actor_id: Option<i64>,
    pub payload: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// How many issues a project holds of one type in one status (for `/metrics`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCount {
    pub issue_type: String,
    pub status: String,
    pub count: i64,
}

/// One issue to insert, with who files it.
pub(crate) struct IssueDraft<'a> {
    pub project_key: &'a str,
    pub new: &'a moth_core::NewIssue,
    pub guest: &'a GuestReporter,
    pub actor: Actor,
}

/// An event to append to the log.
pub(crate) struct NewEvent {
    pub kind: &'static str,
    pub project_id: Option<i64>,
    pub issue_id: Option<i64>,
    pub actor: Actor,
    pub payload: serde_json::Value,
}

/// A captured report waiting in the group-commit queue to be filed.
pub(crate) struct ReportFiling {
    pub project_key: String,
    pub report: NewReport,
    pub attachments: Vec<NewAttachment>,
}

/// What intake did with a report, without reading its issue back: the issue it is on, the
/// outcome, and whether it had been sent before under the same idempotency key.
#[derive(Debug, Clone)]
pub struct ReportReceipt {
    pub issue: moth_core::IssueRef,
    pub outcome: ReportOutcome,
    pub replayed: bool,
}

/// An issue waiting in the group-commit queue to be filed.
pub(crate) struct IssueFiling {
    pub project_key: String,
    pub new: moth_core::NewIssue,
    pub reporter: Option<moth_core::UserSummary>,
}

impl IssueFiling {
    /// The issue as filed: the draft, plus what writing it decided.
    pub fn issue(&self, filed: FiledIssue) -> crate::StoreResult<moth_core::Issue> {
        let created = crate::time::from_micros(filed.created_at)?;
        let mut fields = self.new.fields.clone();
        fields.assignee = filed.assignee.clone();
        let mut watchers: Vec<moth_core::UserSummary> = self
            .reporter
            .iter()
            .cloned()
            .chain(filed.assignee)
            .collect();
        watchers.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
        watchers.dedup_by_key(|w| w.id);
        let reporter = match &self.reporter {
            Some(r) => moth_core::Reporter::User {
                id: r.id,
                name: r.name.clone(),
                email: r.email.clone(),
            },
            None => moth_core::Reporter::Guest {
                name: None,
                email: None,
            },
        };
        Ok(moth_core::Issue {
            id: filed.issue_ref.to_string(),
            number: filed.issue_ref.number,
            project: filed.issue_ref.project.to_string(),
            fields,
            reporter,
            watchers,
            duplicate_count: 0,
            affected_reporters: 0,
            possible_regression_of: None,
            context: None,
            created_at: created,
            updated_at: created,
            resolved_at: None,
        })
    }
}
