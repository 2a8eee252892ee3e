//! Moth's query language: `type:bug severity:critical,major status:open -label:flaky
//! fixed:>=2.3 updated:<7d "payment failed" pay*`, parsed once here for search, lists and views.
//!
//! A query is a list of terms that must all hold. A term is `field:value[,value…]` (any of the
//! values), optionally negated with a leading `-`, or free text: words (stemmed), `"phrases"`,
//! `-word` exclusions and `prefix*` matches. Free text is lenient (stray quotes, brackets and
//! operators are words or ignored); field syntax is strict, and a mistake is a [`QueryError`]
//! naming the position and a hint, so a typo never reads as "no results".

use crate::vocabulary::{IssueType, Priority, Severity, Status};
use crate::{DomainError, Version};
use std::fmt;
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 500;
/// Most terms one query may hold.
pub const MAX_TERMS: usize = 40;

/// The fields a query may name, in the order the README documents them.
pub const FIELDS: &[&str] = &[
    "type",
    "severity",
    "priority",
    "status",
    "label",
    "assignee",
    "component",
    "project",
    "affects",
    "fixed",
    "created",
    "updated",
    "resolved",
    "is",
    "reopened",
];

/// What `is:` accepts.
const IS_VALUES: &[&str] = &["open", "closed", "regression", "unassigned", "duplicate"];

/// A malformed query: where (1-based character position) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub position: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl QueryError {
    fn new(position: usize, message: impl Into<String>, hint: Option<String>) -> Self {
        Self {
            position,
            message: message.into(),
            hint,
        }
    }
}

impl fmt::Display for QueryError {
    /// `unknown field 'sevrity' at 1, did you mean 'severity'?`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.message, self.position)?;
        if let Some(hint) = &self.hint {
            write!(f, ", {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for QueryError {}

impl From<QueryError> for DomainError {
    fn from(error: QueryError) -> Self {
        DomainError::field("q", error.to_string())
    }
}

/// How a value compares: `>=2.3`, `<7d`, `2.3.0` (equal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    /// The SQL operator.
    pub fn sql(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }

    /// Whether `ordering` (of a stored value against the bound) satisfies this comparison.
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Comparison::Eq => ordering == Equal,
            Comparison::Lt => ordering == Less,
            Comparison::Le => ordering != Greater,
            Comparison::Gt => ordering == Greater,
            Comparison::Ge => ordering != Less,
        }
    }

    /// The comparison seen from the other side: an age below 7 days is a time after now - 7d.
    fn flipped(self) -> Self {
        match self {
            Comparison::Eq => Comparison::Eq,
            Comparison::Lt => Comparison::Gt,
            Comparison::Le => Comparison::Ge,
            Comparison::Gt => Comparison::Lt,
            Comparison::Ge => Comparison::Le,
        }
    }
}

/// A point in time as written: a day, an instant, or an age (`7d`: seven days ago).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// A UTC calendar day, as unix microseconds of its start.
    Day(i64),
    /// An exact instant, unix microseconds.
    Instant(i64),
    /// An age in seconds.
    Age(i64),
}

/// Unix-microsecond bounds `[from, to)` a time filter matches; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

const DAY_MICROS: i64 = 86_400_000_000;

impl TimeBound {
    /// The range of times `comparison bound` matches, given the current time.
    ///
    /// Ages compare as ages: `updated:<7d` is "changed less than seven days ago". A day
    /// compares as the whole day: `created:>2026-01-01` starts on January 2nd, and
    /// `created:2026-01-01` is that day.
    pub fn range(self, comparison: Comparison, now_micros: i64) -> TimeRange {
        let (comparison, start, end) = match self {
            TimeBound::Day(start) => (comparison, start, start.saturating_add(DAY_MICROS)),
            TimeBound::Instant(at) => (comparison, at, at.saturating_add(1)),
            TimeBound::Age(seconds) => {
                let at = now_micros.saturating_sub(seconds.saturating_mul(1_000_000));
                // An age written without operator means "within": `updated:7d` is `updated:<=7d`.
                let comparison = if comparison == Comparison::Eq {
                    Comparison::Le
                } else {
                    comparison
                };
                (comparison.flipped(), at, at.saturating_add(1))
            }
        };
        match comparison {
            Comparison::Eq => TimeRange {
                from: Some(start),
                to: Some(end),
            },
            Comparison::Lt => TimeRange {
                from: None,
                to: Some(start),
            },
            Comparison::Le => TimeRange {
                from: None,
                to: Some(end),
            },
            Comparison::Gt => TimeRange {
                from: Some(end),
                to: None,
            },
            Comparison::Ge => TimeRange {
                from: Some(start),
                to: None,
            },
        }
    }
}

/// Who `assignee:` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeValue {
    /// The person asking (resolved by the caller with [`Query::resolve_me`]).
    Me,
    /// Nobody: `assignee:none`.
    Nobody,
    /// Someone, by e-mail (compared case-insensitively).
    Email(String),
}

/// A state `is:` tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsFlag {
    Open,
    Closed,
    Regression,
    Unassigned,
    Duplicate,
}

/// What one field term tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    Types(Vec<IssueType>),
    Severities(Vec<Severity>),
    Priorities(Vec<Priority>),
    Statuses(Vec<Status>),
    Labels(Vec<String>),
    Assignees(Vec<AssigneeValue>),
    Components(Vec<String>),
    Projects(Vec<String>),
    Affects(Comparison, Version),
    Fixed(Comparison, Version),
    Created(Comparison, TimeBound),
    Updated(Comparison, TimeBound),
    Resolved(Comparison, TimeBound),
    Is(IsFlag),
    Reopened(Comparison, i64),
}

/// A field term: a condition, possibly negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    pub negated: bool,
    pub condition: Condition,
}

/// How a piece of free text matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A word, matched by its stem (crashes finds crash).
    Word,
    /// Words in this order, next to each other.
    Phrase,
    /// Words starting with this text.
    Prefix,
}

/// A piece of free text; `excluded` for `-word`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextTerm {
    pub kind: TextKind,
    pub excluded: bool,
    /// The words, each made of letters and digits only (safe to quote for any engine).
    pub words: Vec<String>,
}

impl TextTerm {
    /// The words joined by spaces.
    pub fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// A parsed query: every field term and text term must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub fields: Vec<FieldTerm>,
    pub text: Vec<TextTerm>,
}

impl Query {
    /// Parses a query; an empty text is an empty query (everything).
    pub fn parse(input: &str) -> Result<Self, QueryError> {
        let chars: Vec<char> = input.chars().collect();
        if chars.len() > MAX_QUERY_CHARS {
            return Err(QueryError::new(
                MAX_QUERY_CHARS + 1,
                format!("the query is too long: at most {MAX_QUERY_CHARS} characters"),
                Some("shorten it or split it into filters".into()),
            ));
        }
        Parser { chars, at: 0 }.parse()
    }

    /// Whether the query has nothing to match (every issue qualifies).
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.text.is_empty()
    }

    /// Whether free text must match (as opposed to only exclusions or no text at all).
    pub fn has_positive_text(&self) -> bool {
        self.text.iter().any(|t| !t.excluded)
    }

    /// Replaces `assignee:me` by the asker's e-mail.
    pub fn resolve_me(&mut self, email: &str) {
        for term in &mut self.fields {
            if let Condition::Assignees(list) = &mut term.condition {
                for value in list.iter_mut() {
                    if *value == AssigneeValue::Me {
                        *value = AssigneeValue::Email(email.to_lowercase());
                    }
                }
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

/// One whitespace-separated piece of the query and where it started (1-based).
struct Piece {
    position: usize,
    negated: bool,
    /// The text before the first unquoted `:`, when there is one.
    field: Option<String>,
    /// The rest (the value, or the whole word), with quotes removed.
    value: String,
    /// Where the value starts (1-based).
    value_position: usize,
    /// Whether the value (or word) was quoted.
    quoted: bool,
}

impl Parser {
    fn parse(mut self) -> Result<Query, QueryError> {
        let mut query = Query::default();
        let mut terms = 0;
        while let Some(piece) = self.next_piece() {
            terms += 1;
            if terms > MAX_TERMS {
                return Err(QueryError::new(
                    piece.position,
                    format!("too many terms: at most {MAX_TERMS}"),
                    Some("use a comma list such as severity:critical,major".into()),
                ));
            }
            match &piece.field {
                Some(field) => {
                    let condition = field_condition(field, &piece)?;
                    query.fields.push(FieldTerm {
                        negated: piece.negated,
                        condition,
                    });
                }
                None => {
                    if let Some(term) = text_term(&piece) {
                        query.text.push(term);
                    }
                }
            }
        }
        Ok(query)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    /// Reads the next piece: `-`? (`"phrase"` | `name:` (`"value"` | value) | word).
    fn next_piece(&mut self) -> Option<Piece> {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
        self.peek()?;
        let position = self.at + 1;
        let mut negated = false;
        if self.peek() == Some('-') {
            negated = true;
            self.at += 1;
        }
        if self.peek() == Some('"') {
            let value = self.quoted();
            return Some(Piece {
                position,
                negated,
                field: None,
                value,
                value_position: position,
                quoted: true,
            });
        }
        // A field name is letters and underscores directly followed by a colon.
        let start = self.at;
        let mut end = start;
        while self
            .chars
            .get(end)
            .is_some_and(|c| c.is_ascii_alphabetic() || *c == '_')
        {
            end += 1;
        }
        if end > start && self.chars.get(end) == Some(&':') {
            let field: String = self.chars[start..end].iter().collect();
            self.at = end + 1;
            let value_position = self.at + 1;
            let (value, quoted) = if self.peek() == Some('"') {
                (self.quoted(), true)
            } else {
                (self.bare(), false)
            };
            return Some(Piece {
                position,
                negated,
                field: Some(field.to_ascii_lowercase()),
                value,
                value_position,
                quoted,
            });
        }
        let value = self.bare();
        Some(Piece {
            position,
            negated,
            field: None,
            value,
            value_position: position,
            quoted: false,
        })
    }

    /// Text up to the closing quote (or the end: a stray quote is forgiven in free text).
    fn quoted(&mut self) -> String {
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|c| c != '"') {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        if self.peek() == Some('"') {
            self.at += 1;
        }
        text
    }

    fn bare(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| !c.is_whitespace()) {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }
}

/// Splits text into words of letters and digits; everything else separates words.
fn words_of(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Free text: a quoted phrase, a word, or a `prefix*`; text without letters or digits is
/// ignored, and a word with punctuation inside (`foo-bar`, `a.b`) is a phrase of its parts.
fn text_term(piece: &Piece) -> Option<TextTerm> {
    let prefix = !piece.quoted && piece.value.ends_with('*');
    let words = words_of(&piece.value);
    if words.is_empty() || words.iter().map(|w| w.chars().count()).sum::<usize>() > 100 {
        return None;
    }
    let kind = if prefix {
        TextKind::Prefix
    } else if words.len() > 1 {
        TextKind::Phrase
    } else {
        TextKind::Word
    };
    Some(TextTerm {
        kind,
        excluded: piece.negated,
        words,
    })
}

/// Edit distance, for "did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

/// The closest of `candidates` to `text`, if close enough to be a likely typo.
fn closest<'a>(text: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (distance(text, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 3) && *d < c.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn suggest(text: &str, candidates: &[&str]) -> String {
    match closest(&text.to_lowercase(), candidates) {
        Some(best) => format!("did you mean '{best}'?"),
        None => format!("use one of: {}", candidates.join(", ")),
    }
}

fn shown(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// One value of a comma list and where it starts.
fn list_values(piece: &Piece) -> Result<Vec<(usize, String)>, QueryError> {
    let mut values = Vec::new();
    let mut position = piece.value_position;
    for part in piece.value.split(',') {
        let trimmed = part.trim();
        if !trimmed.is_empty() {
            values.push((position, trimmed.to_string()));
        }
        position += part.chars().count() + 1;
    }
    if values.is_empty() {
        return Err(missing_value(piece));
    }
    Ok(values)
}

fn missing_value(piece: &Piece) -> QueryError {
    let field = piece.field.as_deref().unwrap_or("");
    let example = match field {
        "type" => "type:bug",
        "severity" => "severity:critical,major",
        "priority" => "priority:urgent,high",
        "status" => "status:open",
        "label" => "label:checkout",
        "assignee" => "assignee:me",
        "component" => "component:payments",
        "project" => "project:WEB",
        "affects" => "affects:2.3.0",
        "fixed" => "fixed:>=2.3",
        "created" | "updated" | "resolved" => "updated:<7d or created:>2026-01-01",
        "is" => "is:regression",
        _ => "reopened:>0",
    };
    QueryError::new(
        piece.value_position,
        format!("missing value for '{field}'"),
        Some(format!("for example {example}")),
    )
}

/// Parses each listed value of a closed vocabulary, pointing at the one that is wrong.
fn vocabulary_list<T: Copy>(
    piece: &Piece,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<Vec<T>, QueryError> {
    let names: Vec<&str> = all.iter().map(|v| name(*v)).collect();
    list_values(piece)?
        .into_iter()
        .map(|(position, text)| {
            let lower = text.to_lowercase();
            all.iter()
                .copied()
                .find(|v| name(*v) == lower)
                .ok_or_else(|| {
                    QueryError::new(
                        position,
                        format!(
                            "unknown {} '{}'",
                            piece.field.as_deref().unwrap_or(""),
                            shown(&text)
                        ),
                        Some(suggest(&lower, &names)),
                    )
                })
        })
        .collect()
}

/// Splits a leading comparison operator from a value.
fn comparison(piece: &Piece) -> Result<(Comparison, usize, String), QueryError> {
    let value = piece.value.trim();
    let (op, rest) = if let Some(rest) = value.strip_prefix(">=") {
        (Comparison::Ge, rest)
    } else if let Some(rest) = value.strip_prefix("<=") {
        (Comparison::Le, rest)
    } else if let Some(rest) = value.strip_prefix('>') {
        (Comparison::Gt, rest)
    } else if let Some(rest) = value.strip_prefix('<') {
        (Comparison::Lt, rest)
    } else if let Some(rest) = value.strip_prefix('=') {
        (Comparison::Eq, rest)
    } else {
        (Comparison::Eq, value)
    };
    let position = piece.value_position + (value.chars().count() - rest.chars().count());
    if rest.trim().is_empty() {
        return Err(missing_value(piece));
    }
    Ok((op, position, rest.trim().to_string()))
}

fn time_bound(piece: &Piece) -> Result<(Comparison, TimeBound), QueryError> {
    let (op, position, text) = comparison(piece)?;
    let bad = || {
        QueryError::new(
            position,
            format!("'{}' is not a date or an age", shown(&text)),
            Some("write a day as 2026-01-31, a time as 2026-01-31T09:00:00Z, or an age as 12h, 7d, 4w or 1y".into()),
        )
    };
    if let Some(unit) = text.chars().last().filter(|c| c.is_ascii_alphabetic()) {
        let number = &text[..text.len() - 1];
        if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) {
            let n: i64 = number.parse().map_err(|_| bad())?;
            let seconds = match unit.to_ascii_lowercase() {
                'h' => 3_600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                'm' => 30 * 86_400,
                'y' => 365 * 86_400,
                _ => return Err(bad()),
            };
            return n
                .checked_mul(seconds)
                .filter(|s| *s < 200 * 365 * 86_400)
                .map(|s| (op, TimeBound::Age(s)))
                .ok_or_else(bad);
        }
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(day) = Date::parse(&text, &format) {
        let start = day.midnight().assume_utc().unix_timestamp() * 1_000_000;
        return Ok((op, TimeBound::Day(start)));
    }
    if let Ok(at) = OffsetDateTime::parse(&text, &Rfc3339) {
        let micros = (at.unix_timestamp_nanos() / 1_000) as i64;
        return Ok((op, TimeBound::Instant(micros)));
    }
    Err(bad())
}

fn version_bound(piece: &Piece) -> Result<(Comparison, Version), QueryError> {
    let (op, position, text) = comparison(piece)?;
    let version = Version::parse("version", &text).map_err(|_| {
        QueryError::new(
            position,
            format!("'{}' is not a version", shown(&text)),
            Some("versions look like 2.3, 2.3.1, 2.3.0-beta.1 or 2.3.0+481".into()),
        )
    })?;
    Ok((op, version))
}

fn names(piece: &Piece) -> Result<Vec<String>, QueryError> {
    Ok(list_values(piece)?.into_iter().map(|(_, v)| v).collect())
}

fn field_condition(field: &str, piece: &Piece) -> Result<Condition, QueryError> {
    if !FIELDS.contains(&field) {
        let hint = match closest(field, FIELDS) {
            Some(best) => format!("did you mean '{best}'?"),
            None => format!(
                "known fields are {}; put text with a colon in quotes",
                FIELDS.join(", ")
            ),
        };
        return Err(QueryError::new(
            piece.position + usize::from(piece.negated),
            format!("unknown field '{}'", shown(field)),
            Some(hint),
        ));
    }
    if piece.value.trim().is_empty() {
        return Err(missing_value(piece));
    }
    Ok(match field {
        "type" => Condition::Types(vocabulary_list(piece, IssueType::ALL, IssueType::as_str)?),
        "severity" => {
            Condition::Severities(vocabulary_list(piece, Severity::ALL, Severity::as_str)?)
        }
        "priority" => {
            Condition::Priorities(vocabulary_list(piece, Priority::ALL, Priority::as_str)?)
        }
        "status" => {
            let mut statuses = Vec::new();
            for (position, text) in list_values(piece)? {
                let lower = text.to_lowercase();
                match lower.as_str() {
                    "open" => statuses.extend_from_slice(Status::OPEN),
                    "done" => statuses.extend_from_slice(&[Status::Resolved, Status::Closed]),
                    _ => {
                        let mut names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
                        names.push("open");
                        let status = Status::ALL
                            .iter()
                            .copied()
                            .find(|s| s.as_str() == lower)
                            .ok_or_else(|| {
                                QueryError::new(
                                    position,
                                    format!("unknown status '{}'", shown(&text)),
                                    Some(suggest(&lower, &names)),
                                )
                            })?;
                        statuses.push(status);
                    }
                }
            }
            statuses.sort();
            statuses.dedup();
            Condition::Statuses(statuses)
        }
        "label" => Condition::Labels(names(piece)?),
        "component" => Condition::Components(names(piece)?),
        "project" => Condition::Projects(
            names(piece)?
                .into_iter()
                .map(|k| k.to_ascii_uppercase())
                .collect(),
        ),
        "assignee" => Condition::Assignees(
            list_values(piece)?
                .into_iter()
                .map(|(position, text)| match text.to_lowercase().as_str() {
                    "me" => Ok(AssigneeValue::Me),
                    "none" | "nobody" => Ok(AssigneeValue::Nobody),
                    email if email.contains('@') => Ok(AssigneeValue::Email(email.to_string())),
                    _ => Err(QueryError::new(
                        position,
                        format!("unknown assignee '{}'", shown(&text)),
                        Some("use me, none, or an e-mail address".into()),
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        "affects" => {
            let (op, version) = version_bound(piece)?;
            Condition::Affects(op, version)
        }
        "fixed" => {
            let (op, version) = version_bound(piece)?;
            Condition::Fixed(op, version)
        }
        "created" => {
            let (op, bound) = time_bound(piece)?;
            Condition::Created(op, bound)
        }
        "updated" => {
            let (op, bound) = time_bound(piece)?;
            Condition::Updated(op, bound)
        }
        "resolved" => {
            let (op, bound) = time_bound(piece)?;
            Condition::Resolved(op, bound)
        }
        "is" => {
            let text = piece.value.trim().to_lowercase();
            let flag = match text.as_str() {
                "open" => IsFlag::Open,
                "closed" | "done" => IsFlag::Closed,
                "regression" => IsFlag::Regression,
                "unassigned" => IsFlag::Unassigned,
                "duplicate" => IsFlag::Duplicate,
                _ => {
                    return Err(QueryError::new(
                        piece.value_position,
                        format!("unknown state 'is:{}'", shown(&text)),
                        Some(suggest(&text, IS_VALUES)),
                    ));
                }
            };
            Condition::Is(flag)
        }
        _ => {
            // reopened: a count, as in reopened:>0 or reopened:2.
            let (op, position, text) = comparison(piece)?;
            let count = text
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=1_000_000).contains(n))
                .ok_or_else(|| {
                    QueryError::new(
                        position,
                        format!("'{}' is not a count", shown(&text)),
                        Some("for example reopened:>0 or reopened:2".into()),
                    )
                })?;
            Condition::Reopened(op, count)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Query {
        Query::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn field(text: &str) -> FieldTerm {
        let query = parse(text);
        assert_eq!(query.fields.len(), 1, "{text}");
        query.fields[0].clone()
    }

    fn error(text: &str) -> QueryError {
        Query::parse(text).expect_err(text)
    }

    #[test]
    fn the_example_of_the_issue_parses() {
        let query = parse(
            "type:bug severity:critical,major status:open label:checkout -label:flaky assignee:me \
             component:payments affects:2.3.0 fixed:>=2.3 created:>2026-01-01 updated:<7d \
             is:regression reopened:>0 \"payment failed\"",
        );
        assert_eq!(query.fields.len(), 13);
        assert_eq!(
            query.text,
            [TextTerm {
                kind: TextKind::Phrase,
                excluded: false,
                words: vec!["payment".into(), "failed".into()]
            }]
        );
    }

    #[test]
    fn vocabulary_fields_take_comma_lists() {
        assert_eq!(
            field("type:bug").condition,
            Condition::Types(vec![IssueType::Bug])
        );
        assert_eq!(
            field("severity:critical,major").condition,
            Condition::Severities(vec![Severity::Critical, Severity::Major])
        );
        assert_eq!(
            field("priority:URGENT").condition,
            Condition::Priorities(vec![Priority::Urgent])
        );
        assert_eq!(
            field("status:open").condition,
            Condition::Statuses(Status::OPEN.to_vec())
        );
        assert_eq!(
            field("status:resolved,closed").condition,
            Condition::Statuses(vec![Status::Resolved, Status::Closed])
        );
    }

    #[test]
    fn names_and_people() {
        assert_eq!(
            field("label:checkout").condition,
            Condition::Labels(vec!["checkout".into()])
        );
        let negated = field("-label:flaky");
        assert!(negated.negated);
        assert_eq!(
            field("label:\"needs design\"").condition,
            Condition::Labels(vec!["needs design".into()])
        );
        assert_eq!(
            field("component:payments").condition,
            Condition::Components(vec!["payments".into()])
        );
        assert_eq!(
            field("project:web").condition,
            Condition::Projects(vec!["WEB".into()])
        );
        let mut query = parse("assignee:me,none,Bob@Example.com");
        query.resolve_me("ME@example.com");
        assert_eq!(
            query.fields[0].condition,
            Condition::Assignees(vec![
                AssigneeValue::Email("me@example.com".into()),
                AssigneeValue::Nobody,
                AssigneeValue::Email("bob@example.com".into())
            ])
        );
    }

    #[test]
    fn versions_compare_with_operators() {
        let v = |t: &str| Version::parse("v", t).unwrap();
        assert_eq!(
            field("affects:2.3.0").condition,
            Condition::Affects(Comparison::Eq, v("2.3.0"))
        );
        assert_eq!(
            field("fixed:>=2.3").condition,
            Condition::Fixed(Comparison::Ge, v("2.3"))
        );
        assert_eq!(
            field("fixed:<2.10").condition,
            Condition::Fixed(Comparison::Lt, v("2.10"))
        );
        let e = error("fixed:>=banana");
        assert_eq!(e.position, 9);
        assert!(e.message.contains("not a version"), "{e}");
    }

    #[test]
    fn dates_and_ages() {
        let FieldTerm {
            condition: Condition::Created(op, bound),
            ..
        } = field("created:>2026-01-01")
        else {
            panic!()
        };
        assert_eq!(op, Comparison::Gt);
        let jan1 = 1_767_225_600_000_000;
        assert_eq!(bound, TimeBound::Day(jan1));
        assert_eq!(
            bound.range(op, 0),
            TimeRange {
                from: Some(jan1 + DAY_MICROS),
                to: None
            }
        );
        assert_eq!(
            TimeBound::Day(jan1).range(Comparison::Eq, 0),
            TimeRange {
                from: Some(jan1),
                to: Some(jan1 + DAY_MICROS)
            }
        );
        let FieldTerm {
            condition: Condition::Updated(op, bound),
            ..
        } = field("updated:<7d")
        else {
            panic!()
        };
        assert_eq!(bound, TimeBound::Age(7 * 86_400));
        let now = 1_000 * DAY_MICROS;
        // Less than 7 days old: changed after now - 7 days.
        assert_eq!(bound.range(op, now).from, Some(now - 7 * DAY_MICROS + 1));
        assert_eq!(bound.range(op, now).to, None);
        assert!(Query::parse("resolved:>=2026-01-31T09:00:00Z").is_ok());
        for bad in [
            "created:yesterday",
            "updated:<7x",
            "created:2026-13-01",
            "created:>",
        ] {
            let e = error(bad);
            assert!(e.position > 1, "{bad}: {e}");
        }
    }

    #[test]
    fn states_and_counts() {
        assert_eq!(
            field("is:regression").condition,
            Condition::Is(IsFlag::Regression)
        );
        assert_eq!(field("is:open").condition, Condition::Is(IsFlag::Open));
        assert_eq!(
            field("reopened:>0").condition,
            Condition::Reopened(Comparison::Gt, 0)
        );
        assert_eq!(
            field("reopened:2").condition,
            Condition::Reopened(Comparison::Eq, 2)
        );
        assert_eq!(
            error("is:regresion").hint.as_deref(),
            Some("did you mean 'regression'?")
        );
        assert!(error("reopened:>many").message.contains("not a count"));
    }

    #[test]
    fn free_text_words_phrases_exclusions_and_prefixes() {
        let query = parse("crash \"payment failed\" -flaky pay* foo-bar");
        let kinds: Vec<(TextKind, bool, String)> = query
            .text
            .iter()
            .map(|t| (t.kind, t.excluded, t.text()))
            .collect();
        assert_eq!(
            kinds,
            [
                (TextKind::Word, false, "crash".into()),
                (TextKind::Phrase, false, "payment failed".into()),
                (TextKind::Word, true, "flaky".into()),
                (TextKind::Prefix, false, "pay".into()),
                (TextKind::Phrase, false, "foo bar".into()),
            ]
        );
        assert!(query.has_positive_text());
        assert!(!parse("-flaky").has_positive_text());
    }

    #[test]
    fn hostile_free_text_is_words_or_nothing() {
        let query = parse("NEAR( \"unbalanced (( ) * ' ; drop table issues; -- \\ %_");
        assert!(
            query
                .text
                .iter()
                .flat_map(|t| &t.words)
                .all(|w| w.chars().all(char::is_alphanumeric))
        );
        assert!(parse("* ** ( ) \" -").text.is_empty());
        assert!(parse("").is_empty());
    }

    #[test]
    fn errors_name_the_position_and_a_hint() {
        let e = error("sevrity:critical");
        assert_eq!(
            e.to_string(),
            "unknown field 'sevrity' at 1, did you mean 'severity'?"
        );
        let e = error("type:bug statsu:open");
        assert_eq!(
            (e.position, e.hint.as_deref()),
            (10, Some("did you mean 'status'?"))
        );
        let e = error("-lable:x");
        assert_eq!(
            (e.position, e.hint.as_deref()),
            (2, Some("did you mean 'label'?"))
        );
        let e = error("severity:critical,majr");
        assert_eq!(e.position, 19);
        assert_eq!(e.hint.as_deref(), Some("did you mean 'major'?"));
        let e = error("status:");
        assert!(e.message.contains("missing value"), "{e}");
        assert!(e.hint.unwrap().contains("status:open"));
        let e = error("http://example.com");
        assert!(e.hint.unwrap().contains("quotes"));
        assert!(error("assignee:bob").hint.unwrap().contains("e-mail"));
        assert!(error(&"a ".repeat(300)).message.contains("too long"));
        assert!(
            error(&"a ".repeat(MAX_TERMS + 1))
                .message
                .contains("too many")
        );
        let domain: DomainError = error("x:y").into();
        assert_eq!(domain.field, Some("q"));
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(input in "\\PC{0,120}") {
            let _ = Query::parse(&input);
        }

        #[test]
        fn query_shaped_input_never_panics(input in "(-?[a-z]{0,9}:?[<>=]{0,2}[\"a-z0-9.,*()-]{0,12} ?){0,8}") {
            if let Err(e) = Query::parse(&input) {
                prop_assert!(e.position >= 1 && e.position <= input.chars().count() + 1, "{e} in {input:?}");
            }
        }
    }
}
