//! The closed vocabularies of CONTRACT.md: type, severity, priority, status, resolution, role.

use crate::DomainError;
use serde::{Deserialize, Serialize};

/// Declares a closed vocabulary with its wire names, parse and display.
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident, $field:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the vocabulary's own order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a wire name, with an error that lists the accepted values.
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                match text.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(DomainError::field(
                        $field,
                        format!(
                            "unknown {} {:?}; expected one of: {}",
                            $field,
                            truncate_for_message(other),
                            [$($text),+].join(", ")
                        ),
                    )),
                }
            }

            /// Position in the vocabulary's order (0 first); used for sorting.
            pub fn rank(self) -> i16 {
                Self::ALL.iter().position(|v| *v == self).unwrap_or(0) as i16
            }

            /// The value at a rank, as stored.
            pub fn from_rank(rank: i16) -> Option<Self> {
                usize::try_from(rank).ok().and_then(|i| Self::ALL.get(i).copied())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> { Self::parse(s) }
        }
    };
}

/// Keeps an echoed bad value short enough to read in an error message.
pub(crate) fn truncate_for_message(text: &str) -> String {
    const MAX: usize = 40;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    }
}

vocabulary!(
    /// What kind of work an issue is; bugs are kept apart from everything else.
    IssueType, "type", {
        Bug => "bug",
        Feature => "feature",
        Improvement => "improvement",
        Task => "task",
        Question => "question",
        Docs => "docs",
        Performance => "performance",
        Support => "support",
    }
);

vocabulary!(
    /// How bad a defect is; only bugs and performance issues have one.
    Severity, "severity", {
        Critical => "critical",
        Major => "major",
        Minor => "minor",
        Trivial => "trivial",
    }
);

vocabulary!(
    /// How soon the team means to act; every issue has one (default `none`).
    Priority, "priority", {
        Urgent => "urgent",
        High => "high",
        Medium => "medium",
        Low => "low",
        None => "none",
    }
);

vocabulary!(
    /// Where an issue is in its workflow.
    Status, "status", {
        New => "new",
        Triaged => "triaged",
        InProgress => "in_progress",
        NeedsInfo => "needs_info",
        Resolved => "resolved",
        Closed => "closed",
    }
);

vocabulary!(
    /// Why an issue was resolved or closed.
    Resolution, "resolution", {
        Fixed => "fixed",
        Done => "done",
        Duplicate => "duplicate",
        WontFix => "wont_fix",
        CannotReproduce => "cannot_reproduce",
        ByDesign => "by_design",
    }
);

vocabulary!(
    /// What a user may do: admins everything, members work on issues, viewers read.
    Role, "role", {
        Admin => "admin",
        Member => "member",
        Viewer => "viewer",
    }
);

impl IssueType {
    /// Whether this kind of issue is a defect that carries a severity.
    pub fn has_severity(self) -> bool {
        matches!(self, IssueType::Bug | IssueType::Performance)
    }
}

impl Priority {
    /// The priority of an issue nobody has prioritised yet.
    pub const DEFAULT: Priority = Priority::None;
}

impl Status {
    /// The statuses a filter's `open` stands for.
    pub const OPEN: &'static [Status] = &[
        Status::New,
        Status::Triaged,
        Status::InProgress,
        Status::NeedsInfo,
    ];

    /// Whether work on the issue is still to be done.
    pub fn is_open(self) -> bool {
        !self.is_done()
    }

    /// Resolved or closed: the statuses that carry a resolution.
    pub fn is_done(self) -> bool {
        matches!(self, Status::Resolved | Status::Closed)
    }
}

impl Role {
    /// Whether this role may file, triage and edit issues.
    pub fn can_write_issues(self) -> bool {
        matches!(self, Role::Admin | Role::Member)
    }

    /// Whether this role may change settings, projects and users.
    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips_through_its_wire_name() {
        for t in IssueType::ALL {
            assert_eq!(IssueType::parse(t.as_str()).unwrap(), *t);
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), *s);
            assert_eq!(Status::from_rank(s.rank()), Some(*s));
        }
        assert_eq!(IssueType::ALL.len(), 8);
    }

    #[test]
    fn unknown_values_name_the_field_and_the_choices() {
        let err = Severity::parse("blocker").unwrap_err();
        assert_eq!(err.field, Some("severity"));
        assert!(
            err.message.contains("critical, major, minor, trivial"),
            "{}",
            err.message
        );
        assert!(Priority::parse("").is_err());
    }

    #[test]
    fn only_bugs_and_performance_issues_have_severity() {
        let with: Vec<_> = IssueType::ALL.iter().filter(|t| t.has_severity()).collect();
        assert_eq!(with, vec![&IssueType::Bug, &IssueType::Performance]);
    }

    #[test]
    fn open_means_the_four_working_statuses() {
        assert!(Status::OPEN.iter().all(|s| s.is_open()));
        assert!(Status::Resolved.is_done() && Status::Closed.is_done());
        assert_eq!(Status::OPEN.len() + 2, Status::ALL.len());
    }

    #[test]
    fn priority_ranks_put_urgent_first() {
        assert!(Priority::Urgent.rank() < Priority::None.rank());
        assert!(Severity::Critical.rank() < Severity::Trivial.rank());
    }
}
