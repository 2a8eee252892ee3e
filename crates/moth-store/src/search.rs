//! Full-text search and the query language in SQL: FTS5 on SQLite, tsvector on PostgreSQL.
//!
//! Ranking every match of a common word costs time in proportion to the matches (bm25 on FTS5
//! even counts every row of each term to weigh it), which is seconds at a million issues. So
//! a ranked search takes a bounded candidate set in a useful static order, the newest
//! [`CANDIDATES`] matches (both engines walk their index newest first and stop there), and
//! ranks only those: issues whose title matches first, then the rest, newest first within
//! each. A search for a rare word sees all its matches; for a common one, the newest.

use moth_core::query::{AssigneeValue, Comparison, Condition, IsFlag, Query, TextKind, TextTerm};
use moth_core::{Issue, Status, Version};

/// Most matches a ranked search looks at (see the module comment).
pub const CANDIDATES: i64 = 1000;
/// Most index terms one `prefix*` expands to on SQLite: the first ones in alphabetical order
/// (shortest first among a stem's forms). Each is found by one seek in the index's term list,
/// and the search then walks each term newest first and stops, as for words; FTS5's own
/// `"pay"*` would merge every matching term's whole doclist first (seconds at a million issues).
pub(crate) const PREFIX_EXPANSION: i64 = 32;
/// Marks around matched words, from the engines, before escaping: control characters that
/// escaping leaves alone and `<mark>` replaces.
pub(crate) const MARK_START: char = '\u{2}';
pub(crate) const MARK_END: char = '\u{3}';

/// Which projects a search may look into; the server decides (one place: `access`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProjectScope {
    /// Every project.
    All,
    /// Only these project keys.
    Only(Vec<String>),
}

/// A search request: the parsed query, where to look, and which page.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: Query,
    pub scope: ProjectScope,
    pub limit: i64,
    /// A `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Matched words marked in an issue's title and in a short excerpt of its text.
///
/// Both are safe HTML: everything is escaped except `<mark>` and `</mark>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub title: String,
    pub snippet: String,
}

/// One found issue.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub issue: Issue,
    pub highlight: Highlight,
}

/// A page of search results, best first.
#[derive(Debug, Clone)]
pub struct SearchPage {
    pub items: Vec<SearchHit>,
    pub next_cursor: Option<String>,
}

/// An issue as an importer (or the benchmark) files it: fields already checked, times given.
#[derive(Debug, Clone)]
pub struct ImportedIssue {
    pub issue_type: moth_core::IssueType,
    pub title: String,
    pub description: String,
    pub status: Status,
    pub resolution: Option<moth_core::Resolution>,
    pub severity: Option<moth_core::Severity>,
    pub priority: moth_core::Priority,
    pub fixed_in_version: Option<String>,
    /// Unix microseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// The search cursor is an offset into the ranked candidates.
pub(crate) fn decode_offset(cursor: Option<&str>) -> Result<i64, moth_core::DomainError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(0),
        Some(text) => {
            let cursor = crate::cursor::decode(text)?;
            if cursor.sort != "search" || cursor.value < 0 {
                return Err(moth_core::DomainError::field(
                    "cursor",
                    "this cursor belongs to another list; start again without a cursor",
                ));
            }
            Ok(cursor.value)
        }
    }
}

pub(crate) fn encode_offset(offset: i64) -> String {
    crate::cursor::encode(&crate::models::PageCursor {
        sort: "search".into(),
        value: offset,
        id: 0,
    })
}

/// Escapes text for HTML and turns the engine's marks into balanced `<mark>` elements.
pub fn marked_html(text: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    let mut open = false;
    for c in text.chars() {
        match c {
            MARK_START if !open => {
                html.push_str("<mark>");
                open = true;
            }
            MARK_END if open => {
                html.push_str("</mark>");
                open = false;
            }
            MARK_START | MARK_END => {}
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c => html.push(c),
        }
    }
    if open {
        html.push_str("</mark>");
    }
    html
}

/// The start of a text, for issues found without words to mark.
pub(crate) fn plain_snippet(text: &str) -> String {
    let short: String = text.chars().take(160).collect();
    let ellipsis = if short.len() < text.len() { "…" } else { "" };
    format!("{}{ellipsis}", marked_html(short.trim()))
}

/// Quotes words for FTS5: they are letters and digits only, so quoting cannot break out.
fn fts_phrase(words: &[String]) -> String {
    format!("\"{}\"", words.join(" ").replace('"', ""))
}

/// One text term as an FTS5 expression. A prefix is the word itself (stemmed as words are:
/// `pay` finds "paying") or one of the indexed stems that start with it (`expansions`, whose
/// last word replaces the prefix's), never FTS5's `*`, which merges every matching doclist.
pub(crate) fn fts_term(term: &TextTerm, expansions: &[String]) -> String {
    match term.kind {
        TextKind::Word | TextKind::Phrase => fts_phrase(&term.words),
        TextKind::Prefix => {
            let mut alternatives = vec![fts_phrase(&term.words)];
            let lead = &term.words[..term.words.len().saturating_sub(1)];
            alternatives.extend(expansions.iter().map(|e| {
                let mut words = lead.to_vec();
                words.push(e.clone());
                fts_phrase(&words)
            }));
            format!("({})", alternatives.join(" OR "))
        }
    }
}

/// The FTS5 expression of the positive terms, then each exclusion subtracted.
pub(crate) fn fts_expression(terms: &[(TextTerm, Vec<String>)]) -> Option<String> {
    let positive: Vec<String> = terms
        .iter()
        .filter(|(t, _)| !t.excluded)
        .map(|(t, e)| fts_term(t, e))
        .collect();
    if positive.is_empty() {
        return None;
    }
    let mut expression = format!("({})", positive.join(" AND "));
    for (term, expansions) in terms.iter().filter(|(t, _)| t.excluded) {
        expression = format!("({expression} NOT {})", fts_term(term, expansions));
    }
    Some(expression)
}

/// The positive terms alone: what highlights mark (the exclusions were applied when the
/// issues were found, and walking them again would double the cost of `-common`).
pub(crate) fn fts_positive_expression(terms: &[(TextTerm, Vec<String>)]) -> Option<String> {
    let positive: Vec<String> = terms
        .iter()
        .filter(|(t, _)| !t.excluded)
        .map(|(t, e)| fts_term(t, e))
        .collect();
    (!positive.is_empty()).then(|| format!("({})", positive.join(" AND ")))
}

/// The positive terms restricted to the title column, for ranking title matches first.
pub(crate) fn fts_title_expression(terms: &[(TextTerm, Vec<String>)]) -> Option<String> {
    fts_positive_expression(terms).map(|e| format!("{{title}} : {e}"))
}

/// Whether every field term reads only columns of the `issues_search_fields` index (SQLite),
/// so that checking a full-text match against the fields needs no read of the issue's row.
pub(crate) fn fields_in_search_index(query: &Query) -> bool {
    query.fields.iter().all(|f| {
        matches!(
            f.condition,
            Condition::Types(_)
                | Condition::Severities(_)
                | Condition::Priorities(_)
                | Condition::Statuses(_)
                | Condition::Labels(_)
                | Condition::Assignees(_)
                | Condition::Projects(_)
                | Condition::Is(IsFlag::Open | IsFlag::Closed | IsFlag::Unassigned)
        )
    })
}

/// PostgreSQL: the `websearch_to_tsquery` text of words, phrases and exclusions (prefixes
/// go through `to_tsquery`, which websearch syntax lacks).
pub(crate) fn websearch_text(terms: &[TextTerm], excluded: bool) -> String {
    terms
        .iter()
        .filter(|t| t.excluded == excluded && t.kind != TextKind::Prefix)
        .map(|t| match t.kind {
            TextKind::Phrase => format!("\"{}\"", t.text()),
            _ => t.text(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// PostgreSQL: one prefix term in `to_tsquery` syntax (`payment <-> fail:*`); the words are
/// letters and digits only, so they cannot form operators.
pub(crate) fn tsquery_prefix(term: &TextTerm) -> String {
    let mut parts: Vec<String> = term.words.clone();
    if let Some(last) = parts.last_mut() {
        last.push_str(":*");
    }
    parts.join(" <-> ")
}

/// The version strings among `known` that satisfy `comparison bound` in the domain's order.
///
/// Why in Rust: Version ordering (numeric parts, pre-releases before releases, builds after)
/// has no faithful SQL form that is also indexable, while the set of distinct versions is
/// small. Comparing them here and filtering by an indexed `in (...)` list is exact and cheap.
pub(crate) fn matching_versions(
    known: &[String],
    comparison: Comparison,
    bound: &Version,
) -> Vec<String> {
    known
        .iter()
        .filter(|text| {
            Version::parse("version", text)
                .map(|v| comparison.holds(v.cmp(bound)))
                .unwrap_or(false)
        })
        .cloned()
        .collect()
}

/// A query ready for SQL: version lists resolved, prefixes expanded.
#[derive(Debug, Clone, Default)]
pub(crate) struct PreparedQuery {
    pub query: Query,
    /// For each field term, the version strings it matches (version fields only).
    pub versions: Vec<Option<Vec<String>>>,
    /// Each text term with its prefix expansions (SQLite).
    pub text: Vec<(TextTerm, Vec<String>)>,
    pub now: i64,
}

impl PreparedQuery {
    /// Whether some version term needs the known versions.
    pub fn needs_versions(query: &Query) -> bool {
        query
            .fields
            .iter()
            .any(|f| matches!(f.condition, Condition::Affects(..) | Condition::Fixed(..)))
    }
}

/// How one field term reads in SQL (shared by both dialects): SQL text with `?` standing for
/// the next bound value.
pub(crate) enum Bind {
    Text(String),
    Int(i64),
}

/// Renders one condition on `i` (the issues table) as SQL pieces and values to bind.
pub(crate) fn condition_sql(
    condition: &Condition,
    versions: Option<&Vec<String>>,
    now: i64,
) -> (Vec<&'static str>, Vec<Bind>) {
    fn list(column: &'static str, values: Vec<String>) -> (Vec<&'static str>, Vec<Bind>) {
        if values.is_empty() {
            return (vec!["1 = 0"], vec![]);
        }
        let mut sql = vec![column, " in ("];
        let mut binds = Vec::new();
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.push("?");
            binds.push(Bind::Text(value));
        }
        sql.push(")");
        (sql, binds)
    }
    fn time(
        column: &'static str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> (Vec<&'static str>, Vec<Bind>) {
        let mut sql = vec!["("];
        let mut binds = Vec::new();
        sql.push(column);
        sql.push(" is not null");
        if let Some(from) = from {
            sql.extend([" and ", column, " >= ", "?"]);
            binds.push(Bind::Int(from));
        }
        if let Some(to) = to {
            sql.extend([" and ", column, " < ", "?"]);
            binds.push(Bind::Int(to));
        }
        sql.push(")");
        (sql, binds)
    }
    let names = |values: &[String]| values.iter().map(|v| v.to_lowercase()).collect::<Vec<_>>();
    match condition {
        Condition::Types(v) => list("i.type", v.iter().map(|t| t.as_str().to_string()).collect()),
        Condition::Severities(v) => list(
            "i.severity",
            v.iter().map(|t| t.as_str().to_string()).collect(),
        ),
        Condition::Priorities(v) => list(
            "i.priority",
            v.iter().map(|t| t.as_str().to_string()).collect(),
        ),
        Condition::Statuses(v) => list(
            "i.status",
            v.iter().map(|t| t.as_str().to_string()).collect(),
        ),
        Condition::Is(IsFlag::Open) => list(
            "i.status",
            Status::OPEN
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
        ),
        Condition::Is(IsFlag::Closed) => list("i.status", vec!["resolved".into(), "closed".into()]),
        Condition::Is(IsFlag::Regression) => (vec!["i.regression = true"], vec![]),
        Condition::Is(IsFlag::Unassigned) => (vec!["i.assignee_id is null"], vec![]),
        Condition::Is(IsFlag::Duplicate) => (vec!["i.duplicate_of_id is not null"], vec![]),
        Condition::Components(v) => list("lower(i.component)", names(v)),
        Condition::Labels(v) => {
            let (mut sql, binds) = list("lower(l.label)", names(v));
            sql.insert(
                0,
                "exists (select 1 from issue_labels l where l.issue_id = i.id and ",
            );
            sql.push(")");
            (sql, binds)
        }
        Condition::Projects(v) => {
            let (mut sql, binds) = list("key", v.clone());
            sql.insert(0, "i.project_id in (select id from projects where ");
            sql.push(")");
            (sql, binds)
        }
        Condition::Assignees(v) => {
            let emails: Vec<String> = v
                .iter()
                .filter_map(|a| match a {
                    AssigneeValue::Email(e) => Some(e.to_lowercase()),
                    _ => None,
                })
                .collect();
            let nobody = v.contains(&AssigneeValue::Nobody);
            let (mut sql, binds) = list("lower(email)", emails);
            sql.insert(0, "i.assignee_id in (select id from users where ");
            sql.push(")");
            if nobody {
                sql.insert(0, "(i.assignee_id is null or ");
                sql.push(")");
            }
            (sql, binds)
        }
        Condition::Affects(..) => list("i.affects_version", versions.cloned().unwrap_or_default()),
        Condition::Fixed(..) => list("i.fixed_in_version", versions.cloned().unwrap_or_default()),
        Condition::Created(op, bound) => {
            let range = bound.range(*op, now);
            time("i.created_at", range.from, range.to)
        }
        Condition::Updated(op, bound) => {
            let range = bound.range(*op, now);
            time("i.updated_at", range.from, range.to)
        }
        Condition::Resolved(op, bound) => {
            let range = bound.range(*op, now);
            time("i.resolved_at", range.from, range.to)
        }
        Condition::Reopened(op, n) => (
            vec!["i.reopen_count ", op.sql(), " ", "?"],
            vec![Bind::Int(*n)],
        ),
    }
}

/// Implements search and the query language's SQL for one store type and dialect.
macro_rules! search_store {
    ($store:ty, $db:ty, $dialect:ident) => {
        impl $store {
            /// Resolves what a query needs from the database before it becomes SQL.
            async fn prepare_query(&self, query: &moth_core::Query) -> StoreResult<$crate::search::PreparedQuery> {
                let known: Vec<String> = if $crate::search::PreparedQuery::needs_versions(query) {
                    sqlx::query_scalar("select version from known_versions").fetch_all(self.reader()).await?
                } else {
                    Vec::new()
                };
                let versions = query
                    .fields
                    .iter()
                    .map(|f| match &f.condition {
                        moth_core::query::Condition::Affects(op, v) | moth_core::query::Condition::Fixed(op, v) => {
                            Some($crate::search::matching_versions(&known, *op, v))
                        }
                        _ => None,
                    })
                    .collect();
                let mut text = Vec::new();
                for term in &query.text {
                    let mut expansions = Vec::new();
                    if stringify!($dialect) == "Sqlite" && term.kind == moth_core::query::TextKind::Prefix {
                        let word = term.words.last().cloned().unwrap_or_default();
                        // One seek per term: the next term after `t` is the first one >= t || char(1)
                        // (the instance table yields rows one at a time; the row table would
                        // first count each term's documents, walking its whole doclist).
                        expansions = sqlx::query_scalar(
                            "with recursive found(term, n) as ( \
                               select (select term from issue_search_instances where term >= $1 and term < $2 limit 1), 1 \
                               union all \
                               select (select term from issue_search_instances where term >= found.term || char(1) and term < $2 limit 1), n + 1 \
                               from found where found.term is not null and n < $3) \
                             select term from found where term is not null",
                        )
                        .bind(&word)
                        .bind(format!("{word}\u{10FFFF}"))
                        .bind($crate::search::PREFIX_EXPANSION)
                        .fetch_all(self.reader())
                        .await?;
                    }
                    text.push((term.clone(), expansions));
                }
                Ok($crate::search::PreparedQuery { query: query.clone(), versions, text, now: $crate::time::now_micros() })
            }

            /// Appends ` and <condition>` for each field term of a prepared query.
            fn push_field_conditions<'q>(builder: &mut sqlx::QueryBuilder<'q, $db>, prepared: &$crate::search::PreparedQuery) {
                for (term, versions) in prepared.query.fields.iter().zip(&prepared.versions) {
                    let (sql, binds) = $crate::search::condition_sql(&term.condition, versions.as_ref(), prepared.now);
                    builder.push(if term.negated { " and not coalesce((" } else { " and (" });
                    let mut binds = binds.into_iter();
                    for piece in sql {
                        if piece == "?" {
                            match binds.next() {
                                Some($crate::search::Bind::Text(text)) => builder.push_bind(text),
                                Some($crate::search::Bind::Int(n)) => builder.push_bind(n),
                                None => builder.push("null"),
                            };
                        } else {
                            builder.push(piece);
                        }
                    }
                    debug_assert!(binds.next().is_none(), "every value is bound at a ? piece");
                    builder.push(if term.negated { "), false)" } else { ")" });
                }
            }

            /// Appends ` and <text matches>` for the free text, as a filter on `i`.
            fn push_text_filter<'q>(builder: &mut sqlx::QueryBuilder<'q, $db>, prepared: &$crate::search::PreparedQuery) {
                let terms: Vec<moth_core::query::TextTerm> = prepared.text.iter().map(|(t, _)| t.clone()).collect();
                if terms.is_empty() {
                    return;
                }
                if stringify!($dialect) == "Sqlite" {
                    match $crate::search::fts_expression(&prepared.text) {
                        Some(expression) => {
                            builder.push(" and i.id in (select rowid from issue_search where issue_search match ");
                            builder.push_bind(expression);
                            builder.push(")");
                        }
                        None => {
                            for (term, expansions) in &prepared.text {
                                builder.push(" and i.id not in (select rowid from issue_search where issue_search match ");
                                builder.push_bind($crate::search::fts_term(term, expansions));
                                builder.push(")");
                            }
                        }
                    }
                } else {
                    if terms.iter().any(|t| !t.excluded) {
                        builder.push(" and i.search_document @@ (");
                        Self::push_tsquery(builder, &terms);
                        builder.push(")");
                    } else {
                        for term in &terms {
                            let positive = moth_core::query::TextTerm { excluded: false, ..term.clone() };
                            builder.push(" and not (i.search_document @@ (");
                            Self::push_tsquery(builder, std::slice::from_ref(&positive));
                            builder.push("))");
                        }
                    }
                }
            }

            /// PostgreSQL: the tsquery of text terms (at least one of them positive).
            fn push_tsquery<'q>(builder: &mut sqlx::QueryBuilder<'q, $db>, terms: &[moth_core::query::TextTerm]) {
                let mut parts = 0;
                let positive = $crate::search::websearch_text(terms, false);
                if !positive.is_empty() {
                    builder.push("websearch_to_tsquery('english', ").push_bind(positive).push(")");
                    parts += 1;
                }
                for term in terms.iter().filter(|t| t.kind == moth_core::query::TextKind::Prefix) {
                    if parts > 0 {
                        builder.push(" && ");
                    }
                    if term.excluded {
                        builder.push("!!");
                    }
                    builder.push("to_tsquery('english', ").push_bind($crate::search::tsquery_prefix(term)).push(")");
                    parts += 1;
                }
                // Each exclusion on its own: `-a -b` is "neither a nor b".
                for excluded in $crate::search::websearch_excluded(terms) {
                    if parts > 0 {
                        builder.push(" && ");
                    }
                    builder.push("!!websearch_to_tsquery('english', ").push_bind(excluded).push(")");
                    parts += 1;
                }
            }

            /// Files many issues at once (importers, benchmarks): one multi-row insert numbered
            /// after the project's last issue, and one `issues.imported` event, in one transaction.
            pub async fn import_issues(&self, project_key: &str, issues: &[$crate::search::ImportedIssue]) -> StoreResult<usize> {
                if issues.is_empty() {
                    return Ok(0);
                }
                let count = issues.len() as i64;
                let mut tx = self.begin_write().await?;
                let row: Option<(i64, i64)> = sqlx::query_as(
                    "update projects set next_issue_number = next_issue_number + $1, updated_at = $2 where key = $3 \
                     returning id, next_issue_number - $1",
                )
                .bind(count)
                .bind($crate::time::now_micros())
                .bind(project_key)
                .fetch_optional(&mut *tx)
                .await?;
                let (project_id, first) = row.ok_or_else(|| StoreError::NotFound(format!("project {project_key}")))?;
                let mut builder = sqlx::QueryBuilder::<$db>::new(
                    "insert into issues (project_id, number, type, title, description, status, resolution, severity, \
                     severity_rank, priority, priority_rank, fixed_in_version, resolved_at, created_at, updated_at) ",
                );
                builder.push_values(issues.iter().enumerate(), |mut b, (i, issue)| {
                    let done = issue.status.is_done();
                    b.push_bind(project_id)
                        .push_bind(first + i as i64)
                        .push_bind(issue.issue_type.as_str())
                        .push_bind(issue.title.clone())
                        .push_bind(issue.description.clone())
                        .push_bind(issue.status.as_str())
                        .push_bind(issue.resolution.map(|r| r.as_str()))
                        .push_bind(issue.severity.map(|s| s.as_str()))
                        .push_bind(issue.severity.map(|s| s.rank()).unwrap_or(NO_SEVERITY_RANK))
                        .push_bind(issue.priority.as_str())
                        .push_bind(issue.priority.rank())
                        .push_bind(issue.fixed_in_version.clone())
                        .push_bind(done.then_some(issue.updated_at))
                        .push_bind(issue.created_at)
                        .push_bind(issue.updated_at);
                });
                builder.build().execute(&mut *tx).await?;
                let payload = serde_json::json!({"project": project_key, "count": count, "first_number": first});
                self.append_event(&mut tx, "issues.imported", Some(project_id), None, Actor::SYSTEM, payload).await?;
                tx.commit().await?;
                Ok(issues.len())
            }

            /// Searches issues with the query language, ranked (see the module comment of
            /// `search`) and highlighted.
            pub async fn search(&self, request: &$crate::search::SearchRequest) -> StoreResult<$crate::search::SearchPage> {
                let offset = $crate::search::decode_offset(request.cursor.as_deref())?;
                let prepared = self.prepare_query(&request.query).await?;
                let ranked = request.query.has_positive_text();
                let (page_ids, next_cursor) = if ranked {
                    let candidates = self.search_candidates(&prepared, &request.scope, $crate::search::CANDIDATES).await?;
                    let titled = self.title_matches(&prepared, &candidates).await?;
                    let mut ordered: Vec<i64> = candidates.iter().copied().filter(|id| titled.contains(id)).collect();
                    ordered.extend(candidates.iter().copied().filter(|id| !titled.contains(id)));
                    let start = (offset as usize).min(ordered.len());
                    let end = (start + request.limit as usize).min(ordered.len());
                    let next = (end < ordered.len()).then(|| $crate::search::encode_offset(end as i64));
                    (ordered[start..end].to_vec(), next)
                } else {
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new("select i.id from issues i where 1 = 1");
                    Self::push_scope(&mut builder, &request.scope);
                    Self::push_field_conditions(&mut builder, &prepared);
                    Self::push_text_filter(&mut builder, &prepared);
                    builder.push(" order by i.id desc limit ").push_bind(request.limit + 1);
                    builder.push(" offset ").push_bind(offset);
                    let mut ids: Vec<i64> = builder.build_query_scalar().fetch_all(self.reader()).await?;
                    let next = (ids.len() as i64 > request.limit).then(|| $crate::search::encode_offset(offset + request.limit));
                    ids.truncate(request.limit as usize);
                    (ids, next)
                };
                let items = self.search_hits(&prepared, &page_ids).await?;
                Ok($crate::search::SearchPage { items, next_cursor })
            }

            /// The newest issues matching a query (`WEB-12` and title), newest first, at most
            /// `limit`: what the command palette offers. Unranked, so both engines walk their
            /// index newest first and stop at `limit`, however many issues match.
            pub async fn newest_matches(
                &self,
                query: &moth_core::Query,
                scope: &$crate::search::ProjectScope,
                limit: i64,
            ) -> StoreResult<Vec<(String, String)>> {
                use sqlx::Row;
                let prepared = self.prepare_query(query).await?;
                let ids = if query.has_positive_text() {
                    self.search_candidates(&prepared, scope, limit).await?
                } else {
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new("select i.id from issues i where 1 = 1");
                    Self::push_scope(&mut builder, scope);
                    Self::push_field_conditions(&mut builder, &prepared);
                    Self::push_text_filter(&mut builder, &prepared);
                    builder.push(" order by i.id desc limit ").push_bind(limit);
                    builder.build_query_scalar().fetch_all(self.reader()).await?
                };
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut builder = sqlx::QueryBuilder::<'static, $db>::new(
                    "select p.key, i.number, i.title from issues i join projects p on p.id = i.project_id where i.id in (",
                );
                let mut list = builder.separated(", ");
                for id in &ids {
                    list.push_bind(*id);
                }
                builder.push(") order by i.id desc");
                let rows = builder.build().fetch_all(self.reader()).await?;
                Ok(rows
                    .into_iter()
                    .map(|r| {
                        let key: String = r.get("key");
                        let number: i64 = r.get("number");
                        (format!("{key}-{number}"), r.get("title"))
                    })
                    .collect())
            }

            fn push_scope<'q>(builder: &mut sqlx::QueryBuilder<'q, $db>, scope: &$crate::search::ProjectScope) {
                if let $crate::search::ProjectScope::Only(keys) = scope {
                    if keys.is_empty() {
                        builder.push(" and 1 = 0");
                        return;
                    }
                    builder.push(" and i.project_id in (select id from projects where key in (");
                    let mut list = builder.separated(", ");
                    for key in keys {
                        list.push_bind(key.clone());
                    }
                    builder.push("))");
                }
            }

            /// The newest matches (at most `limit`), newest first; each engine walks its index in
            /// id order and stops, so a common word costs no more than a rare one.
            async fn search_candidates(
                &self,
                prepared: &$crate::search::PreparedQuery,
                scope: &$crate::search::ProjectScope,
                limit: i64,
            ) -> StoreResult<Vec<i64>> {
                if stringify!($dialect) == "Sqlite" && prepared.query.fields.is_empty() && *scope == $crate::search::ProjectScope::All {
                    let Some(expression) = $crate::search::fts_expression(&prepared.text) else { return Ok(Vec::new()) };
                    // Words alone: the index answers without touching the issues table.
                    return Ok(sqlx::query_scalar(
                        "select rowid from issue_search where issue_search match $1 order by rowid desc limit $2",
                    )
                    .bind(expression)
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?);
                }
                let mut builder = sqlx::QueryBuilder::<'static, $db>::new("");
                if !Self::push_candidates(&mut builder, prepared, scope, limit) {
                    return Ok(Vec::new());
                }
                Ok(builder.build_query_scalar().fetch_all(self.reader()).await?)
            }

            /// Appends the select of the newest `limit` issues matching the query's words and
            /// field terms in `scope`, newest first; false when the query has no positive words.
            /// Its table alias `i` shadows an outer one, so it can sit inside another query.
            fn push_candidates<'q>(
                builder: &mut sqlx::QueryBuilder<'q, $db>,
                prepared: &$crate::search::PreparedQuery,
                scope: &$crate::search::ProjectScope,
                limit: i64,
            ) -> bool {
                if stringify!($dialect) == "Sqlite" {
                    let Some(expression) = $crate::search::fts_expression(&prepared.text) else { return false };
                    // cross join keeps the FTS index as the outer loop, walked newest first; each
                    // match is checked against the narrow fields index when it holds every
                    // column the terms read (a row of issues is a page read of its own).
                    builder.push(if $crate::search::fields_in_search_index(&prepared.query) {
                        "select issue_search.rowid from issue_search cross join issues i indexed by issues_search_fields \
                         on i.id = issue_search.rowid where issue_search match "
                    } else {
                        "select issue_search.rowid from issue_search cross join issues i on i.id = issue_search.rowid \
                         where issue_search match "
                    });
                    builder.push_bind(expression);
                } else {
                    if !prepared.query.has_positive_text() {
                        return false;
                    }
                    builder.push("select i.id from issues i where 1 = 1");
                    Self::push_text_filter(builder, prepared);
                }
                Self::push_scope(builder, scope);
                Self::push_field_conditions(builder, prepared);
                if stringify!($dialect) == "Sqlite" {
                    builder.push(" order by issue_search.rowid desc limit ");
                } else {
                    builder.push(" order by i.id desc limit ");
                }
                builder.push_bind(limit);
                true
            }

            /// Which candidates match in their title.
            async fn title_matches(
                &self,
                prepared: &$crate::search::PreparedQuery,
                candidates: &[i64],
            ) -> StoreResult<std::collections::HashSet<i64>> {
                let (Some(low), Some(high)) = (candidates.iter().min(), candidates.iter().max()) else {
                    return Ok(Default::default());
                };
                let found: Vec<i64> = if stringify!($dialect) == "Sqlite" {
                    let Some(expression) = $crate::search::fts_title_expression(&prepared.text) else {
                        return Ok(Default::default());
                    };
                    // The rowid range bounds the walk to the candidates' span.
                    sqlx::query_scalar(
                        "select rowid from issue_search where issue_search match $1 and rowid >= $2 and rowid <= $3",
                    )
                    .bind(expression)
                    .bind(*low)
                    .bind(*high)
                    .fetch_all(self.reader())
                    .await?
                } else {
                    let terms: Vec<moth_core::query::TextTerm> =
                        prepared.text.iter().filter(|(t, _)| !t.excluded).map(|(t, _)| t.clone()).collect();
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(
                        "select i.id from issues i where i.id >= ",
                    );
                    builder.push_bind(*low).push(" and i.id <= ").push_bind(*high);
                    builder.push(" and i.id in (");
                    let mut list = builder.separated(", ");
                    for id in candidates {
                        list.push_bind(*id);
                    }
                    builder.push(") and ts_filter(i.search_document, '{a}') @@ (");
                    Self::push_tsquery(&mut builder, &terms);
                    builder.push(")");
                    builder.build_query_scalar().fetch_all(self.reader()).await?
                };
                let wanted: std::collections::HashSet<i64> = candidates.iter().copied().collect();
                Ok(found.into_iter().filter(|id| wanted.contains(id)).collect())
            }

            /// The issues of a page, in the page's order, with their highlights.
            async fn search_hits(
                &self,
                prepared: &$crate::search::PreparedQuery,
                ids: &[i64],
            ) -> StoreResult<Vec<$crate::search::SearchHit>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut builder = sqlx::QueryBuilder::<'static, $db>::new(format!("{ISSUE_SELECT} where i.id in ("));
                let mut list = builder.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                builder.push(")");
                let rows: Vec<IssueRow> = builder.build_query_as().fetch_all(self.reader()).await?;
                let highlights = self.highlights(prepared, ids).await?;
                let labels = self.labels_of(&rows).await?;
                let watchers = self.watchers_of(&rows).await?;
                let mut hits = Vec::with_capacity(rows.len());
                for row in rows {
                    let highlight = highlights.get(&row.id).cloned().unwrap_or_else(|| $crate::search::Highlight {
                        title: $crate::search::marked_html(&row.title),
                        snippet: $crate::search::plain_snippet(&row.description),
                    });
                    let id = row.id;
                    let labels = labels.iter().filter(|(i, _)| *i == id).map(|(_, l)| l.clone()).collect();
                    let watchers = watchers.iter().filter(|(i, _)| *i == id).map(|(_, w)| w.clone()).collect();
                    hits.push((id, $crate::search::SearchHit { issue: row.into_issue(labels, watchers, None)?, highlight }));
                }
                hits.sort_by_key(|(id, _)| ids.iter().position(|x| x == id));
                Ok(hits.into_iter().map(|(_, hit)| hit).collect())
            }

            /// Marked titles and excerpts for the page's issues (none without positive text).
            async fn highlights(
                &self,
                prepared: &$crate::search::PreparedQuery,
                ids: &[i64],
            ) -> StoreResult<std::collections::HashMap<i64, $crate::search::Highlight>> {
                let mut found = std::collections::HashMap::new();
                if !prepared.query.has_positive_text() {
                    return Ok(found);
                }
                let rows: Vec<(i64, String, String, String)> = if stringify!($dialect) == "Sqlite" {
                    let Some(expression) = $crate::search::fts_positive_expression(&prepared.text) else { return Ok(found) };
                    // One walk over the page's rowid range, with the marking functions run only
                    // for the page's rows (CASE is lazy). `rowid in (...)` next to MATCH would
                    // run the whole full-text query once per id instead: ten times slower.
                    let (low, high) = (ids.iter().min().copied().unwrap_or(0), ids.iter().max().copied().unwrap_or(0));
                    let in_page = ids.iter().map(|id| id.to_string()).collect::<Vec<_>>().join(", ");
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(format!(
                        "select id, title, body, extra from (select rowid as id, \
                         case when rowid in ({in_page}) then highlight(issue_search, 0, char(2), char(3)) end as title, \
                         case when rowid in ({in_page}) then snippet(issue_search, 1, char(2), char(3), '…', 24) end as body, \
                         case when rowid in ({in_page}) then snippet(issue_search, 2, char(2), char(3), '…', 24) end as extra \
                         from issue_search where issue_search match "
                    ));
                    builder.push_bind(expression).push(" and rowid >= ").push_bind(low);
                    builder.push(" and rowid <= ").push_bind(high).push(") where title is not null");
                    builder.build_query_as().fetch_all(self.reader()).await?
                } else {
                    let terms: Vec<moth_core::query::TextTerm> =
                        prepared.text.iter().filter(|(t, _)| !t.excluded).map(|(t, _)| t.clone()).collect();
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new("with q as (select ");
                    Self::push_tsquery(&mut builder, &terms);
                    // ts_headline costs in proportion to the text, so it reads the first
                    // 3,000 characters, and comments and messages only when the body has no match.
                    builder.push(
                        " as query), h as (select i.id, i.search_extra, q.query, \
                         ts_headline('english', i.title, q.query, 'HighlightAll=true, StartSel=\u{2}, StopSel=\u{3}') as title, \
                         ts_headline('english', left(i.description || E'\\n' || i.steps_to_reproduce || E'\\n' || i.expected \
                            || E'\\n' || i.actual || E'\\n' || i.environment, 3000), q.query, \
                            'MaxFragments=2, MinWords=6, MaxWords=20, FragmentDelimiter=\" … \", StartSel=\u{2}, StopSel=\u{3}') as body \
                         from issues i, q where i.id in (",
                    );
                    let mut list = builder.separated(", ");
                    for id in ids {
                        list.push_bind(*id);
                    }
                    builder.push(
                        ")) select id, title, body, case when strpos(body, chr(2)) > 0 then '' else \
                         ts_headline('english', left(search_extra, 3000), query, \
                            'MaxFragments=2, MinWords=6, MaxWords=20, FragmentDelimiter=\" … \", StartSel=\u{2}, StopSel=\u{3}') end \
                         from h",
                    );
                    builder.build_query_as().fetch_all(self.reader()).await?
                };
                for (id, title, body, extra) in rows {
                    let snippet = if body.contains($crate::search::MARK_START) || !extra.contains($crate::search::MARK_START) {
                        body
                    } else {
                        extra
                    };
                    let snippet = if snippet.contains($crate::search::MARK_START) {
                        $crate::search::marked_html(snippet.trim())
                    } else {
                        $crate::search::plain_snippet(&snippet)
                    };
                    found.insert(id, $crate::search::Highlight { title: $crate::search::marked_html(&title), snippet });
                }
                Ok(found)
            }
        }
    };
}

pub(crate) use search_store;

/// PostgreSQL: each exclusion as its own websearch text (words and phrases).
pub(crate) fn websearch_excluded(terms: &[TextTerm]) -> Vec<String> {
    terms
        .iter()
        .filter(|t| t.excluded && t.kind != TextKind::Prefix)
        .map(|t| match t.kind {
            TextKind::Phrase => format!("\"{}\"", t.text()),
            _ => t.text(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<(TextTerm, Vec<String>)> {
        Query::parse(text)
            .unwrap()
            .text
            .into_iter()
            .map(|t| (t, Vec::new()))
            .collect()
    }

    #[test]
    fn fts_expressions_quote_every_term() {
        assert_eq!(
            fts_expression(&terms("crash \"payment failed\" -flaky pay*")).unwrap(),
            "((\"crash\" AND \"payment failed\" AND (\"pay\")) NOT \"flaky\")"
        );
        assert_eq!(fts_expression(&terms("-flaky")), None);
        assert_eq!(
            fts_title_expression(&terms("near( or")).unwrap(),
            "{title} : (\"near\" AND \"or\")"
        );
    }

    #[test]
    fn a_prefix_is_the_word_or_one_of_its_expansions_never_an_fts5_star() {
        let term = Query::parse("payment.fai*").unwrap().text.remove(0);
        assert_eq!(
            fts_term(&term, &["fail".to_string(), "failur".to_string()]),
            "(\"payment fai\" OR \"payment fail\" OR \"payment failur\")"
        );
    }

    #[test]
    fn only_plain_field_terms_are_checked_in_the_fields_index() {
        assert!(fields_in_search_index(
            &Query::parse("type:bug status:open severity:major priority:high -label:x assignee:none is:open crash").unwrap()
        ));
        assert!(!fields_in_search_index(
            &Query::parse("component:ui crash").unwrap()
        ));
        assert!(!fields_in_search_index(
            &Query::parse("updated:<7d crash").unwrap()
        ));
        assert_eq!(
            fts_positive_expression(&terms("crash -flaky \"payment failed\"")).unwrap(),
            "(\"crash\" AND \"payment failed\")"
        );
    }

    #[test]
    fn marks_become_balanced_mark_elements_and_the_rest_is_escaped() {
        assert_eq!(
            marked_html("<b>\u{2}crash\u{3}</b> & \u{3}\u{2}x"),
            "&lt;b&gt;<mark>crash</mark>&lt;/b&gt; &amp; <mark>x</mark>"
        );
    }

    #[test]
    fn versions_match_in_the_domain_order() {
        let known: Vec<String> = [
            "2.2.9",
            "2.3",
            "2.3.0+481",
            "2.10.0",
            "2.3.0-beta.1",
            "junk",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let v = Version::parse("v", "2.3").unwrap();
        assert_eq!(
            matching_versions(&known, Comparison::Ge, &v),
            ["2.3", "2.3.0+481", "2.10.0"]
        );
        assert_eq!(matching_versions(&known, Comparison::Eq, &v), ["2.3"]);
    }
}
