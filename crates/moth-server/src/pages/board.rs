//! A project's board: a column per status, or (`?by=release`) per release not yet shipped and
//! one for no release; cards that show type, severity and priority at a glance, the list's
//! filters, and moves by drag and drop (or the board's one Move form).

use super::listing::{FilterValues, Row};
use super::session::PageSession;
use super::{Nav, PageError, PageResult, form, render};
use crate::error::ApiError;
use crate::extract::QueryMap;
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use moth_core::metrics::unreleased_versions;
use moth_core::{
    DomainError, IssueChange, IssueChangeInput, IssueFilter, IssueFilterInput, IssueRef, IssueSort,
    IssueType, Priority, Project, ReleaseFilter, Resolution, Severity, Status,
};
use moth_store::{CountBy, IssueListing};
use serde::Deserialize;

/// Most cards a column shows; past them the column links to the list of all of its issues.
/// The board is for looking over work, and every card costs HTML on every load.
pub const CARDS_PER_COLUMN: i64 = 25;

/// The board's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{key}/board", get(board))
        .route("/projects/{key}/board/move", post(move_on_board))
        .route("/issues/{id}/move", post(move_card))
}

/// No release: the key of the column of open issues planned for none.
pub const NO_RELEASE: &str = "none";

/// One column: a status (or a release) and its first cards.
pub struct Column {
    /// The status, or the release's version (`none` for no release).
    pub key: String,
    pub heading: String,
    pub cards: Vec<Row>,
    /// How many issues of the filter are in the column.
    pub total: i64,
    /// The list of all of them, with the board's filters.
    pub list_url: String,
}

impl Column {
    /// How many issues the column holds beyond its cards.
    pub fn more(&self) -> i64 {
        self.total - self.cards.len() as i64
    }
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    nav: Nav,
    project: Project,
    columns: Vec<Column>,
    filters: FilterValues,
    /// Columns by release rather than by status.
    by_release: bool,
    /// The releases not yet shipped, oldest first (the Move form's choices by release).
    releases: Vec<String>,
    /// The board's own URL with its filters, where a move by form comes back to.
    back: String,
    error: Option<(String, String)>,
    can_move: bool,
    statuses: Vec<&'static str>,
    resolutions: Vec<&'static str>,
    types: Vec<&'static str>,
    severities: Vec<&'static str>,
    priorities: Vec<&'static str>,
}

/// The filter parameters of the board, the same as the list's (without status).
/// A filter's value among the form's values.
type FilterValue = fn(&FilterValues) -> &str;

const FILTER_PARAMS: &[(&str, FilterValue)] = &[
    ("type", |f| &f.issue_type),
    ("severity", |f| &f.severity),
    ("priority", |f| &f.priority),
    ("component", |f| &f.component),
    ("label", |f| &f.label),
    ("assignee", |f| &f.assignee),
    ("q", |f| &f.q),
];

/// `?name=value&...` of the filters that are set, after `first` pairs.
fn query_string(first: &[(&str, &str)], filters: &FilterValues) -> String {
    let mut pairs: Vec<(&str, &str)> = first.to_vec();
    for (name, value) in FILTER_PARAMS {
        let value = value(filters);
        if !value.is_empty() {
            pairs.push((name, value));
        }
    }
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// `GET /projects/{key}/board`, with the list's filters (`type`, `severity`, `priority`,
/// `component`, `label`, `assignee`, `q`).
async fn board(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    query: QueryMap,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let get = |name: &str| query.get(name).unwrap_or("").trim().to_string();
    let filters = FilterValues {
        issue_type: get("type"),
        status: String::new(),
        severity: get("severity"),
        priority: get("priority"),
        component: get("component"),
        label: get("label"),
        assignee: get("assignee"),
        q: get("q"),
        sort: "priority".into(),
        release: String::new(),
    };
    let by_release = query.get("by") == Some("release");
    let (columns, error) = match columns(&state, &project, &filters, by_release).await? {
        Ok(columns) => (columns, None),
        Err(e) => (
            Vec::new(),
            Some((e.field.unwrap_or("filter").to_string(), e.message)),
        ),
    };
    let code = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mode: &[(&str, &str)] = if by_release {
        &[("by", "release")]
    } else {
        &[]
    };
    let back = format!(
        "/projects/{}/board?{}",
        project.key,
        query_string(mode, &filters)
    );
    let releases = if by_release {
        columns
            .iter()
            .filter(|c| c.key != NO_RELEASE)
            .map(|c| c.key.clone())
            .collect()
    } else {
        Vec::new()
    };
    Ok(render(
        code,
        BoardPage {
            nav: Nav::project(&session, &project, "board"),
            project,
            columns,
            filters,
            by_release,
            releases,
            back,
            error,
            can_move: session.is_member(),
            statuses: Status::ALL.iter().map(|s| s.as_str()).collect(),
            resolutions: Resolution::ALL.iter().map(|r| r.as_str()).collect(),
            types: IssueType::ALL.iter().map(|t| t.as_str()).collect(),
            severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
            priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
        },
    )?)
}

/// A board, or what is wrong with its filters (shown on the page), or a failure.
type Columns = Result<Result<Vec<Column>, DomainError>, PageError>;

/// The columns by status: how many issues of the filter each holds (from the shared counts
/// when nothing is filtered), and the first cards of those that hold any.
async fn columns(
    state: &AppState,
    project: &Project,
    filters: &FilterValues,
    by_release: bool,
) -> Columns {
    let columns = if by_release {
        release_columns(state, project, filters).await
    } else {
        status_columns(state, project, filters).await
    };
    match columns {
        Ok(columns) => Ok(Ok(columns)),
        Err(BoardError::Filter(e)) => Ok(Err(e)),
        Err(BoardError::Store(e)) => Err(e.into()),
    }
}

/// Why a board could not be drawn.
enum BoardError {
    Filter(DomainError),
    Store(moth_store::StoreError),
}

impl From<DomainError> for BoardError {
    fn from(e: DomainError) -> Self {
        BoardError::Filter(e)
    }
}

impl From<moth_store::StoreError> for BoardError {
    fn from(e: moth_store::StoreError) -> Self {
        match e {
            moth_store::StoreError::Invalid(e) => BoardError::Filter(e),
            other => BoardError::Store(other),
        }
    }
}

/// The board's filter (the list's, without status) from the form's values.
fn parse_filter(
    filters: &FilterValues,
    statuses: Option<&str>,
) -> Result<IssueFilter, DomainError> {
    IssueFilter::parse(&IssueFilterInput {
        types: Some(filters.issue_type.as_str()),
        statuses,
        severities: Some(filters.severity.as_str()),
        priorities: Some(filters.priority.as_str()),
        components: Some(filters.component.as_str()),
        labels: Some(filters.label.as_str()),
        assignees: Some(filters.assignee.as_str()),
        text: Some(filters.q.as_str()),
    })
}

/// Fills each column with its first cards, in one query for all.
async fn fill(
    state: &AppState,
    project: &Project,
    columns: &mut [Column],
    listings: Vec<(usize, IssueListing)>,
) -> Result<(), BoardError> {
    let (places, listings): (Vec<usize>, Vec<IssueListing>) = listings.into_iter().unzip();
    let cards = state
        .store
        .list_issue_columns(&project.key, &listings)
        .await?;
    for (place, issues) in places.into_iter().zip(cards) {
        columns[place].cards = issues.iter().map(Row::of).collect();
    }
    Ok(())
}

async fn status_columns(
    state: &AppState,
    project: &Project,
    filters: &FilterValues,
) -> Result<Vec<Column>, BoardError> {
    let filter = parse_filter(filters, None)?;
    let totals: Vec<(String, i64)> = if filter.is_empty() {
        state
            .pages
            .issue_counts(&state.store, &project.key)
            .await?
            .into_iter()
            .map(|c| (c.status, c.count))
            .collect()
    } else {
        state
            .store
            .count_issues(&project.key, &filter, CountBy::Status)
            .await?
            .into_iter()
            .map(|(status, n)| (status.unwrap_or_default(), n))
            .collect()
    };
    let mut columns = Vec::new();
    let mut listings = Vec::new();
    for status in Status::ALL {
        let total = totals
            .iter()
            .filter(|(s, _)| s == status.as_str())
            .map(|(_, n)| n)
            .sum();
        if total > 0 {
            listings.push((
                columns.len(),
                IssueListing {
                    filter: IssueFilter {
                        statuses: vec![*status],
                        ..filter.clone()
                    },
                    sort: IssueSort::parse(Some(if status.is_done() {
                        "-updated"
                    } else {
                        "priority"
                    }))?,
                    limit: CARDS_PER_COLUMN,
                    cursor: None,
                },
            ));
        }
        columns.push(Column {
            key: status.as_str().to_string(),
            heading: status.as_str().to_string(),
            cards: Vec::new(),
            total,
            list_url: format!(
                "/projects/{}?{}",
                project.key,
                query_string(&[("view", "all"), ("status", status.as_str())], filters)
            ),
        });
    }
    fill(state, project, &mut columns, listings).await?;
    Ok(columns)
}

/// The columns by release: the open issues planned (`fixed_in_version`) for each version not
/// shipped yet, oldest first, then those planned for none. Counts come from the shared release
/// counts when nothing is filtered.
async fn release_columns(
    state: &AppState,
    project: &Project,
    filters: &FilterValues,
) -> Result<Vec<Column>, BoardError> {
    let unfiltered = parse_filter(filters, None)?.is_empty();
    let filter = parse_filter(filters, Some("open"))?;
    let releases = state
        .pages
        .release_counts(&state.store, &project.key)
        .await?;
    let shipped: Vec<String> = releases
        .iter()
        .filter(|r| r.fixed > 0)
        .map(|r| r.version.clone())
        .collect();
    let mut candidates = project.versions.clone();
    candidates.extend(
        releases
            .iter()
            .filter(|r| r.planned > 0)
            .map(|r| r.version.clone()),
    );
    let versions = unreleased_versions(&shipped, &candidates);
    let totals: Vec<(Option<String>, i64)> = if unfiltered {
        let open: i64 = state
            .pages
            .issue_counts(&state.store, &project.key)
            .await?
            .iter()
            .filter(|c| Status::parse(&c.status).is_ok_and(|s| s.is_open()))
            .map(|c| c.count)
            .sum();
        let planned: i64 = releases.iter().map(|r| r.planned).sum();
        let mut totals: Vec<(Option<String>, i64)> = releases
            .iter()
            .map(|r| (Some(r.version.clone()), r.planned))
            .collect();
        totals.push((None, open - planned));
        totals
    } else {
        state
            .store
            .count_issues(&project.key, &filter, CountBy::FixedInVersion)
            .await?
    };
    let mut columns = Vec::new();
    let mut listings = Vec::new();
    let keys = versions
        .iter()
        .map(|v| Some(v.as_str()))
        .chain(std::iter::once(None));
    for version in keys {
        let total = totals
            .iter()
            .filter(|(v, _)| v.as_deref() == version)
            .map(|(_, n)| n)
            .sum();
        let release = match version {
            Some(v) => ReleaseFilter::Version(v.to_string()),
            None => ReleaseFilter::Unplanned,
        };
        if total > 0 {
            listings.push((
                columns.len(),
                IssueListing {
                    filter: IssueFilter {
                        release: Some(release),
                        ..filter.clone()
                    },
                    sort: IssueSort::parse(Some("priority"))?,
                    limit: CARDS_PER_COLUMN,
                    cursor: None,
                },
            ));
        }
        let key = version.unwrap_or(NO_RELEASE);
        columns.push(Column {
            key: key.to_string(),
            heading: version.unwrap_or("No release").to_string(),
            cards: Vec::new(),
            total,
            list_url: format!(
                "/projects/{}?{}",
                project.key,
                query_string(
                    &[("view", "all"), ("status", "open"), ("release", key)],
                    filters
                )
            ),
        });
    }
    fill(state, project, &mut columns, listings).await?;
    Ok(columns)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct MoveForm {
    csrf: String,
    /// The card moved, on the board's shared form.
    issue: String,
    status: String,
    resolution: String,
    duplicate_of: String,
    /// On the board by release: the release to plan the card for (`none`: no release).
    release: Option<String>,
    /// Where a plain form post goes back to.
    back: String,
}

/// `POST /projects/{key}/board/move`: the board's one Move form (and its drag and drop), for
/// the card named by `issue`.
async fn move_on_board(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let input: MoveForm = form(&body)?;
    let issue_ref = IssueRef::parse(input.issue.trim())
        .ok()
        .filter(|r| r.project.as_str() == key);
    let Some(issue_ref) = issue_ref else {
        let error = ApiError::invalid("issue", "choose a card of this board to move");
        return answer(&headers, Err(error), &input);
    };
    let outcome = carry_out(&state, &session, &issue_ref, &input).await;
    answer(&headers, outcome, &input)
}

/// `POST /issues/{id}/move`: a card moved to another status, one form per issue.
async fn move_card(
    State(state): State<AppState>,
    session: PageSession,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let input: MoveForm = form(&body)?;
    let outcome = match IssueRef::parse(&id) {
        Ok(issue_ref) => carry_out(&state, &session, &issue_ref, &input).await,
        Err(_) => Err(ApiError::NotFound(format!(
            "{id} is not an issue id such as WEB-12"
        ))),
    };
    answer(&headers, outcome, &input)
}

/// Moves a card under the workflow: resolved or closed needs a resolution, and the workflow's
/// refusals are returned as they are.
async fn carry_out(
    state: &AppState,
    session: &PageSession,
    issue_ref: &IssueRef,
    input: &MoveForm,
) -> Result<moth_core::Issue, ApiError> {
    session.require_member().map_err(|e| e.0)?;
    session.check_csrf(&input.csrf).map_err(|e| e.0)?;
    let optional = |text: &str| Some(Some(text.to_string()).filter(|t| !t.trim().is_empty()));
    if let Some(release) = &input.release {
        let release = release.trim();
        let fixed_in_version =
            (!release.is_empty() && release != NO_RELEASE).then(|| release.to_string());
        let change = IssueChange::parse(&IssueChangeInput {
            fixed_in_version: Some(fixed_in_version),
            ..IssueChangeInput::default()
        })?;
        return Ok(state
            .store
            .update_issue(issue_ref, change, session.actor())
            .await?);
    }
    let change = IssueChange::parse(&IssueChangeInput {
        status: Some(input.status.clone()),
        resolution: optional(&input.resolution),
        duplicate_of: if input.duplicate_of.trim().is_empty() {
            None
        } else {
            optional(&input.duplicate_of)
        },
        ..IssueChangeInput::default()
    })?;
    Ok(state
        .store
        .update_issue(issue_ref, change, session.actor())
        .await?)
}

/// JSON for the page script, a redirect back to the board (or an error page) for a form.
fn answer(
    headers: &HeaderMap,
    outcome: Result<moth_core::Issue, ApiError>,
    input: &MoveForm,
) -> PageResult {
    let wants_json = super::wants_json(headers);
    match outcome {
        Ok(issue) if wants_json => Ok(axum::Json(serde_json::json!({
            "ok": true, "issue": issue.id, "status": issue.fields.status.as_str(),
            "fixed_in_version": issue.fields.fixed_in_version.as_ref().map(|v| v.as_str())
        }))
        .into_response()),
        Ok(issue) => {
            let back = if input.back.starts_with("/projects/") {
                input.back.clone()
            } else {
                format!("/projects/{}/board", issue.project)
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(error) if wants_json => Ok(error.into_response()),
        Err(error) => Err(error.into()),
    }
}
