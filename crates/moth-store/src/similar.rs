//! Similar issues by text in SQL: candidates from each engine's full-text index (any of the
//! report's salient words, the title weighing most), then the domain's re-rank
//! (`moth_core::similar`).

use crate::search::ProjectScope;
use moth_core::Status;

/// How many engine matches the re-rank looks at.
pub const SIMILAR_CANDIDATES: i64 = 100;
/// Most words in the plain baseline's query (the report's first distinct words).
pub const PLAIN_WORDS: usize = 64;

/// FTS5 column weights (title, body, extra) of Moth's candidate ranking.
pub(crate) const FTS_WEIGHTS: &str = "5.0, 1.0, 0.5";
/// `ts_rank` weights {D, C, B, A}: title (A) ≫ body (B) > comments (C).
pub(crate) const TS_WEIGHTS: &str = "{0.05, 0.1, 0.2, 1.0}";
/// Equal weights, for the plain baseline.
pub(crate) const TS_EQUAL_WEIGHTS: &str = "{1.0, 1.0, 1.0, 1.0}";

/// Words' match counts on SQLite (PostgreSQL keeps them in a table), remembered for a while: a
/// common word costs the most to count (its count walks up to the cap) and is also the one
/// most queries hold, so after the first few queries most counts come from here. A count a
/// few minutes old is good enough to tell rare words from common ones; rare words' counts
/// are not kept (cheap to take again, and they change the choice most).
#[derive(Debug, Default)]
pub(crate) struct WordCounts {
    known: std::sync::Mutex<std::collections::HashMap<String, (i64, std::time::Instant)>>,
}

/// How long a remembered count is used.
const WORD_COUNT_TTL: std::time::Duration = std::time::Duration::from_secs(600);
/// Most words remembered; the memory is emptied when full (a few MB at most).
const WORD_COUNTS_KEPT: usize = 100_000;

impl WordCounts {
    /// The remembered counts of `words` (None where unknown or too old).
    pub(crate) fn get(&self, words: &[String]) -> Vec<Option<i64>> {
        let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        words
            .iter()
            .map(|w| {
                known
                    .get(w)
                    .filter(|(_, at)| at.elapsed() < WORD_COUNT_TTL)
                    .map(|(n, _)| *n)
            })
            .collect()
    }

    pub(crate) fn remember(&self, counted: impl IntoIterator<Item = (String, i64)>) {
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        for (word, count) in counted {
            if known.len() >= WORD_COUNTS_KEPT {
                known.clear();
            }
            known.insert(word, (count, now));
        }
    }
}

/// How suggestions are ranked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimilarRanking {
    /// Weighted fields, salient words and the domain's re-rank.
    Moth,
    /// The engine alone: BM25 (FTS5) or `ts_rank` with equal weights over an OR of the
    /// report's words, for comparison.
    Plain,
}

/// Where to look and how many to give.
#[derive(Debug, Clone)]
pub struct SimilarOptions {
    pub scope: ProjectScope,
    pub limit: i64,
    /// Only issues filed before the given one (to measure against known duplicates).
    pub filed_before: bool,
    pub ranking: SimilarRanking,
}

impl SimilarOptions {
    /// Moth's ranking over `scope`.
    pub fn new(scope: ProjectScope, limit: i64) -> Self {
        Self {
            scope,
            limit,
            filed_before: false,
            ranking: SimilarRanking::Moth,
        }
    }
}

/// Text not filed yet, e.g. a new issue's title as it is typed.
#[derive(Debug, Clone, Default)]
pub struct SimilarText {
    pub title: String,
    pub description: String,
    pub component: Option<String>,
}

/// One suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarIssue {
    /// `KEY-12`.
    pub id: String,
    pub title: String,
    pub status: Status,
    /// Higher is more alike; comparable within one answer only.
    pub score: f64,
}

/// The FTS5 expression "any of these words in the title or body"; the words are letters and
/// digits only, so quoting cannot break out.
pub(crate) fn fts_any(words: &[String]) -> Option<String> {
    let quoted: Vec<String> = words
        .iter()
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"", w.replace('"', "")))
        .collect();
    (!quoted.is_empty()).then(|| format!("{{title body}} : ({})", quoted.join(" OR ")))
}

/// One word as an FTS5 expression over every column.
pub(crate) fn fts_word(word: &str) -> Option<String> {
    let word = word.replace('"', "");
    (!word.is_empty()).then(|| format!("\"{word}\""))
}

/// The `to_tsquery` text "any of these words" (letters and digits only: no operators).
pub(crate) fn tsquery_any(words: &[String]) -> Option<String> {
    let kept: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !w.is_empty() && w.chars().all(char::is_alphanumeric))
        .collect();
    (!kept.is_empty()).then(|| kept.join(" | "))
}

/// An issue's text as compared: the description and what the reporter saw.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SourceRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub component: Option<String>,
    pub created_at: i64,
}

/// A candidate's fields for the re-rank and the answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct CandidateRow {
    pub id: i64,
    pub project_key: String,
    pub number: i64,
    pub title: String,
    pub status: String,
    pub component: Option<String>,
    pub description: String,
}

/// Implements the similar-issue queries for one store type and dialect.
macro_rules! similar_queries {
    ($store:ty, $db:ty, $dialect:ident) => {
        impl $store {
            /// Issues that read like a filed one (never itself), best first.
            pub async fn similar_issues(
                &self,
                issue_ref: &moth_core::IssueRef,
                options: &$crate::similar::SimilarOptions,
            ) -> StoreResult<Vec<$crate::similar::SimilarIssue>> {
                let source: Option<$crate::similar::SourceRow> = sqlx::query_as(
                    "select i.id, i.title, i.description || ' ' || i.steps_to_reproduce || ' ' || i.actual as body, \
                     i.component, i.created_at from issues i join projects p on p.id = i.project_id \
                     where p.key = $1 and i.number = $2",
                )
                .bind(issue_ref.project.as_str())
                .bind(issue_ref.number)
                .fetch_optional(self.reader())
                .await?;
                let source = source.ok_or_else(|| $crate::error::StoreError::NotFound(issue_ref.to_string()))?;
                let text = $crate::similar::SimilarText {
                    title: source.title,
                    description: source.body,
                    component: source.component,
                };
                let before = options.filed_before.then_some(source.created_at);
                self.similar_ranked(&text, Some(source.id), before, options).await
            }

            /// Issues that read like text not filed yet, best first.
            pub async fn similar_to_text(
                &self,
                text: &$crate::similar::SimilarText,
                options: &$crate::similar::SimilarOptions,
            ) -> StoreResult<Vec<$crate::similar::SimilarIssue>> {
                self.similar_ranked(text, None, None, options).await
            }

            async fn similar_ranked(
                &self,
                text: &$crate::similar::SimilarText,
                exclude: Option<i64>,
                before: Option<i64>,
                options: &$crate::similar::SimilarOptions,
            ) -> StoreResult<Vec<$crate::similar::SimilarIssue>> {
                use $crate::similar::SimilarRanking;
                let profile = moth_core::similar::TextProfile::of(&text.title, &text.description);
                let words = match options.ranking {
                    SimilarRanking::Moth => profile.search_words(),
                    SimilarRanking::Plain => moth_core::similar::plain_words(
                        &format!("{}\n{}", text.title, text.description),
                        $crate::similar::PLAIN_WORDS,
                    ),
                };
                let limit = options.limit.max(0) as usize;
                let engine_limit = match options.ranking {
                    SimilarRanking::Moth => $crate::similar::SIMILAR_CANDIDATES,
                    SimilarRanking::Plain => options.limit,
                };
                let found = match options.ranking {
                    SimilarRanking::Plain => self.similar_candidates(&words, options, exclude, before, engine_limit).await?,
                    SimilarRanking::Moth => {
                        let counts = self.word_matches(&words).await?;
                        let chosen: Vec<String> = moth_core::similar::bounded_words(
                            &counts,
                            moth_core::similar::COMMON_WORD_ISSUES,
                            moth_core::similar::MATCH_BUDGET,
                        )
                        .into_iter()
                        .map(|i| words[i].clone())
                        .collect();
                        if !chosen.is_empty() {
                            self.similar_candidates(&chosen, options, exclude, before, engine_limit).await?
                        } else {
                            // Only common words: the newest issues holding them, which the
                            // engines find walking their index newest first and stopping.
                            self.similar_newest(&words, options, exclude, before, engine_limit).await?
                        }
                    }
                };
                let rows = self.similar_rows(&found).await?;
                let scored: Vec<(usize, f64)> = match options.ranking {
                    SimilarRanking::Plain => found.iter().enumerate().map(|(i, (_, s))| (i, *s)).collect(),
                    SimilarRanking::Moth => {
                        let candidates: Vec<moth_core::similar::Candidate> = found
                            .iter()
                            .map(|(id, _)| {
                                let row = rows.get(id);
                                moth_core::similar::Candidate {
                                    title: row.map(|r| r.title.as_str()).unwrap_or(""),
                                    description: row.map(|r| r.description.as_str()).unwrap_or(""),
                                    component: row.and_then(|r| r.component.as_deref()),
                                }
                            })
                            .collect();
                        moth_core::similar::rank(&profile, text.component.as_deref(), &candidates)
                    }
                };
                let mut items = Vec::with_capacity(limit);
                for (index, score) in scored.into_iter().take(limit) {
                    let Some(row) = rows.get(&found[index].0) else { continue };
                    items.push($crate::similar::SimilarIssue {
                        id: format!("{}-{}", row.project_key, row.number),
                        title: row.title.clone(),
                        status: moth_core::Status::parse(&row.status)
                            .map_err(|e| $crate::error::StoreError::Corrupt(e.to_string()))?,
                        score: (score * 1000.0).round() / 1000.0,
                    });
                }
                Ok(items)
            }

            /// The engine's best matches of any of `words`, with its relevance (higher better).
            async fn similar_candidates(
                &self,
                words: &[String],
                options: &$crate::similar::SimilarOptions,
                exclude: Option<i64>,
                before: Option<i64>,
                limit: i64,
            ) -> StoreResult<Vec<(i64, f64)>> {
                let plain = options.ranking == $crate::similar::SimilarRanking::Plain;
                let mut builder = if stringify!($dialect) == "Sqlite" {
                    let Some(expression) = $crate::similar::fts_any(words) else { return Ok(Vec::new()) };
                    let weights = if plain { "1.0, 1.0, 1.0" } else { $crate::similar::FTS_WEIGHTS };
                    if before.is_none() && options.scope == $crate::search::ProjectScope::All {
                        // Nothing to check in the issues table: each scored match would be a
                        // row read for nothing (bm25 already reads each match's sizes).
                        let mut builder = sqlx::QueryBuilder::<'static, $db>::new(format!(
                            "select rowid, -bm25(issue_search, {weights}) as score from issue_search where issue_search match "
                        ));
                        builder.push_bind(expression);
                        if let Some(id) = exclude {
                            builder.push(" and rowid <> ").push_bind(id);
                        }
                        builder.push(" order by score desc, 1 desc limit ").push_bind(limit);
                        return Ok(builder.build_query_as().fetch_all(self.reader()).await?);
                    }
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(format!(
                        "select issue_search.rowid, -bm25(issue_search, {weights}) as score \
                         from issue_search cross join issues i on i.id = issue_search.rowid where issue_search match "
                    ));
                    builder.push_bind(expression);
                    builder
                } else {
                    let Some(query) = $crate::similar::tsquery_any(words) else { return Ok(Vec::new()) };
                    let weights = if plain { $crate::similar::TS_EQUAL_WEIGHTS } else { $crate::similar::TS_WEIGHTS };
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(format!(
                        "select i.id, ts_rank('{weights}'::float4[], i.search_document, q)::float8 as score \
                         from issues i, to_tsquery('english', "
                    ));
                    builder.push_bind(query).push(") q where i.search_document @@ q");
                    builder
                };
                if let Some(id) = exclude {
                    builder.push(" and i.id <> ").push_bind(id);
                }
                if let Some(at) = before {
                    builder.push(" and i.created_at < ").push_bind(at);
                }
                Self::push_scope(&mut builder, &options.scope);
                builder.push(" order by score desc, 1 desc limit ").push_bind(limit);
                Ok(builder.build_query_as().fetch_all(self.reader()).await?)
            }

            /// How many issues match each word, up to COMMON_WORD_ISSUES (a word with more is
            /// common and never chosen). PostgreSQL reads the counts kept by trigger. SQLite
            /// counts through the index, each count stopping at a cap so a common word costs
            /// no more than a rare one: first to FIRST_COUNT, and on to COMMON_WORD_ISSUES only
            /// the words whose count could still change the choice; counts are remembered.
            async fn word_matches(&self, words: &[String]) -> StoreResult<Vec<i64>> {
                let cap = moth_core::similar::COMMON_WORD_ISSUES;
                if stringify!($dialect) != "Sqlite" {
                    // Kept by trigger (migration 0013): one indexed read per word, exact.
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(
                        "select t.n, coalesce((select w.issues from search_words w where w.lexeme = \
                           (select v.lexeme from unnest(to_tsvector('english', t.word)) v limit 1)), 0) \
                         from (values ",
                    );
                    let mut any = false;
                    for (index, word) in words.iter().enumerate() {
                        if $crate::similar::tsquery_any(std::slice::from_ref(word)).is_none() {
                            continue;
                        }
                        builder.push(if any { ", (cast(" } else { "(cast(" });
                        builder.push_bind(word.clone()).push(format!(" as text), cast({index} as bigint))"));
                        any = true;
                    }
                    builder.push(") t(word, n)");
                    let rows: Vec<(i64, i64)> = if any { builder.build_query_as().fetch_all(self.reader()).await? } else { Vec::new() };
                    let mut counts = vec![0; words.len()];
                    for (index, matches) in rows {
                        if let Some(count) = counts.get_mut(index as usize) {
                            *count = matches.min(cap);
                        }
                    }
                    return Ok(counts);
                }
                let first_cap = moth_core::similar::FIRST_COUNT;
                let remembered = self.word_counts.get(words);
                let mut counts: Vec<i64> = remembered.iter().map(|n| n.unwrap_or(0)).collect();
                let unknown: Vec<bool> = remembered.iter().map(Option::is_none).collect();
                let first = self.count_words(words, &unknown, first_cap).await?;
                let mut settled = Vec::new();
                for (index, matches) in first {
                    counts[index] = matches;
                    if matches < first_cap {
                        settled.push((index, matches));
                    }
                }
                let again: Vec<bool> = (0..words.len()).map(|i| unknown[i] && counts[i] >= first_cap).collect();
                if again.contains(&true) && moth_core::similar::needs_recount(&counts, first_cap, moth_core::similar::MATCH_BUDGET) {
                    for (index, matches) in self.count_words(words, &again, cap).await? {
                        counts[index] = matches;
                        settled.push((index, matches));
                    }
                }
                // Rare words are cheap to count again, and a word new to the tracker must be
                // found as soon as an issue holds it.
                self.word_counts.remember(
                    settled
                        .into_iter()
                        .filter(|&(_, matches)| matches >= cap / 10)
                        .map(|(index, matches)| (words[index].clone(), matches)),
                );
                Ok(counts)
            }

            /// SQLite: how many issues match each word marked in `which`, each count stopping
            /// at `cap`, in one statement; (index, count) pairs.
            async fn count_words(&self, words: &[String], which: &[bool], cap: i64) -> StoreResult<Vec<(usize, i64)>> {
                let mut builder = sqlx::QueryBuilder::<'static, $db>::new("");
                let mut any = false;
                for (index, word) in words.iter().enumerate() {
                    if !which[index] {
                        continue;
                    }
                    // Any column: a column filter makes FTS5 read each match's positions, twice
                    // the cost, and comments rarely make a word common.
                    let Some(one) = $crate::similar::fts_word(word) else { continue };
                    if any {
                        builder.push(" union all ");
                    }
                    any = true;
                    builder.push(format!("select cast({index} as bigint) as word, (select count(*) from ("));
                    builder.push("select 1 from issue_search where issue_search match ");
                    builder.push_bind(one);
                    builder.push(format!(" limit {cap}) m) as matches"));
                }
                if !any {
                    return Ok(Vec::new());
                }
                let rows: Vec<(i64, i64)> = builder.build_query_as().fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(|(index, matches)| (index as usize, matches)).collect())
            }

            /// The newest issues holding any of `words`, for when all are common.
            async fn similar_newest(
                &self,
                words: &[String],
                options: &$crate::similar::SimilarOptions,
                exclude: Option<i64>,
                before: Option<i64>,
                limit: i64,
            ) -> StoreResult<Vec<(i64, f64)>> {
                let mut builder = if stringify!($dialect) == "Sqlite" {
                    let Some(expression) = $crate::similar::fts_any(words) else { return Ok(Vec::new()) };
                    // cross join keeps the index as the outer loop, walked newest first.
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(
                        "select issue_search.rowid as id, 0.0 as score from issue_search cross join issues i \
                         on i.id = issue_search.rowid where issue_search match ",
                    );
                    builder.push_bind(expression);
                    builder
                } else {
                    let Some(query) = $crate::similar::tsquery_any(words) else { return Ok(Vec::new()) };
                    let mut builder = sqlx::QueryBuilder::<'static, $db>::new(
                        "select i.id, cast(0 as float8) as score from issues i where i.search_document @@ to_tsquery('english', ",
                    );
                    builder.push_bind(query).push(")");
                    builder
                };
                if let Some(id) = exclude {
                    builder.push(" and i.id <> ").push_bind(id);
                }
                if let Some(at) = before {
                    builder.push(" and i.created_at < ").push_bind(at);
                }
                Self::push_scope(&mut builder, &options.scope);
                if stringify!($dialect) == "Sqlite" {
                    builder.push(" order by issue_search.rowid desc limit ");
                } else {
                    builder.push(" order by i.id desc limit ");
                }
                builder.push_bind(limit);
                Ok(builder.build_query_as().fetch_all(self.reader()).await?)
            }

            /// The candidates' fields, by id.
            async fn similar_rows(
                &self,
                found: &[(i64, f64)],
            ) -> StoreResult<std::collections::HashMap<i64, $crate::similar::CandidateRow>> {
                if found.is_empty() {
                    return Ok(Default::default());
                }
                let mut builder = sqlx::QueryBuilder::<'static, $db>::new(format!(
                    "select i.id, p.key as project_key, i.number, i.title, i.status, i.component, \
                     substr(i.description, 1, {}) as description \
                     from issues i join projects p on p.id = i.project_id where i.id in (",
                    moth_core::similar::MAX_BODY_CHARS
                ));
                let mut list = builder.separated(", ");
                for (id, _) in found {
                    list.push_bind(*id);
                }
                builder.push(")");
                let rows: Vec<$crate::similar::CandidateRow> = builder.build_query_as().fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(|r| (r.id, r)).collect())
            }
        }
    };
}

pub(crate) use similar_queries;

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn engine_queries_are_an_or_of_quoted_words() {
        assert_eq!(
            fts_any(&words(&["namenode", "crash"])).unwrap(),
            "{title body} : (\"namenode\" OR \"crash\")"
        );
        assert_eq!(fts_any(&[]), None);
        assert_eq!(fts_word("namenode").unwrap(), "\"namenode\"");
        assert_eq!(fts_word("\""), None);
        assert_eq!(
            tsquery_any(&words(&["namenode", "a|b", "crash"])).unwrap(),
            "namenode | crash"
        );
        assert_eq!(tsquery_any(&words(&["&"])), None);
    }
}
