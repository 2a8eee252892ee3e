//! A project's lists, with each kind of work kept apart: the bug queue (open bugs by severity,
//! then priority), the other work (features, improvements, tasks...), and everything. Filters
//! for every field live in the URL, so any list can be bookmarked and shared.

use super::session::PageSession;
use super::{Nav, PageError, PageResult, render};
use crate::extract::QueryMap;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use moth_core::{
    Issue, IssueFilter, IssueFilterInput, IssueSort, IssueType, Priority, Project, Reporter,
    Severity, Status,
};
use moth_store::IssueListing;

/// Which list a page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Bugs,
    Work,
    All,
}

impl View {
    fn parse(text: Option<&str>) -> View {
        match text {
            Some("work") => View::Work,
            Some("all") => View::All,
            _ => View::Bugs,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            View::Bugs => "bugs",
            View::Work => "work",
            View::All => "all",
        }
    }

    fn heading(self) -> &'static str {
        match self {
            View::Bugs => "Bug queue",
            View::Work => "Other work",
            View::All => "All issues",
        }
    }

    /// The types a view holds when the filter names none: defects apart from wishes.
    fn types(self) -> Vec<IssueType> {
        match self {
            View::Bugs => vec![IssueType::Bug],
            View::Work => IssueType::ALL
                .iter()
                .copied()
                .filter(|t| *t != IssueType::Bug)
                .collect(),
            View::All => Vec::new(),
        }
    }

    /// The bug queue puts the worst first; other work goes by priority.
    fn default_sort(self) -> &'static str {
        match self {
            View::Bugs => "severity",
            View::Work => "priority",
            View::All => "-updated",
        }
    }
}

/// One line of a list.
pub struct Row {
    pub id: String,
    pub title: String,
    pub issue_type: &'static str,
    pub status: &'static str,
    pub severity: &'static str,
    pub priority: &'static str,
    pub assignee: String,
    pub reporter: String,
    pub updated: String,
    pub regression: bool,
}

impl Row {
    pub fn of(issue: &Issue) -> Row {
        let f = &issue.fields;
        Row {
            id: issue.id.clone(),
            title: f.title.as_str().to_string(),
            issue_type: f.issue_type.as_str(),
            status: f.status.as_str(),
            severity: f.severity.map(Severity::as_str).unwrap_or(""),
            priority: f.priority.as_str(),
            assignee: f
                .assignee
                .as_ref()
                .map(|a| a.name.clone())
                .unwrap_or_default(),
            reporter: reporter_name(&issue.reporter),
            updated: super::date(issue.updated_at),
            regression: f.regression,
        }
    }
}

/// How a reporter is named on a page.
pub fn reporter_name(reporter: &Reporter) -> String {
    match reporter {
        Reporter::User { name, .. } => name.clone(),
        Reporter::Guest { name, email } => name
            .clone()
            .or_else(|| email.clone())
            .unwrap_or_else(|| "a visitor".into()),
    }
}

/// The counts table: one line per type, one column per status.
pub struct CountLine {
    pub issue_type: &'static str,
    pub by_status: Vec<i64>,
    pub open: i64,
}

/// The values of the filter form, as typed.
#[derive(Default)]
pub struct FilterValues {
    pub issue_type: String,
    pub status: String,
    pub severity: String,
    pub priority: String,
    pub component: String,
    pub label: String,
    pub assignee: String,
    pub q: String,
    pub sort: String,
    /// The planned release (`fixed_in_version`, or `none`), from a board's column.
    pub release: String,
}

#[derive(Template)]
#[template(path = "project_list.html")]
struct ListPage {
    nav: Nav,
    project: Project,
    view: &'static str,
    heading: &'static str,
    filters: FilterValues,
    error: Option<(String, String)>,
    rows: Vec<Row>,
    next_page: Option<String>,
    first_page: Option<String>,
    statuses: Vec<&'static str>,
    counts: Vec<CountLine>,
    types: Vec<&'static str>,
    severities: Vec<&'static str>,
    priorities: Vec<&'static str>,
    resolutions: Vec<&'static str>,
    can_file: bool,
    views: Vec<moth_store::SavedView>,
    /// This list's query string, to save it as a view or come back to it.
    current_query: String,
    user_id: i64,
}

const FILTER_PARAMS: &[&str] = &[
    "type",
    "status",
    "severity",
    "priority",
    "component",
    "label",
    "assignee",
    "q",
    "sort",
    "release",
];

/// `GET /projects/{key}?view=bugs|work|all&type=&status=&...&sort=&cursor=`.
pub async fn page(
    State(state): State<AppState>,
    session: PageSession,
    Path(key): Path<String>,
    query: QueryMap,
) -> PageResult {
    let project = state.store.project(&key).await?;
    let view = View::parse(query.get("view"));
    let get = |name: &str| query.get(name).unwrap_or("").trim().to_string();
    let filters = FilterValues {
        issue_type: get("type"),
        status: query.get("status").unwrap_or("open").trim().to_string(),
        severity: get("severity"),
        priority: get("priority"),
        component: get("component"),
        label: get("label"),
        assignee: get("assignee"),
        q: get("q"),
        sort: query
            .get("sort")
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(view.default_sort())
            .trim()
            .to_string(),
        release: get("release"),
    };
    let status_filter = if filters.status == "any" {
        ""
    } else {
        filters.status.as_str()
    };
    let parsed = IssueFilter::parse(&IssueFilterInput {
        types: Some(filters.issue_type.as_str()),
        statuses: Some(status_filter),
        severities: Some(filters.severity.as_str()),
        priorities: Some(filters.priority.as_str()),
        components: Some(filters.component.as_str()),
        labels: Some(filters.label.as_str()),
        assignees: Some(filters.assignee.as_str()),
        text: Some(filters.q.as_str()),
    })
    .and_then(|mut filter| {
        if filter.types.is_empty() {
            filter.types = view.types();
        }
        if !filters.release.is_empty() {
            filter.release = Some(moth_core::ReleaseFilter::parse(&filters.release)?);
        }
        Ok((filter, IssueSort::parse(Some(filters.sort.as_str()))?))
    });
    let cursor = query
        .get("cursor")
        .filter(|c| !c.is_empty())
        .map(moth_store::decode_cursor)
        .transpose();
    let mut error = None;
    let mut rows = Vec::new();
    let mut next_page = None;
    match (parsed, cursor) {
        (Ok((filter, sort)), Ok(cursor)) => {
            let listing = IssueListing {
                filter,
                sort,
                limit: 50,
                cursor,
            };
            match state.store.list_issues(&project.key, &listing).await {
                Ok(page) => {
                    rows = page.items.iter().map(Row::of).collect();
                    next_page = page.next_cursor.map(|c| link(&query, view, Some(&c)));
                }
                Err(moth_store::StoreError::Invalid(e)) => {
                    error = Some((e.field.unwrap_or("filter").to_string(), e.message));
                }
                Err(other) => return Err(other.into()),
            }
        }
        (Err(e), _) => error = Some((e.field.unwrap_or("filter").to_string(), e.message)),
        (_, Err(e)) => return Err(PageError::from(crate::error::ApiError::from(e))),
    }
    let first_page = query
        .get("cursor")
        .is_some()
        .then(|| link(&query, view, None));
    let counts = state.pages.issue_counts(&state.store, &project.key).await?;
    let statuses: Vec<&'static str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let count_lines = IssueType::ALL
        .iter()
        .map(|t| {
            let by_status: Vec<i64> = Status::ALL
                .iter()
                .map(|s| {
                    counts
                        .iter()
                        .find(|c| c.issue_type == t.as_str() && c.status == s.as_str())
                        .map_or(0, |c| c.count)
                })
                .collect();
            let open = Status::ALL
                .iter()
                .zip(&by_status)
                .filter(|(s, _)| s.is_open())
                .map(|(_, n)| n)
                .sum();
            CountLine {
                issue_type: t.as_str(),
                by_status,
                open,
            }
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let tab = view.as_str();
    let views = state
        .store
        .saved_views(&project.key, session.user.id)
        .await?;
    let current_query = link(&query, view, None);
    Ok(render(
        status,
        ListPage {
            nav: Nav::project(&session, &project, tab),
            can_file: session.is_member(),
            project,
            view: view.as_str(),
            heading: view.heading(),
            filters,
            error,
            rows,
            next_page,
            first_page,
            statuses,
            counts: count_lines,
            types: IssueType::ALL.iter().map(|t| t.as_str()).collect(),
            severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
            priorities: Priority::ALL.iter().map(|p| p.as_str()).collect(),
            resolutions: moth_core::Resolution::ALL
                .iter()
                .map(|r| r.as_str())
                .collect(),
            views,
            current_query,
            user_id: session.user.id,
        },
    )?)
}

/// The same list's URL with another cursor (or none: the first page).
fn link(query: &QueryMap, view: View, cursor: Option<&str>) -> String {
    let mut pairs: Vec<(&str, &str)> = vec![("view", view.as_str())];
    for name in FILTER_PARAMS {
        if let Some(value) = query.get(name).filter(|v| !v.is_empty()) {
            pairs.push((name, value));
        }
    }
    if let Some(cursor) = cursor {
        pairs.push(("cursor", cursor));
    }
    format!(
        "?{}",
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    )
}
