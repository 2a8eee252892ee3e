//! Rows as the database returns them, and their translation into domain records.

use crate::error::{StoreError, StoreResult, corrupt};
use crate::time::from_micros;
use moth_core::{
    ApiToken, Attachment, Comment, IssueFields, IssueRef, IssueTitle, IssueType, Name, Priority,
    Project, ProjectKey, Reporter, Resolution, Role, Severity, Status, User, UserSummary, Version,
};

/// The columns every issue query selects, joined with what an issue shows.
pub const ISSUE_SELECT: &str = "select i.id, i.project_id, p.key as project_key, i.number, i.type, i.title, \
    i.description, i.status, i.resolution, i.severity, i.priority, i.component, i.affects_version, \
    i.fixed_in_version, i.assignee_id, a.name as assignee_name, a.email as assignee_email, \
    i.reporter_user_id, r.name as reporter_user_name, r.email as reporter_user_email, i.reporter_name, \
    i.reporter_email, d.number as duplicate_of_number, i.duplicate_count, i.regression, i.reopen_count, \
    i.affected_reporters, g.number as possible_regression_of_number, \
    i.steps_to_reproduce, i.expected, i.actual, i.environment, i.created_at, i.updated_at, \
    i.resolved_at from issues i join projects p on p.id = i.project_id \
    left join users a on a.id = i.assignee_id left join users r on r.id = i.reporter_user_id \
    left join issues d on d.id = i.duplicate_of_id left join issues g on g.id = i.possible_regression_of_id";

/// The select of a board column's issue ids, with the assignee join its filter may name.
pub const COLUMN_SELECT: &str =
    "select i.id from issues i left join users a on a.id = i.assignee_id";

/// Severity rank stored for issues without a severity, so they sort last.
pub const NO_SEVERITY_RANK: i16 = 9;

#[derive(Debug, sqlx::FromRow)]
pub struct IssueRow {
    pub id: i64,
    pub project_id: i64,
    pub project_key: String,
    pub number: i64,
    #[sqlx(rename = "type")]
    pub issue_type: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub resolution: Option<String>,
    pub severity: Option<String>,
    pub priority: String,
    pub component: Option<String>,
    pub affects_version: Option<String>,
    pub fixed_in_version: Option<String>,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub assignee_email: Option<String>,
    pub reporter_user_id: Option<i64>,
    pub reporter_user_name: Option<String>,
    pub reporter_user_email: Option<String>,
    pub reporter_name: Option<String>,
    pub reporter_email: Option<String>,
    pub duplicate_of_number: Option<i64>,
    pub duplicate_count: i64,
    pub regression: bool,
    pub reopen_count: i32,
    pub affected_reporters: i64,
    pub possible_regression_of_number: Option<i64>,
    pub steps_to_reproduce: String,
    pub expected: String,
    pub actual: String,
    pub environment: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub resolved_at: Option<i64>,
}

fn optional<T>(
    text: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, moth_core::DomainError>,
) -> StoreResult<Option<T>> {
    text.as_deref().map(parse).transpose().map_err(corrupt)
}

impl IssueRow {
    /// The editable fields, parsed back into domain values.
    pub fn fields(&self, labels: Vec<String>) -> StoreResult<IssueFields> {
        let project = ProjectKey::parse(&self.project_key).map_err(corrupt)?;
        let assignee = match (self.assignee_id, &self.assignee_name, &self.assignee_email) {
            (Some(id), Some(name), Some(email)) => Some(UserSummary {
                id,
                name: name.clone(),
                email: email.clone(),
            }),
            _ => None,
        };
        Ok(IssueFields {
            issue_type: IssueType::parse(&self.issue_type).map_err(corrupt)?,
            title: IssueTitle::parse(&self.title).map_err(corrupt)?,
            description: self.description.clone(),
            status: Status::parse(&self.status).map_err(corrupt)?,
            resolution: optional(&self.resolution, Resolution::parse)?,
            severity: optional(&self.severity, Severity::parse)?,
            priority: Priority::parse(&self.priority).map_err(corrupt)?,
            component: optional(&self.component, |t| Name::parse("component", t))?,
            labels: labels
                .iter()
                .map(|l| Name::parse("labels", l))
                .collect::<Result<_, _>>()
                .map_err(corrupt)?,
            affects_version: optional(&self.affects_version, |t| {
                Version::parse("affects_version", t)
            })?,
            fixed_in_version: optional(&self.fixed_in_version, |t| {
                Version::parse("fixed_in_version", t)
            })?,
            assignee,
            duplicate_of: self
                .duplicate_of_number
                .map(|number| IssueRef { project, number }),
            steps_to_reproduce: self.steps_to_reproduce.clone(),
            expected: self.expected.clone(),
            actual: self.actual.clone(),
            environment: self.environment.clone(),
            regression: self.regression,
            reopen_count: self.reopen_count,
        })
    }

    /// The whole issue record; `context` is the JSON its first captured report carried.
    pub fn into_issue(
        self,
        labels: Vec<String>,
        watchers: Vec<UserSummary>,
        context: Option<String>,
    ) -> StoreResult<moth_core::Issue> {
        let fields = self.fields(labels)?;
        let reporter = match (
            self.reporter_user_id,
            &self.reporter_user_name,
            &self.reporter_user_email,
        ) {
            (Some(id), Some(name), Some(email)) => Reporter::User {
                id,
                name: name.clone(),
                email: email.clone(),
            },
            _ => Reporter::Guest {
                name: self.reporter_name.clone(),
                email: self.reporter_email.clone(),
            },
        };
        let context = match context {
            Some(text) => {
                Some(serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?)
            }
            None => None,
        };
        let possible_regression_of = self
            .possible_regression_of_number
            .map(|n| format!("{}-{n}", self.project_key));
        Ok(moth_core::Issue {
            id: format!("{}-{}", self.project_key, self.number),
            number: self.number,
            project: self.project_key,
            fields,
            reporter,
            watchers,
            duplicate_count: self.duplicate_count,
            affected_reporters: self.affected_reporters,
            possible_regression_of,
            context,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            resolved_at: self.resolved_at.map(from_micros).transpose()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ProjectRow {
    pub id: i64,
    pub key: String,
    pub name: String,
    pub intake_key: String,
    pub allowed_origins: String,
    pub components: String,
    pub versions: String,
    pub next_issue_number: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

pub const PROJECT_SELECT: &str = "select id, key, name, intake_key, allowed_origins, components, versions, \
    next_issue_number, created_at, updated_at from projects";

fn json_list(text: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("list {text:?}: {e}")))
}

impl ProjectRow {
    pub fn into_project(self) -> StoreResult<Project> {
        Ok(Project {
            allowed_origins: json_list(&self.allowed_origins)?,
            components: json_list(&self.components)?,
            versions: json_list(&self.versions)?,
            issue_count: self.next_issue_number - 1,
            key: self.key,
            name: self.name,
            intake_key: self.intake_key,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
        })
    }

    pub fn rules(&self) -> StoreResult<moth_core::ProjectRules> {
        Ok(moth_core::ProjectRules {
            components: json_list(&self.components)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: Option<String>,
    pub active: bool,
    pub created_at: i64,
}

pub const USER_SELECT: &str =
    "select id, email, name, role, password_hash, active, created_at from users";

impl UserRow {
    pub fn into_user(self) -> StoreResult<User> {
        Ok(User {
            id: self.id,
            email: self.email,
            name: self.name,
            role: Role::parse(&self.role).map_err(corrupt)?,
            active: self.active,
            created_at: from_micros(self.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ApiTokenRow {
    pub fn into_token(self) -> StoreResult<ApiToken> {
        Ok(ApiToken {
            id: self.id,
            name: self.name,
            created_at: from_micros(self.created_at)?,
            last_used_at: self.last_used_at.map(from_micros).transpose()?,
            expires_at: self.expires_at.map(from_micros).transpose()?,
            revoked_at: self.revoked_at.map(from_micros).transpose()?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub issue_ref: String,
    pub author_id: i64,
    pub author_name: String,
    pub author_email: String,
    pub body: String,
    pub body_html: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub const COMMENT_SELECT: &str = "select c.id, p.key || '-' || i.number as issue_ref, c.author_id, \
    u.name as author_name, u.email as author_email, c.body, c.body_html, c.created_at, c.updated_at \
    from comments c join issues i on i.id = c.issue_id join projects p on p.id = i.project_id \
    join users u on u.id = c.author_id";

impl CommentRow {
    pub fn into_comment(self) -> StoreResult<Comment> {
        Ok(Comment {
            id: self.id,
            issue: self.issue_ref,
            author: UserSummary {
                id: self.author_id,
                name: self.author_name,
                email: self.author_email,
            },
            body: self.body,
            body_html: self.body_html,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: String,
    pub issue_ref: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub object_key: String,
    pub created_at: i64,
}

pub const ATTACHMENT_SELECT: &str = "select t.id, p.key || '-' || i.number as issue_ref, t.filename, \
    t.content_type, t.size, t.object_key, t.created_at from attachments t \
    join issues i on i.id = t.issue_id join projects p on p.id = i.project_id";

impl AttachmentRow {
    pub fn into_attachment(self) -> StoreResult<Attachment> {
        Ok(Attachment {
            id: self.id,
            issue: self.issue_ref,
            filename: self.filename,
            content_type: self.content_type,
            size: self.size,
            object_key: self.object_key,
            created_at: from_micros(self.created_at)?,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub kind: String,
    pub project_key: Option<String>,
    pub issue_ref: Option<String>,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub payload: String,
    pub created_at: i64,
}

pub const EVENT_SELECT: &str = "select e.id, e.kind, p.key as project_key, \
    case when i.id is null then null else ip.key || '-' || i.number end as issue_ref, \
    e.actor_id, u.name as actor_name, u.email as actor_email, e.payload, e.created_at \
    from events e left join projects p on p.id = e.project_id left join issues i on i.id = e.issue_id \
    left join projects ip on ip.id = i.project_id left join users u on u.id = e.actor_id";

impl EventRow {
    fn payload(&self) -> StoreResult<serde_json::Value> {
        serde_json::from_str(&self.payload).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    pub fn into_event(self) -> StoreResult<crate::models::Event> {
        Ok(crate::models::Event {
            payload: self.payload()?,
            id: self.id,
            kind: self.kind,
            project: self.project_key,
            issue: self.issue_ref,
            actor_id: self.actor_id,
            created_at: from_micros(self.created_at)?,
        })
    }

    pub fn into_activity(self) -> StoreResult<moth_core::ActivityEntry> {
        let payload = self.payload()?;
        let changes = match payload.get("changes") {
            Some(changes) => serde_json::from_value(changes.clone())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            None => Vec::new(),
        };
        let actor = match (self.actor_id, self.actor_name, self.actor_email) {
            (Some(id), Some(name), Some(email)) => Some(UserSummary { id, name, email }),
            _ => None,
        };
        Ok(moth_core::ActivityEntry {
            id: self.id,
            kind: self.kind,
            actor,
            changes,
            comment_id: payload.get("comment_id").and_then(|v| v.as_i64()),
            attachment_id: payload
                .get("attachment_id")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            detail: payload
                .get("detail")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            created_at: from_micros(self.created_at)?,
        })
    }
}
