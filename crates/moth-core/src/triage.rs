//! Triage: the decisions taken on a new report, each turned into one change of the issue.

use crate::DomainError;
use crate::issue::IssueChange;
use crate::values::{IssueRef, LongText};
use crate::vocabulary::{IssueType, Priority, Resolution, Severity, Status};

/// Longest snooze, in days.
pub const MAX_SNOOZE_DAYS: i64 = 90;

/// What a triager decided about a new report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriageDecision {
    /// A real issue: triaged, with its severity (bugs and performance issues) and priority.
    Accept {
        severity: Option<Severity>,
        priority: Priority,
    },
    /// Already reported: resolved as a duplicate of the original.
    Duplicate { of: IssueRef },
    /// The reporter must say more; the question goes in as a comment.
    NeedsInfo { question: Option<LongText> },
    /// Not going to be acted on: closed with why.
    Decline { resolution: Resolution },
    /// Out of the inbox for some days, then back.
    Snooze { days: i64 },
}

fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

/// The raw form of a decision.
#[derive(Debug, Clone, Default)]
pub struct TriageInput<'a> {
    pub action: &'a str,
    pub severity: &'a str,
    pub priority: &'a str,
    pub duplicate_of: &'a str,
    pub question: &'a str,
    pub days: &'a str,
}

impl TriageDecision {
    /// Parses a decision for an issue of the given type.
    pub fn parse(input: &TriageInput<'_>, issue_type: IssueType) -> Result<Self, DomainError> {
        match input.action {
            "accept" => {
                let severity = optional(input.severity).map(Severity::parse).transpose()?;
                if severity.is_some() && !issue_type.has_severity() {
                    return Err(DomainError::field(
                        "severity",
                        "severity applies to bugs and performance issues only",
                    ));
                }
                let priority = optional(input.priority)
                    .map(Priority::parse)
                    .transpose()?
                    .unwrap_or(Priority::DEFAULT);
                Ok(TriageDecision::Accept { severity, priority })
            }
            "duplicate" => {
                let Some(text) = optional(input.duplicate_of) else {
                    return Err(DomainError::field(
                        "duplicate_of",
                        "name the original issue, such as WEB-12",
                    ));
                };
                let of = IssueRef::parse(text)
                    .map_err(|e| DomainError::field("duplicate_of", e.message))?;
                Ok(TriageDecision::Duplicate { of })
            }
            "needs_info" => Ok(TriageDecision::NeedsInfo {
                question: LongText::parse_optional("question", input.question)?,
            }),
            "wont_fix" | "by_design" | "cannot_reproduce" => Ok(TriageDecision::Decline {
                resolution: Resolution::parse(input.action)?,
            }),
            "snooze" => {
                let days = match optional(input.days) {
                    None => 7,
                    Some(text) => text.parse::<i64>().map_err(|_| {
                        DomainError::field("days", "snooze for a whole number of days")
                    })?,
                };
                if !(1..=MAX_SNOOZE_DAYS).contains(&days) {
                    return Err(DomainError::field(
                        "days",
                        format!("snooze for 1 to {MAX_SNOOZE_DAYS} days"),
                    ));
                }
                Ok(TriageDecision::Snooze { days })
            }
            other => Err(DomainError::field(
                "action",
                format!(
                    "unknown triage action {other:?}; use accept, duplicate, needs_info, wont_fix, by_design, cannot_reproduce or snooze"
                ),
            )),
        }
    }

    /// The change of the issue this decision makes (a snooze changes no field).
    pub fn change(&self) -> Option<IssueChange> {
        let change = match self {
            TriageDecision::Accept { severity, priority } => IssueChange {
                status: Some(Status::Triaged),
                severity: severity.map(Some),
                priority: Some(*priority),
                ..IssueChange::default()
            },
            TriageDecision::Duplicate { of } => IssueChange {
                status: Some(Status::Resolved),
                resolution: Some(Some(Resolution::Duplicate)),
                duplicate_of: Some(Some(of.clone())),
                ..IssueChange::default()
            },
            TriageDecision::NeedsInfo { .. } => IssueChange {
                status: Some(Status::NeedsInfo),
                ..IssueChange::default()
            },
            TriageDecision::Decline { resolution } => IssueChange {
                status: Some(Status::Closed),
                resolution: Some(Some(*resolution)),
                ..IssueChange::default()
            },
            TriageDecision::Snooze { .. } => return None,
        };
        Some(change)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(action: &str) -> TriageInput<'_> {
        TriageInput {
            action,
            ..TriageInput::default()
        }
    }

    #[test]
    fn accepting_sets_triaged_severity_and_priority() {
        let decision = TriageDecision::parse(
            &TriageInput {
                severity: "major",
                priority: "high",
                ..input("accept")
            },
            IssueType::Bug,
        )
        .unwrap();
        let change = decision.change().unwrap();
        assert_eq!(change.status, Some(Status::Triaged));
        assert_eq!(change.severity, Some(Some(Severity::Major)));
        assert_eq!(change.priority, Some(Priority::High));
    }

    #[test]
    fn severity_is_refused_for_other_work() {
        let error = TriageDecision::parse(
            &TriageInput {
                severity: "major",
                ..input("accept")
            },
            IssueType::Feature,
        )
        .unwrap_err();
        assert_eq!(error.field, Some("severity"));
    }

    #[test]
    fn declines_close_with_their_resolution_and_duplicates_need_the_original() {
        for (action, resolution) in [
            ("wont_fix", Resolution::WontFix),
            ("by_design", Resolution::ByDesign),
            ("cannot_reproduce", Resolution::CannotReproduce),
        ] {
            let change = TriageDecision::parse(&input(action), IssueType::Bug)
                .unwrap()
                .change()
                .unwrap();
            assert_eq!(change.status, Some(Status::Closed));
            assert_eq!(change.resolution, Some(Some(resolution)));
        }
        let error = TriageDecision::parse(&input("duplicate"), IssueType::Bug).unwrap_err();
        assert_eq!(error.field, Some("duplicate_of"));
        let decision = TriageDecision::parse(
            &TriageInput {
                duplicate_of: " WEB-3 ",
                ..input("duplicate")
            },
            IssueType::Bug,
        )
        .unwrap();
        assert_eq!(
            decision.change().unwrap().resolution,
            Some(Some(Resolution::Duplicate))
        );
    }

    #[test]
    fn snoozes_are_bounded_and_unknown_actions_named() {
        assert_eq!(
            TriageDecision::parse(&input("snooze"), IssueType::Task).unwrap(),
            TriageDecision::Snooze { days: 7 }
        );
        for days in ["0", "91", "soon"] {
            let error = TriageDecision::parse(
                &TriageInput {
                    days,
                    ..input("snooze")
                },
                IssueType::Task,
            )
            .unwrap_err();
            assert_eq!(error.field, Some("days"));
        }
        assert!(TriageDecision::parse(&input("fixed"), IssueType::Bug).is_err());
    }
}
