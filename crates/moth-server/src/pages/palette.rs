//! The command palette's answers (Ctrl/Cmd-K): issues by id or words, projects, and the
//! actions of each project, best first.

use super::session::PageSession;
use crate::error::ApiError;
use crate::extract::QueryMap;
use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use moth_core::{IssueFilter, IssueFilterInput, IssueRef};
use serde::Serialize;

/// Most entries one answer holds.
const MAX_ENTRIES: usize = 20;
/// Most projects searched for words at once.
const MAX_PROJECTS_SEARCHED: usize = 10;
/// Most issues found by words: the newest matches, so the query stops early however many
/// issues hold a common word.
const MATCHES: usize = 10;

/// The palette's route.
pub fn router() -> Router<AppState> {
    Router::new().route("/palette", get(palette))
}

/// One thing the palette offers.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub label: String,
    /// What kind of thing: `issue`, `project` or `action`.
    pub kind: &'static str,
    pub url: String,
}

#[derive(Debug, Serialize)]
pub struct Entries {
    pub items: Vec<Entry>,
}

/// Whether every word of the query is in the label (any case).
fn matches(label: &str, words: &[String]) -> bool {
    let label = label.to_lowercase();
    words.iter().all(|w| label.contains(w.as_str()))
}

/// `GET /palette?q=`.
async fn palette(
    State(state): State<AppState>,
    session: PageSession,
    query: QueryMap,
) -> Result<Json<Entries>, ApiError> {
    let q = query.get("q").unwrap_or("").trim();
    if q.chars().count() > 200 {
        return Err(ApiError::invalid("q", "type at most 200 characters"));
    }
    let words: Vec<String> = q.split_whitespace().map(str::to_lowercase).collect();
    let mut items = Vec::new();
    if let Ok(issue_ref) = IssueRef::parse(&q.to_uppercase())
        && let Ok(issue) = state.store.issue(&issue_ref).await
    {
        items.push(Entry {
            label: format!("{} {}", issue.id, issue.fields.title.as_str()),
            kind: "issue",
            url: format!("/issues/{}", issue.id),
        });
    }
    let projects = state.store.projects().await?;
    let mut actions = vec![
        ("Projects".to_string(), "/".to_string()),
        ("API tokens".into(), "/account/tokens".into()),
    ];
    if session.is_admin() {
        actions.push(("People".into(), "/admin/users".into()));
        actions.push(("New project".into(), "/projects/new".into()));
    }
    for p in &projects {
        let key = &p.key;
        items.push(Entry {
            label: format!("{key} {}", p.name),
            kind: "project",
            url: format!("/projects/{key}"),
        });
        for (what, path) in [
            ("Triage", "/triage"),
            ("Bug queue", "?view=bugs"),
            ("Other work", "?view=work"),
            ("Board", "/board"),
            ("Releases", "/releases"),
        ] {
            actions.push((format!("{key}: {what}"), format!("/projects/{key}{path}")));
        }
        if session.is_member() {
            actions.push((
                format!("{key}: New bug"),
                format!("/projects/{key}/new?type=bug"),
            ));
            actions.push((
                format!("{key}: New feature request"),
                format!("/projects/{key}/new?type=feature"),
            ));
        }
    }
    items.retain(|e| e.kind == "issue" || matches(&e.label, &words));
    items.extend(
        actions
            .into_iter()
            .filter(|(label, _)| matches(label, &words))
            .map(|(label, url)| Entry {
                label,
                kind: "action",
                url,
            }),
    );
    if !words.is_empty() && items.len() < MAX_ENTRIES {
        // Words are read with the query language; a query it cannot read finds no issues here
        // (the palette still offers projects and actions).
        let filter = IssueFilter::parse(&IssueFilterInput {
            text: Some(q),
            ..IssueFilterInput::default()
        })
        .unwrap_or_default();
        if let Some(words) = &filter.query {
            let scope = moth_store::ProjectScope::Only(
                projects
                    .iter()
                    .take(MAX_PROJECTS_SEARCHED)
                    .map(|p| p.key.clone())
                    .collect(),
            );
            let limit = (MAX_ENTRIES - items.len()).min(MATCHES) as i64;
            for (id, title) in state.store.newest_matches(words, &scope, limit).await? {
                let url = format!("/issues/{id}");
                if items.iter().any(|e| e.url == url) {
                    continue;
                }
                items.push(Entry {
                    label: format!("{id} {title}"),
                    kind: "issue",
                    url,
                });
            }
        }
    }
    items.truncate(MAX_ENTRIES);
    Ok(Json(Entries { items }))
}
