//! An issue as the domain sees it: its editable fields and the rules for filing and changing it.

use crate::DomainError;
use crate::values::{Email, IssueRef, IssueTitle, LongText, Name, parse_labels};
use crate::version::Version;
use crate::vocabulary::{IssueType, Priority, Resolution, Severity, Status};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

/// A user as shown on an issue (reporter, assignee, watcher, comment author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserSummary {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// Who reported an issue: a user of Moth, or a guest who reported through the widget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reporter {
    User {
        id: i64,
        name: String,
        email: String,
    },
    Guest {
        name: Option<String>,
        email: Option<String>,
    },
}

/// Everything about an issue that people edit; the rules below keep it consistent.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssueFields {
    #[serde(rename = "type")]
    #[schema(value_type = String, example = "bug")]
    pub issue_type: IssueType,
    #[schema(value_type = String)]
    pub title: IssueTitle,
    pub description: String,
    #[schema(value_type = String, example = "new")]
    pub status: Status,
    #[schema(value_type = Option<String>)]
    pub resolution: Option<Resolution>,
    #[schema(value_type = Option<String>)]
    pub severity: Option<Severity>,
    #[schema(value_type = String, example = "none")]
    pub priority: Priority,
    #[schema(value_type = Option<String>)]
    pub component: Option<Name>,
    #[schema(value_type = Vec<String>)]
    pub labels: Vec<Name>,
    #[schema(value_type = Option<String>, example = "2.3.0")]
    pub affects_version: Option<Version>,
    #[schema(value_type = Option<String>)]
    pub fixed_in_version: Option<Version>,
    pub assignee: Option<UserSummary>,
    #[schema(value_type = Option<String>, example = "WEB-3")]
    pub duplicate_of: Option<IssueRef>,
    pub steps_to_reproduce: String,
    pub expected: String,
    pub actual: String,
    pub environment: String,
    pub regression: bool,
    pub reopen_count: i32,
}

/// One field's change, as recorded in an issue's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldChange {
    pub field: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
}

/// What a client sends to file an issue; every value is still raw text here.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueDraftInput {
    #[serde(rename = "type")]
    #[schema(example = "bug")]
    pub issue_type: String,
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub component: Option<String>,
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    #[serde(default)]
    pub affects_version: Option<String>,
    #[serde(default)]
    pub steps_to_reproduce: Option<String>,
    #[serde(default)]
    pub expected: Option<String>,
    #[serde(default)]
    pub actual: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
    /// E-mail of the user to assign.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// Deserializes a field that may be absent (no change), null (clear) or a value (set).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// What a client sends to change an issue: absent fields stay, `null` clears.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueChangeInput {
    #[serde(rename = "type", default)]
    pub issue_type: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub resolution: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub severity: Option<Option<String>>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub component: Option<Option<String>>,
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub affects_version: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub fixed_in_version: Option<Option<String>>,
    /// E-mail of the user to assign, or null to unassign.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub assignee: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub duplicate_of: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub steps_to_reproduce: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub expected: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub actual: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub environment: Option<Option<String>>,
    /// The `updated_at` the client last saw (RFC 3339); if the issue changed since, the edit
    /// is refused with 409 instead of overwriting someone else's change.
    #[serde(default)]
    pub expected_updated_at: Option<String>,
}

/// What a project allows on its issues.
#[derive(Debug, Clone, Default)]
pub struct ProjectRules {
    /// The project's components; when empty, any component name is accepted.
    pub components: Vec<String>,
}

impl ProjectRules {
    fn check_component(&self, component: &Name) -> Result<(), DomainError> {
        if self.components.is_empty() || self.components.iter().any(|c| c == component.as_str()) {
            Ok(())
        } else {
            Err(DomainError::field(
                "component",
                format!(
                    "unknown component {:?}; this project's components are: {}",
                    component.as_str(),
                    self.components.join(", ")
                ),
            ))
        }
    }
}

fn parse_text(field: &'static str, text: Option<&str>) -> Result<String, DomainError> {
    Ok(LongText::parse_optional(field, text.unwrap_or(""))?
        .map(|t| t.as_str().to_string())
        .unwrap_or_default())
}

fn parse_optional<T>(
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, DomainError>,
) -> Result<Option<T>, DomainError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse(text).map(Some),
    }
}

fn check_severity(issue_type: IssueType, severity: Option<Severity>) -> Result<(), DomainError> {
    if severity.is_some() && !issue_type.has_severity() {
        return Err(DomainError::field(
            "severity",
            "severity applies to bugs and performance issues only",
        ));
    }
    Ok(())
}

/// A draft that passed every rule, with the assignee's e-mail still to be looked up.
#[derive(Debug, Clone)]
pub struct NewIssue {
    pub fields: IssueFields,
    pub assignee_email: Option<Email>,
}

impl NewIssue {
    /// Applies the filing rules to a client's draft.
    pub fn parse(input: &IssueDraftInput, rules: &ProjectRules) -> Result<Self, DomainError> {
        let issue_type = IssueType::parse(&input.issue_type)?;
        let title = IssueTitle::parse(&input.title)?;
        let severity = parse_optional(input.severity.as_deref(), Severity::parse)?;
        check_severity(issue_type, severity)?;
        let component =
            parse_optional(input.component.as_deref(), |t| Name::parse("component", t))?;
        if let Some(component) = &component {
            rules.check_component(component)?;
        }
        let fields = IssueFields {
            issue_type,
            title,
            description: parse_text("description", input.description.as_deref())?,
            status: Status::New,
            resolution: None,
            severity,
            priority: parse_optional(input.priority.as_deref(), Priority::parse)?
                .unwrap_or(Priority::DEFAULT),
            component,
            labels: parse_labels(input.labels.as_deref().unwrap_or_default())?,
            affects_version: parse_optional(input.affects_version.as_deref(), |t| {
                Version::parse("affects_version", t)
            })?,
            fixed_in_version: None,
            assignee: None,
            duplicate_of: None,
            steps_to_reproduce: parse_text(
                "steps_to_reproduce",
                input.steps_to_reproduce.as_deref(),
            )?,
            expected: parse_text("expected", input.expected.as_deref())?,
            actual: parse_text("actual", input.actual.as_deref())?,
            environment: parse_text("environment", input.environment.as_deref())?,
            regression: false,
            reopen_count: 0,
        };
        let assignee_email = parse_optional(input.assignee.as_deref(), |t| {
            Email::parse(t).map_err(|e| DomainError::field("assignee", e.message))
        })?;
        Ok(Self {
            fields,
            assignee_email,
        })
    }
}

/// A parsed change: `Some(None)` clears a field, `None` leaves it alone.
#[derive(Debug, Clone, Default)]
pub struct IssueChange {
    pub issue_type: Option<IssueType>,
    pub title: Option<IssueTitle>,
    pub description: Option<String>,
    pub status: Option<Status>,
    pub resolution: Option<Option<Resolution>>,
    pub severity: Option<Option<Severity>>,
    pub priority: Option<Priority>,
    pub component: Option<Option<Name>>,
    pub labels: Option<Vec<Name>>,
    pub affects_version: Option<Option<Version>>,
    pub fixed_in_version: Option<Option<Version>>,
    pub assignee: Option<Option<Email>>,
    pub duplicate_of: Option<Option<IssueRef>>,
    pub steps_to_reproduce: Option<String>,
    pub expected: Option<String>,
    pub actual: Option<String>,
    pub environment: Option<String>,
    /// Set by regression detection, never by clients directly.
    pub regression: Option<bool>,
    /// Refuse the change if the issue was changed after this moment (a stale edit).
    pub unchanged_since: Option<OffsetDateTime>,
}

fn parse_clearable<T>(
    value: &Option<Option<String>>,
    parse: impl FnOnce(&str) -> Result<T, DomainError>,
) -> Result<Option<Option<T>>, DomainError> {
    match value {
        None => Ok(None),
        Some(text) => parse_optional(text.as_deref(), parse).map(Some),
    }
}

fn parse_clearable_text(
    field: &'static str,
    value: &Option<Option<String>>,
) -> Result<Option<String>, DomainError> {
    value
        .as_ref()
        .map(|text| parse_text(field, text.as_deref()))
        .transpose()
}

impl IssueChange {
    /// Parses every value a client sent; the rules that relate fields run in [`IssueFields::apply`].
    pub fn parse(input: &IssueChangeInput) -> Result<Self, DomainError> {
        Ok(Self {
            issue_type: input
                .issue_type
                .as_deref()
                .map(IssueType::parse)
                .transpose()?,
            title: input.title.as_deref().map(IssueTitle::parse).transpose()?,
            description: parse_clearable_text("description", &input.description)?,
            status: input.status.as_deref().map(Status::parse).transpose()?,
            resolution: parse_clearable(&input.resolution, Resolution::parse)?,
            severity: parse_clearable(&input.severity, Severity::parse)?,
            priority: input.priority.as_deref().map(Priority::parse).transpose()?,
            component: parse_clearable(&input.component, |t| Name::parse("component", t))?,
            labels: input.labels.as_deref().map(parse_labels).transpose()?,
            affects_version: parse_clearable(&input.affects_version, |t| {
                Version::parse("affects_version", t)
            })?,
            fixed_in_version: parse_clearable(&input.fixed_in_version, |t| {
                Version::parse("fixed_in_version", t)
            })?,
            assignee: parse_clearable(&input.assignee, |t| {
                Email::parse(t).map_err(|e| DomainError::field("assignee", e.message))
            })?,
            duplicate_of: parse_clearable(&input.duplicate_of, |t| {
                IssueRef::parse(t).map_err(|e| DomainError::field("duplicate_of", e.message))
            })?,
            steps_to_reproduce: parse_clearable_text(
                "steps_to_reproduce",
                &input.steps_to_reproduce,
            )?,
            expected: parse_clearable_text("expected", &input.expected)?,
            actual: parse_clearable_text("actual", &input.actual)?,
            environment: parse_clearable_text("environment", &input.environment)?,
            regression: None,
            unchanged_since: input
                .expected_updated_at
                .as_deref()
                .map(|text| {
                    OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| {
                        DomainError::field(
                            "expected_updated_at",
                            "expected_updated_at must be the issue's updated_at as given (RFC 3339)",
                        )
                    })
                })
                .transpose()?,
        })
    }

    /// Whether the change asks for nothing at all.
    pub fn is_empty(&self) -> bool {
        self.issue_type.is_none()
            && self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.resolution.is_none()
            && self.severity.is_none()
            && self.priority.is_none()
            && self.component.is_none()
            && self.labels.is_none()
            && self.affects_version.is_none()
            && self.fixed_in_version.is_none()
            && self.assignee.is_none()
            && self.duplicate_of.is_none()
            && self.steps_to_reproduce.is_none()
            && self.expected.is_none()
            && self.actual.is_none()
            && self.environment.is_none()
            && self.regression.is_none()
    }
}

/// What the store looked up for a change: the issue's own id and the assignee the e-mail named.
pub struct ChangeContext<'a> {
    pub issue: &'a IssueRef,
    pub rules: &'a ProjectRules,
    pub assignee: Option<UserSummary>,
}

fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Sets a field and records the change when the value differs.
fn set<T: PartialEq + Serialize>(
    changes: &mut Vec<FieldChange>,
    field: &str,
    slot: &mut T,
    value: T,
) {
    if *slot != value {
        changes.push(FieldChange {
            field: field.to_string(),
            from: to_json(slot),
            to: to_json(&value),
        });
        *slot = value;
    }
}

impl IssueFields {
    /// Applies a change under the workflow rules and returns what changed, or why it may not.
    ///
    /// Rules: resolving or closing needs a resolution, and only those statuses carry one;
    /// `duplicate` needs `duplicate_of` naming another issue of the same project; reopening
    /// clears the resolution and counts `reopen_count`; no issue goes back to `new`;
    /// severity only on bugs and performance issues.
    pub fn apply(
        &mut self,
        change: IssueChange,
        ctx: ChangeContext<'_>,
    ) -> Result<Vec<FieldChange>, DomainError> {
        let mut next = self.clone();
        let mut changes = Vec::new();
        let old_status = self.status;
        let new_status = change.status.unwrap_or(old_status);

        if new_status == Status::New && old_status != Status::New {
            return Err(DomainError::field(
                "status",
                format!("an issue cannot go back to new from {old_status}; reopen it as triaged"),
            ));
        }
        let reopening = old_status.is_done() && new_status.is_open();

        let resolution = match (new_status.is_done(), change.resolution) {
            (true, Some(Some(resolution))) => Some(resolution),
            (true, Some(None)) => {
                return Err(DomainError::field(
                    "resolution",
                    format!("a {new_status} issue needs a resolution"),
                ));
            }
            (true, None) if old_status.is_done() => self.resolution,
            (true, None) => {
                return Err(DomainError::field(
                    "resolution",
                    format!(
                        "to mark an issue {new_status}, give a resolution: fixed, done, duplicate, wont_fix, cannot_reproduce or by_design"
                    ),
                ));
            }
            (false, Some(Some(_))) => {
                return Err(DomainError::field(
                    "resolution",
                    "only resolved or closed issues carry a resolution; set status too",
                ));
            }
            (false, _) => None,
        };

        let duplicate_of = if resolution == Some(Resolution::Duplicate) {
            let target = match change.duplicate_of {
                Some(target) => target,
                None => next.duplicate_of.clone(),
            };
            let Some(target) = target else {
                return Err(DomainError::field(
                    "duplicate_of",
                    "a duplicate needs duplicate_of: the id of the original issue, like WEB-3",
                ));
            };
            if &target == ctx.issue {
                return Err(DomainError::field(
                    "duplicate_of",
                    "an issue cannot be a duplicate of itself",
                ));
            }
            if target.project != ctx.issue.project {
                return Err(DomainError::field(
                    "duplicate_of",
                    format!(
                        "{target} is in another project; a duplicate must point at an issue of {}",
                        ctx.issue.project
                    ),
                ));
            }
            Some(target)
        } else {
            if let Some(Some(_)) = change.duplicate_of {
                return Err(DomainError::field(
                    "duplicate_of",
                    "duplicate_of needs the resolution duplicate (and status resolved or closed)",
                ));
            }
            None
        };

        if let Some(issue_type) = change.issue_type {
            set(&mut changes, "type", &mut next.issue_type, issue_type);
        }
        let severity = match change.severity {
            Some(severity) => severity,
            None => next.severity,
        };
        check_severity(next.issue_type, severity).map_err(|e| {
            if change.issue_type.is_some() && change.severity.is_none() {
                DomainError::field(
                    "severity",
                    format!(
                        "a {} has no severity; clear severity (null) when changing the type",
                        next.issue_type
                    ),
                )
            } else {
                e
            }
        })?;
        set(&mut changes, "severity", &mut next.severity, severity);
        if let Some(title) = change.title {
            set(&mut changes, "title", &mut next.title, title);
        }
        if let Some(description) = change.description {
            set(
                &mut changes,
                "description",
                &mut next.description,
                description,
            );
        }
        set(&mut changes, "status", &mut next.status, new_status);
        set(&mut changes, "resolution", &mut next.resolution, resolution);
        set(
            &mut changes,
            "duplicate_of",
            &mut next.duplicate_of,
            duplicate_of,
        );
        if reopening {
            let count = next.reopen_count + 1;
            set(&mut changes, "reopen_count", &mut next.reopen_count, count);
        }
        if let Some(priority) = change.priority {
            set(&mut changes, "priority", &mut next.priority, priority);
        }
        if let Some(component) = change.component {
            if let Some(component) = &component {
                ctx.rules.check_component(component)?;
            }
            set(&mut changes, "component", &mut next.component, component);
        }
        if let Some(labels) = change.labels {
            set(&mut changes, "labels", &mut next.labels, labels);
        }
        if let Some(version) = change.affects_version {
            set(
                &mut changes,
                "affects_version",
                &mut next.affects_version,
                version,
            );
        }
        if let Some(version) = change.fixed_in_version {
            set(
                &mut changes,
                "fixed_in_version",
                &mut next.fixed_in_version,
                version,
            );
        }
        if let Some(assignee) = change.assignee {
            let resolved = match assignee {
                None => None,
                Some(_) => Some(ctx.assignee.ok_or_else(|| {
                    DomainError::field("assignee", "no active user has that e-mail address")
                })?),
            };
            set(&mut changes, "assignee", &mut next.assignee, resolved);
        }
        if let Some(text) = change.steps_to_reproduce {
            set(
                &mut changes,
                "steps_to_reproduce",
                &mut next.steps_to_reproduce,
                text,
            );
        }
        if let Some(text) = change.expected {
            set(&mut changes, "expected", &mut next.expected, text);
        }
        if let Some(text) = change.actual {
            set(&mut changes, "actual", &mut next.actual, text);
        }
        if let Some(text) = change.environment {
            set(&mut changes, "environment", &mut next.environment, text);
        }
        if let Some(regression) = change.regression {
            set(&mut changes, "regression", &mut next.regression, regression);
        }
        *self = next;
        Ok(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ProjectKey;

    fn draft(issue_type: &str) -> IssueDraftInput {
        IssueDraftInput {
            issue_type: issue_type.into(),
            title: "Checkout fails".into(),
            ..Default::default()
        }
    }

    fn bug() -> IssueFields {
        NewIssue::parse(&draft("bug"), &ProjectRules::default())
            .unwrap()
            .fields
    }

    fn web(n: i64) -> IssueRef {
        IssueRef {
            project: ProjectKey::parse("WEB").unwrap(),
            number: n,
        }
    }

    fn apply(
        fields: &mut IssueFields,
        json: serde_json::Value,
    ) -> Result<Vec<FieldChange>, DomainError> {
        let input: IssueChangeInput = serde_json::from_value(json).unwrap();
        let change = IssueChange::parse(&input)?;
        let me = web(1);
        let rules = ProjectRules::default();
        fields.apply(
            change,
            ChangeContext {
                issue: &me,
                rules: &rules,
                assignee: None,
            },
        )
    }

    #[test]
    fn a_new_issue_starts_new_with_priority_none() {
        let fields = bug();
        assert_eq!(fields.status, Status::New);
        assert_eq!(fields.priority, Priority::None);
        assert_eq!(fields.resolution, None);
    }

    #[test]
    fn severity_is_refused_on_other_kinds_of_work() {
        let mut input = draft("feature");
        input.severity = Some("major".into());
        let err = NewIssue::parse(&input, &ProjectRules::default()).unwrap_err();
        assert_eq!(err.field, Some("severity"));
        input.issue_type = "performance".into();
        assert!(NewIssue::parse(&input, &ProjectRules::default()).is_ok());
    }

    #[test]
    fn changing_a_bug_with_severity_into_a_feature_needs_the_severity_cleared() {
        let mut fields = bug();
        apply(&mut fields, serde_json::json!({"severity": "major"})).unwrap();
        let err = apply(&mut fields, serde_json::json!({"type": "feature"})).unwrap_err();
        assert_eq!(err.field, Some("severity"));
        assert_eq!(
            fields.issue_type,
            IssueType::Bug,
            "nothing changed on error"
        );
        apply(
            &mut fields,
            serde_json::json!({"type": "feature", "severity": null}),
        )
        .unwrap();
        assert_eq!(
            (fields.issue_type, fields.severity),
            (IssueType::Feature, None)
        );
    }

    #[test]
    fn resolving_requires_a_resolution() {
        let mut fields = bug();
        let err = apply(&mut fields, serde_json::json!({"status": "resolved"})).unwrap_err();
        assert_eq!(err.field, Some("resolution"));
        assert_eq!(fields.status, Status::New);
        let changes = apply(
            &mut fields,
            serde_json::json!({"status": "resolved", "resolution": "fixed"}),
        )
        .unwrap();
        assert_eq!(fields.resolution, Some(Resolution::Fixed));
        assert!(
            changes
                .iter()
                .any(|c| c.field == "status" && c.to == "resolved")
        );
    }

    #[test]
    fn closing_a_resolved_issue_keeps_its_resolution() {
        let mut fields = bug();
        apply(
            &mut fields,
            serde_json::json!({"status": "resolved", "resolution": "fixed"}),
        )
        .unwrap();
        apply(&mut fields, serde_json::json!({"status": "closed"})).unwrap();
        assert_eq!(
            (fields.status, fields.resolution),
            (Status::Closed, Some(Resolution::Fixed))
        );
    }

    #[test]
    fn open_issues_carry_no_resolution() {
        let mut fields = bug();
        let err = apply(&mut fields, serde_json::json!({"resolution": "fixed"})).unwrap_err();
        assert_eq!(err.field, Some("resolution"));
    }

    #[test]
    fn reopening_clears_the_resolution_and_counts() {
        let mut fields = bug();
        apply(
            &mut fields,
            serde_json::json!({"status": "resolved", "resolution": "fixed"}),
        )
        .unwrap();
        apply(&mut fields, serde_json::json!({"status": "triaged"})).unwrap();
        assert_eq!((fields.resolution, fields.reopen_count), (None, 1));
        apply(
            &mut fields,
            serde_json::json!({"status": "closed", "resolution": "wont_fix"}),
        )
        .unwrap();
        apply(&mut fields, serde_json::json!({"status": "in_progress"})).unwrap();
        assert_eq!(fields.reopen_count, 2);
    }

    #[test]
    fn nothing_goes_back_to_new() {
        let mut fields = bug();
        apply(&mut fields, serde_json::json!({"status": "triaged"})).unwrap();
        assert_eq!(
            apply(&mut fields, serde_json::json!({"status": "new"}))
                .unwrap_err()
                .field,
            Some("status")
        );
    }

    #[test]
    fn duplicates_point_at_another_issue_of_the_same_project() {
        let mut fields = bug();
        let err = apply(
            &mut fields,
            serde_json::json!({"status": "resolved", "resolution": "duplicate"}),
        )
        .unwrap_err();
        assert_eq!(err.field, Some("duplicate_of"));
        let err = apply(
            &mut fields,
            serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-1"}),
        )
        .unwrap_err();
        assert!(err.message.contains("itself"));
        let err = apply(
            &mut fields,
            serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "API-4"}),
        )
        .unwrap_err();
        assert!(err.message.contains("another project"));
        apply(&mut fields, serde_json::json!({"status": "resolved", "resolution": "duplicate", "duplicate_of": "WEB-7"}))
            .unwrap();
        assert_eq!(fields.duplicate_of, Some(web(7)));
        apply(&mut fields, serde_json::json!({"status": "triaged"})).unwrap();
        assert_eq!(
            fields.duplicate_of, None,
            "reopening clears the duplicate link"
        );
    }

    #[test]
    fn a_change_to_the_same_value_records_nothing() {
        let mut fields = bug();
        let changes = apply(
            &mut fields,
            serde_json::json!({"title": "Checkout fails", "priority": "none"}),
        )
        .unwrap();
        assert!(changes.is_empty());
    }

    #[test]
    fn unknown_components_are_refused_when_the_project_lists_components() {
        let rules = ProjectRules {
            components: vec!["checkout".into()],
        };
        let mut input = draft("bug");
        input.component = Some("billing".into());
        assert_eq!(
            NewIssue::parse(&input, &rules).unwrap_err().field,
            Some("component")
        );
        input.component = Some("checkout".into());
        assert!(NewIssue::parse(&input, &rules).is_ok());
    }

    #[test]
    fn unknown_fields_in_a_change_are_refused() {
        let result: Result<IssueChangeInput, _> =
            serde_json::from_value(serde_json::json!({"colour": "red"}));
        assert!(result.unwrap_err().to_string().contains("colour"));
    }
}
