//! The issue page (fields with editing, the bug-report block, the developer-ready context of
//! captured reports, comments, attachments, history) and the form that files a new issue.

use super::context::{Captured, issue_markdown};
use super::listing::reporter_name;
use super::session::PageSession;
use super::{Nav, PageResult, form, moment, render};
use crate::error::ApiError;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect};
use axum::routing::{get, post};
use moth_core::{
    ActivityEntry, Attachment, Comment, DomainError, Email, Issue, IssueChange, IssueChangeInput,
    IssueDraftInput, IssueRef, IssueType, LongText, NewIssue, Priority, Project, ProjectRules,
    Resolution, Role, Severity, Status,
};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

/// The issue pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/issues/{id}", get(show).post(edit))
        .route("/issues/{id}/field", post(set_field))
        .route("/issues/{id}/comments", post(comment))
        .route("/issues/{id}/preview", post(preview))
        .route("/issues/{id}/watch", post(watch))
        .route("/issues/{id}/markdown", get(markdown))
        .route("/issues/{id}/similar", get(similar_page))
        .route("/projects/{key}/new", get(new_form).post(create))
}

pub(super) fn issue_ref(id: &str) -> Result<IssueRef, ApiError> {
    IssueRef::parse(id)
        .map_err(|_| ApiError::NotFound(format!("{id} is not an issue id such as WEB-12")))
}

/// The edit form's values: the issue's, or what the person typed when it was refused.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EditValues {
    csrf: String,
    expected_updated_at: String,
    #[serde(rename = "type")]
    issue_type: String,
    title: String,
    status: String,
    resolution: String,
    duplicate_of: String,
    severity: String,
    priority: String,
    assignee: String,
    component: String,
    labels: String,
    affects_version: String,
    fixed_in_version: String,
    description: String,
    steps_to_reproduce: String,
    expected: String,
    actual: String,
    environment: String,
}

impl EditValues {
    fn of(issue: &Issue) -> Self {
        let f = &issue.fields;
        EditValues {
            csrf: String::new(),
            expected_updated_at: issue.updated_at.format(&Rfc3339).unwrap_or_default(),
            issue_type: f.issue_type.as_str().into(),
            title: f.title.as_str().into(),
            status: f.status.as_str().into(),
            resolution: f
                .resolution
                .map(|r| r.as_str().to_string())
                .unwrap_or_default(),
            duplicate_of: f
                .duplicate_of
                .as_ref()
                .map(|d| d.to_string())
                .unwrap_or_default(),
            severity: f
                .severity
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            priority: f.priority.as_str().into(),
            assignee: f
                .assignee
                .as_ref()
                .map(|a| a.email.clone())
                .unwrap_or_default(),
            component: f
                .component
                .as_ref()
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            labels: f
                .labels
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            affects_version: f
                .affects_version
                .as_ref()
                .map(|v| v.as_str().to_string())
                .unwrap_or_default(),
            fixed_in_version: f
                .fixed_in_version
                .as_ref()
                .map(|v| v.as_str().to_string())
                .unwrap_or_default(),
            description: f.description.clone(),
            steps_to_reproduce: f.steps_to_reproduce.clone(),
            expected: f.expected.clone(),
            actual: f.actual.clone(),
            environment: f.environment.clone(),
        }
    }

    /// Every field as a change: the store records only the ones that differ.
    fn change(&self) -> IssueChangeInput {
        let clearable = |text: &str| Some(Some(text.to_string()).filter(|t| !t.trim().is_empty()));
        IssueChangeInput {
            issue_type: Some(self.issue_type.clone()),
            title: Some(self.title.clone()),
            description: clearable(&self.description),
            status: Some(self.status.clone()),
            resolution: clearable(&self.resolution),
            severity: clearable(&self.severity),
            priority: Some(self.priority.clone()),
            component: clearable(&self.component),
            labels: Some(comma_list(&self.labels)),
            affects_version: clearable(&self.affects_version),
            fixed_in_version: clearable(&self.fixed_in_version),
            assignee: clearable(&self.assignee),
            duplicate_of: clearable(&self.duplicate_of),
            steps_to_reproduce: clearable(&self.steps_to_reproduce),
            expected: clearable(&self.expected),
            actual: clearable(&self.actual),
            environment: clearable(&self.environment),
            expected_updated_at: Some(self.expected_updated_at.clone()).filter(|t| !t.is_empty()),
        }
    }
}

/// The entries of a comma-separated field (labels), blanks dropped.
fn comma_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// A line of the history.
pub struct HistoryLine {
    pub who: String,
    pub when: String,
    pub what: Vec<String>,
}

fn history_line(entry: &ActivityEntry) -> HistoryLine {
    let show = |v: &serde_json::Value| match v {
        serde_json::Value::Null => "nothing".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut what: Vec<String> = entry
        .changes
        .iter()
        .map(|c| format!("{}: {} → {}", c.field, show(&c.from), show(&c.to)))
        .collect();
    if let Some(detail) = &entry.detail {
        what.insert(0, detail.clone());
    }
    if what.is_empty() {
        what.push(
            match entry.kind.as_str() {
                "issue.created" => "filed the issue",
                "report.captured" => "captured the report",
                "comment.added" => "commented",
                "attachment.added" => "attached a file",
                other => other,
            }
            .to_string(),
        );
    }
    HistoryLine {
        who: entry
            .actor
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| "the reporter".into()),
        when: moment(entry.created_at),
        what,
    }
}

/// A person an issue can be assigned to.
pub struct Assignable {
    pub email: String,
    pub name: String,
}

#[derive(Template)]
#[template(path = "issue.html")]
pub(super) struct IssuePage {
    nav: Nav,
    project: Project,
    issue: Issue,
    reporter: String,
    created: String,
    updated: String,
    description_html: String,
    captured: Option<Captured>,
    screenshot: Option<Attachment>,
    attachments: Vec<Attachment>,
    comments: Vec<Comment>,
    history: Vec<HistoryLine>,
    values: EditValues,
    edit_error: Option<(String, String)>,
    comment_error: Option<String>,
    comment_body: String,
    can_edit: bool,
    watching: bool,
    assignable: Vec<Assignable>,
    types: Vec<&'static str>,
    statuses: Vec<&'static str>,
    resolutions: Vec<&'static str>,
    severities: Vec<&'static str>,
    priorities: Vec<&'static str>,
    link_groups: Vec<super::links::LinkGroup>,
    link_choices: Vec<(&'static str, &'static str)>,
    /// Why the last link change was refused.
    pub(super) link_error: Option<String>,
    pub(super) link_form: super::links::LinkForm,
}

impl IssuePage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::field_error(&self.edit_error, field)
    }
}

pub(super) async fn issue_page(
    state: &AppState,
    session: &PageSession,
    issue: Issue,
) -> Result<IssuePage, crate::pages::PageError> {
    let issue_ref = issue_ref(&issue.id)?;
    let project = state.store.project(&issue.project).await?;
    let mut attachments = state.store.attachments(&issue_ref).await?;
    let screenshot_at = attachments.iter().position(|a| {
        a.filename.starts_with("screenshot.") && a.content_type.starts_with("image/")
    });
    let screenshot = screenshot_at.map(|i| attachments.remove(i));
    let comments = state.store.comments(&issue_ref).await?;
    let history = state
        .store
        .activity(&issue_ref)
        .await?
        .iter()
        .map(history_line)
        .collect();
    let assignable = state
        .store
        .users()
        .await?
        .into_iter()
        .filter(|u| u.active && u.role != Role::Viewer)
        .map(|u| Assignable {
            email: u.email,
            name: u.name,
        })
        .collect();
    let link_groups = super::links::groups(state.store.links(&issue_ref).await?);
    Ok(IssuePage {
        nav: Nav {
            live_issue: Some(issue.id.clone()),
            ..Nav::project(session, &project, "")
        },
        reporter: reporter_name(&issue.reporter),
        created: moment(issue.created_at),
        updated: moment(issue.updated_at),
        description_html: moth_core::markdown::render_markdown(&issue.fields.description),
        captured: Captured::of(issue.context.as_ref()),
        screenshot,
        attachments,
        comments,
        history,
        values: EditValues::of(&issue),
        edit_error: None,
        comment_error: None,
        comment_body: String::new(),
        can_edit: session.is_member(),
        watching: issue.watchers.iter().any(|w| w.id == session.user.id),
        assignable,
        types: IssueType::ALL.iter().map(|t| t.as_str()).collect(),
        statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
        resolutions: Resolution::ALL.iter().map(|r| r.as_str()).collect(),
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        link_groups,
        link_choices: super::links::choices(),
        link_error: None,
        link_form: Default::default(),
        project,
        issue,
    })
}

/// How many look-alikes the issue page suggests.
const SIMILAR_SHOWN: i64 = 5;

/// Similar issues without script: the issue page fills its block from the API after loading
/// (the query costs more than the rest of the page), and links here for browsers without it.
#[derive(Template)]
#[template(path = "issue_similar.html")]
struct SimilarPage {
    nav: Nav,
    issue: Issue,
    similar: Vec<moth_store::SimilarIssue>,
}

/// `GET /issues/{id}/similar`: the issue's look-alikes in its own project, the only ones it can
/// be marked a duplicate of.
async fn similar_page(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
) -> PageResult {
    let issue = state.store.issue(&issue_ref(&id)?).await?;
    let project = state.store.project(&issue.project).await?;
    let options = moth_store::SimilarOptions::new(
        moth_store::ProjectScope::Only(vec![project.key.clone()]),
        SIMILAR_SHOWN,
    );
    let similar = state
        .store
        .similar_issues(&issue_ref(&id)?, &options)
        .await?;
    let page = SimilarPage {
        nav: Nav::project(&session, &project, ""),
        issue,
        similar,
    };
    Ok(render(StatusCode::OK, page)?)
}

/// `GET /issues/{id}`.
async fn show(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
) -> PageResult {
    let issue = state.store.issue(&issue_ref(&id)?).await?;
    let page = issue_page(&state, &session, issue).await?;
    Ok(render(StatusCode::OK, page)?)
}

/// `POST /issues/{id}`: saves the edit form; a refused edit shows the error by its field and
/// keeps what was typed; a stale edit (someone changed the issue meanwhile) is refused with 409.
async fn edit(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_member()?;
    let values: EditValues = form(&body)?;
    session.check_csrf(&values.csrf)?;
    let change = values.change();
    save_change(&state, &session, &id, change, |page| {
        // Keep what was typed.
        page.values = EditValues {
            expected_updated_at: page.values.expected_updated_at.clone(),
            ..values
        };
    })
    .await
}

/// One field changed in place from the issue page's side panel.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FieldForm {
    csrf: String,
    field: String,
    value: String,
    /// With `status`: the resolution, when the new status needs one.
    resolution: String,
}

impl FieldForm {
    /// The change of the one field named; other fields stay as they are.
    fn change(&self) -> Result<IssueChangeInput, DomainError> {
        let clearable = |text: &str| Some(Some(text.to_string()).filter(|t| !t.trim().is_empty()));
        let value = self.value.clone();
        let mut change = IssueChangeInput::default();
        match self.field.as_str() {
            "type" => change.issue_type = Some(value),
            "status" => {
                change.status = Some(value);
                if !self.resolution.trim().is_empty() {
                    change.resolution = clearable(&self.resolution);
                }
            }
            "severity" => change.severity = clearable(&value),
            "priority" => change.priority = Some(value),
            "assignee" => change.assignee = clearable(&value),
            "component" => change.component = clearable(&value),
            "labels" => change.labels = Some(comma_list(&value)),
            "affects_version" => change.affects_version = clearable(&value),
            "fixed_in_version" => change.fixed_in_version = clearable(&value),
            other => {
                return Err(DomainError::field(
                    "field",
                    format!("'{other}' cannot be changed on its own here; use the Edit form"),
                ));
            }
        }
        Ok(change)
    }
}

/// `POST /issues/{id}/field`: changes one field in place (status, severity, priority, assignee,
/// type, component, labels, versions).
async fn set_field(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_member()?;
    let input: FieldForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    match input.change() {
        Ok(change) => save_change(&state, &session, &id, change, |_| {}).await,
        Err(refused) => {
            let issue = state.store.issue(&issue_ref(&id)?).await?;
            let mut page = issue_page(&state, &session, issue).await?;
            page.edit_error = Some((
                refused.field.unwrap_or_default().to_string(),
                refused.message,
            ));
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, page)?)
        }
    }
}

/// Saves a change made on the issue page and goes back to it; a refused change shows the issue
/// with the error by its field (`keep` restores what was typed); a stale edit (someone changed
/// the issue meanwhile) is refused with 409 and shows the newer issue.
async fn save_change(
    state: &AppState,
    session: &PageSession,
    id: &str,
    change: IssueChangeInput,
    keep: impl FnOnce(&mut IssuePage),
) -> PageResult {
    let issue_ref = issue_ref(id)?;
    let result = match IssueChange::parse(&change) {
        Ok(change) => state
            .store
            .update_issue(&issue_ref, change, session.actor())
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(issue) => Ok(Redirect::to(&format!("/issues/{}", issue.id)).into_response()),
        Err(error) => {
            let (status, _, message, field) = error.parts();
            if status.is_server_error() || status == StatusCode::NOT_FOUND {
                return Err(error.into());
            }
            let issue = state.store.issue(&issue_ref).await?;
            let mut page = issue_page(state, session, issue).await?;
            page.edit_error = Some((field.unwrap_or_default(), message));
            if status != StatusCode::CONFLICT {
                keep(&mut page);
            }
            Ok(render(status, page)?)
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CommentForm {
    csrf: String,
    body: String,
}

/// `POST /issues/{id}/comments`.
async fn comment(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_member()?;
    let input: CommentForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let issue_ref = issue_ref(&id)?;
    let refused = match LongText::parse_optional("body", &input.body) {
        Ok(Some(text)) => {
            let added = state
                .store
                .add_comment(&issue_ref, session.user.id, &text)
                .await?;
            return Ok(
                Redirect::to(&format!("/issues/{issue_ref}#comment-{}", added.id)).into_response(),
            );
        }
        Ok(None) => "write something before sending".to_string(),
        Err(e) => e.message,
    };
    let issue = state.store.issue(&issue_ref).await?;
    let mut page = issue_page(&state, &session, issue).await?;
    page.comment_error = Some(refused);
    page.comment_body = input.body;
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, page)?)
}

/// `POST /issues/{id}/preview`: the comment's Markdown as the sanitized HTML it will show as.
async fn preview(session: PageSession, body: Bytes) -> PageResult {
    let input: CommentForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    Ok(Html(moth_core::markdown::render_markdown(&input.body)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WatchForm {
    csrf: String,
    watch: String,
}

/// `POST /issues/{id}/watch`: start or stop watching.
async fn watch(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    let input: WatchForm = form(&body)?;
    session.check_csrf(&input.csrf)?;
    let issue_ref = issue_ref(&id)?;
    let email = Email::parse(&session.user.email)?;
    state
        .store
        .set_watching(&issue_ref, &email, input.watch == "yes", session.actor())
        .await?;
    Ok(Redirect::to(&format!("/issues/{issue_ref}")).into_response())
}

/// `GET /issues/{id}/markdown`: the issue as Markdown, for "copy as Markdown".
async fn markdown(
    State(state): State<AppState>,
    _session: PageSession,
    Path(id): Path<String>,
) -> PageResult {
    let issue = state.store.issue(&issue_ref(&id)?).await?;
    let url = state.issue_url(&issue.id);
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        issue_markdown(&issue, &url),
    )
        .into_response())
}

/// The form's values for a new issue.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct DraftValues {
    csrf: String,
    #[serde(rename = "type")]
    issue_type: String,
    title: String,
    description: String,
    severity: String,
    priority: String,
    component: String,
    labels: String,
    affects_version: String,
    steps_to_reproduce: String,
    expected: String,
    actual: String,
    environment: String,
}

/// What each type's description starts with, so every kind of work is written up the way it
/// is best acted on. Bugs and performance issues get the structured bug-report fields instead.
fn description_template(issue_type: IssueType) -> &'static str {
    match issue_type {
        IssueType::Feature => {
            "## Problem\n\nWho needs this, and what can they not do today?\n\n## Proposal\n\n"
        }
        IssueType::Improvement => "## What is hard today\n\n## Suggested change\n\n",
        IssueType::Task => "## What to do\n\n## Done when\n\n",
        IssueType::Question => "",
        IssueType::Docs => "## Page or topic\n\n## What is missing or wrong\n\n",
        IssueType::Performance => "## What is slow\n\n## Measurements\n\n",
        IssueType::Support => "## Customer\n\n## Request\n\n",
        IssueType::Bug => "",
    }
}

#[derive(Template)]
#[template(path = "issue_new.html")]
struct NewIssuePage {
    nav: Nav,
    project: Project,
    values: DraftValues,
    error: Option<(String, String)>,
    has_severity: bool,
    is_bug_report: bool,
    types: Vec<&'static str>,
    severities: Vec<&'static str>,
    priorities: Vec<&'static str>,
}

impl NewIssuePage {
    fn field_error(&self, field: &str) -> Option<&str> {
        super::field_error(&self.error, field)
    }

    fn of(nav: Nav, project: Project, values: DraftValues) -> Self {
        let issue_type = IssueType::parse(&values.issue_type).unwrap_or(IssueType::Bug);
        NewIssuePage {
            nav,
            project,
            has_severity: issue_type.has_severity(),
            is_bug_report: matches!(issue_type, IssueType::Bug | IssueType::Performance),
            values,
            error: None,
            types: IssueType::ALL.iter().map(|t| t.as_str()).collect(),
            severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
            priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    #[serde(rename = "type")]
    issue_type: String,
    title: String,
}

/// `GET /projects/{key}/new?type=bug`: the form, with the template of the type.
async fn new_form(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    axum::extract::Query(query): axum::extract::Query<NewQuery>,
) -> PageResult {
    session.require_member()?;
    let project = state.store.project(&key).await?;
    let issue_type = IssueType::parse(&query.issue_type).unwrap_or(IssueType::Bug);
    let values = DraftValues {
        issue_type: issue_type.as_str().into(),
        title: query.title,
        description: description_template(issue_type).into(),
        priority: Priority::DEFAULT.as_str().into(),
        ..DraftValues::default()
    };
    let nav = Nav::project(&session, &project, "");
    Ok(render(
        StatusCode::OK,
        NewIssuePage::of(nav, project, values),
    )?)
}

/// `POST /projects/{key}/new`: files the issue and opens it; a refused one shows the error by
/// its field and keeps what was typed.
async fn create(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    body: Bytes,
) -> PageResult {
    session.require_member()?;
    let values: DraftValues = form(&body)?;
    session.check_csrf(&values.csrf)?;
    let project = state.store.project(&key).await?;
    let optional = |text: &str| Some(text.to_string()).filter(|t| !t.trim().is_empty());
    let draft = IssueDraftInput {
        issue_type: values.issue_type.clone(),
        title: values.title.clone(),
        description: optional(&values.description),
        severity: optional(&values.severity),
        priority: optional(&values.priority),
        component: optional(&values.component),
        labels: Some(comma_list(&values.labels)),
        affects_version: optional(&values.affects_version),
        steps_to_reproduce: optional(&values.steps_to_reproduce),
        expected: optional(&values.expected),
        actual: optional(&values.actual),
        environment: optional(&values.environment),
        ..IssueDraftInput::default()
    };
    let rules = ProjectRules {
        components: project.components.clone(),
    };
    let result = match NewIssue::parse(&draft, &rules) {
        Ok(new) => state
            .store
            .create_issue(&project.key, new, Some(&session.user.summary()))
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e.into()),
    };
    match result {
        Ok(issue) => Ok(Redirect::to(&format!("/issues/{}", issue.id)).into_response()),
        Err(error) => {
            let (status, _, message, field) = error.parts();
            if status.is_server_error() {
                return Err(error.into());
            }
            let nav = Nav::project(&session, &project, "");
            let mut page = NewIssuePage::of(nav, project, values);
            page.error = Some((field.unwrap_or_default(), message));
            Ok(render(status, page)?)
        }
    }
}
