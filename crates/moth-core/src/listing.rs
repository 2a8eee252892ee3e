//! How a list of issues is asked for: filters, sort order and page size, parsed from text.

use crate::DomainError;
use crate::values::{Email, Name};
use crate::vocabulary::{IssueType, Priority, Severity, Status};

/// Most issues one page may hold.
pub const MAX_PAGE_SIZE: i64 = 200;
/// Page size when none is asked for.
pub const DEFAULT_PAGE_SIZE: i64 = 50;

/// Who an issue's assignee filter matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Issues assigned to nobody.
    Nobody,
    /// Issues assigned to the user with this e-mail.
    User(Email),
}

/// Which planned release (`fixed_in_version`) issues must have: a board column by release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseFilter {
    /// Issues planned for this version, named exactly as stored.
    Version(String),
    /// Issues planned for no release.
    Unplanned,
}

impl ReleaseFilter {
    /// `none` is no release; anything else must be a version.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text.trim() {
            "none" => Ok(ReleaseFilter::Unplanned),
            version => Ok(ReleaseFilter::Version(
                crate::Version::parse("release", version)?
                    .as_str()
                    .to_string(),
            )),
        }
    }
}

/// Which issues a list holds; every list means "any of" and an empty list means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueFilter {
    pub types: Vec<IssueType>,
    pub statuses: Vec<Status>,
    pub severities: Vec<Severity>,
    pub priorities: Vec<Priority>,
    pub components: Vec<Name>,
    pub labels: Vec<Name>,
    pub assignees: Vec<AssigneeFilter>,
    /// The query language's terms (`q`), matched as well as the filters above.
    pub query: Option<crate::query::Query>,
    /// The planned release, when only one's issues (or only unplanned ones) are wanted.
    pub release: Option<ReleaseFilter>,
}

/// The raw query parameters of a list request.
#[derive(Debug, Clone, Default)]
pub struct IssueFilterInput<'a> {
    pub types: Option<&'a str>,
    pub statuses: Option<&'a str>,
    pub severities: Option<&'a str>,
    pub priorities: Option<&'a str>,
    pub components: Option<&'a str>,
    pub labels: Option<&'a str>,
    pub assignees: Option<&'a str>,
    pub text: Option<&'a str>,
}

fn comma_list<T>(
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T, DomainError>,
) -> Result<Vec<T>, DomainError> {
    let mut values = Vec::new();
    for part in text
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        values.push(parse(part)?);
    }
    Ok(values)
}

impl IssueFilter {
    /// Whether the filter lets every issue through (then counts need not read any issue).
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
            && self.statuses.is_empty()
            && self.severities.is_empty()
            && self.priorities.is_empty()
            && self.components.is_empty()
            && self.labels.is_empty()
            && self.assignees.is_empty()
            && self.query.is_none()
            && self.release.is_none()
    }

    /// Parses each comma-separated list; `status=open` stands for the four open statuses.
    pub fn parse(input: &IssueFilterInput<'_>) -> Result<Self, DomainError> {
        let mut statuses = Vec::new();
        for part in comma_list(input.statuses, |p| Ok(p.to_string()))? {
            if part == "open" {
                statuses.extend_from_slice(Status::OPEN);
            } else {
                statuses.push(Status::parse(&part).map_err(|e| {
                    DomainError::field("status", format!("{} (or open)", e.message))
                })?);
            }
        }
        statuses.sort();
        statuses.dedup();
        let query = match input.text.map(str::trim).filter(|t| !t.is_empty()) {
            Some(text) => Some(crate::query::Query::parse(text)?).filter(|q| !q.is_empty()),
            None => None,
        };
        Ok(Self {
            types: comma_list(input.types, IssueType::parse)?,
            statuses,
            severities: comma_list(input.severities, Severity::parse)?,
            priorities: comma_list(input.priorities, Priority::parse)?,
            components: comma_list(input.components, |t| Name::parse("component", t))?,
            labels: comma_list(input.labels, |t| Name::parse("label", t))?,
            assignees: comma_list(input.assignees, |t| {
                if t == "none" {
                    Ok(AssigneeFilter::Nobody)
                } else {
                    Email::parse(t).map(AssigneeFilter::User).map_err(|e| {
                        DomainError::field("assignee", format!("{} (or none)", e.message))
                    })
                }
            })?,
            query,
            release: None,
        })
    }
}

/// What a list is ordered by; ties are broken by newest first so pages never overlap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Created,
    Updated,
    Priority,
    Severity,
    Number,
}

/// A sort key and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueSort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for IssueSort {
    /// Newest first.
    fn default() -> Self {
        Self {
            key: SortKey::Created,
            descending: true,
        }
    }
}

impl IssueSort {
    /// Parses `priority`, `-created`, `updated`...: a leading `-` reverses the order.
    ///
    /// `priority` and `severity` ascending put the most pressing first (urgent, critical).
    pub fn parse(text: Option<&str>) -> Result<Self, DomainError> {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(Self::default());
        };
        let (descending, name) = match text.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, text),
        };
        let key = match name {
            "created" => SortKey::Created,
            "updated" => SortKey::Updated,
            "priority" => SortKey::Priority,
            "severity" => SortKey::Severity,
            "number" => SortKey::Number,
            _ => {
                return Err(DomainError::field(
                    "sort",
                    "unknown sort; use created, updated, priority, severity or number, with - in front to reverse",
                ));
            }
        };
        Ok(Self { key, descending })
    }

    /// The text form, as accepted by [`IssueSort::parse`].
    pub fn as_text(&self) -> String {
        let name = match self.key {
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Priority => "priority",
            SortKey::Severity => "severity",
            SortKey::Number => "number",
        };
        if self.descending {
            format!("-{name}")
        } else {
            name.to_string()
        }
    }
}

/// Parses a page size, refusing nonsense rather than quietly changing it.
pub fn parse_page_size(text: Option<&str>) -> Result<i64, DomainError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(DomainError::field(
                "limit",
                format!("limit must be a number from 1 to {MAX_PAGE_SIZE}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_expands_and_lists_mean_any_of() {
        let filter = IssueFilter::parse(&IssueFilterInput {
            types: Some("bug, performance"),
            statuses: Some("open"),
            severities: Some("major,critical"),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(filter.types, [IssueType::Bug, IssueType::Performance]);
        assert_eq!(filter.statuses, Status::OPEN);
        assert_eq!(filter.severities, [Severity::Major, Severity::Critical]);
    }

    #[test]
    fn unknown_filter_values_are_refused_with_the_field_named() {
        let err = IssueFilter::parse(&IssueFilterInput {
            statuses: Some("opened"),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, Some("status"));
        assert!(err.message.contains("or open"));
        let err = IssueFilter::parse(&IssueFilterInput {
            assignees: Some("bob"),
            ..Default::default()
        })
        .unwrap_err();
        assert_eq!(err.field, Some("assignee"));
    }

    #[test]
    fn sorts_parse_with_direction() {
        assert_eq!(
            IssueSort::parse(Some("-created")).unwrap(),
            IssueSort::default()
        );
        let sort = IssueSort::parse(Some("priority")).unwrap();
        assert_eq!((sort.key, sort.descending), (SortKey::Priority, false));
        assert_eq!(sort.as_text(), "priority");
        assert!(IssueSort::parse(Some("colour")).is_err());
    }

    #[test]
    fn page_sizes_are_bounded() {
        assert_eq!(parse_page_size(None).unwrap(), DEFAULT_PAGE_SIZE);
        assert_eq!(parse_page_size(Some("10")).unwrap(), 10);
        for bad in ["0", "-1", "201", "ten"] {
            assert!(parse_page_size(Some(bad)).is_err(), "{bad}");
        }
    }
}
