//! Links between issues: blocks / blocked by, relates to, regressed by / regressions, and the
//! duplicate link (kept in `duplicate_of`, shown alongside), with the rules a new link obeys.

use crate::error::DomainError;
use crate::values::IssueRef;
use serde::Serialize;
use utoipa::ToSchema;

/// How two issues are linked, as stored (from the issue that names the link).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkKind {
    /// `from` blocks `to`; `to` is blocked by `from`.
    Blocks,
    /// Symmetric: each relates to the other.
    RelatesTo,
    /// `from` was regressed by `to` (the change in `to` broke it); `to` lists it as a regression.
    RegressedBy,
    /// `from` is a duplicate of `to`: kept in the issue's `duplicate_of`, never in the links
    /// table, so there is one source of truth for duplicates.
    DuplicateOf,
}

impl LinkKind {
    /// Every kind, in the order a links section lists them.
    pub const ALL: &'static [LinkKind] = &[
        LinkKind::DuplicateOf,
        LinkKind::Blocks,
        LinkKind::RegressedBy,
        LinkKind::RelatesTo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Blocks => "blocks",
            LinkKind::RelatesTo => "relates_to",
            LinkKind::RegressedBy => "regressed_by",
            LinkKind::DuplicateOf => "duplicate_of",
        }
    }

    /// A stored kind read back from the database.
    pub fn parse_stored(text: &str) -> Result<Self, DomainError> {
        Self::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| DomainError::field("kind", format!("unknown link kind {text:?}")))
    }

    /// Whether each side reads the same (`relates_to`).
    pub fn is_symmetric(self) -> bool {
        self == LinkKind::RelatesTo
    }
}

/// A kind of link as seen from one of its two issues: `blocks` from one side is `blocked_by`
/// from the other. This is what people pick and what the API's paths name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkRelation {
    pub kind: LinkKind,
    /// Seen from the issue the link points at (`to`), not the one that names it.
    pub inward: bool,
}

impl LinkRelation {
    /// Every relation a person can add or remove by hand (not the duplicate ones, which
    /// resolving an issue as a duplicate sets).
    pub const MANUAL: &'static [LinkRelation] = &[
        LinkRelation::out(LinkKind::Blocks),
        LinkRelation::inv(LinkKind::Blocks),
        LinkRelation::out(LinkKind::RelatesTo),
        LinkRelation::out(LinkKind::RegressedBy),
        LinkRelation::inv(LinkKind::RegressedBy),
    ];

    const fn out(kind: LinkKind) -> Self {
        Self {
            kind,
            inward: false,
        }
    }

    const fn inv(kind: LinkKind) -> Self {
        Self { kind, inward: true }
    }

    /// The relation of `kind` seen from the issue on `inward`'s side; symmetric kinds have one.
    pub fn of(kind: LinkKind, inward: bool) -> Self {
        Self {
            kind,
            inward: inward && !kind.is_symmetric(),
        }
    }

    /// The name used in the API and forms: `blocked_by`, `regressions`...
    pub fn as_str(self) -> &'static str {
        match (self.kind, self.inward) {
            (LinkKind::Blocks, false) => "blocks",
            (LinkKind::Blocks, true) => "blocked_by",
            (LinkKind::RelatesTo, _) => "relates_to",
            (LinkKind::RegressedBy, false) => "regressed_by",
            (LinkKind::RegressedBy, true) => "regressions",
            (LinkKind::DuplicateOf, false) => "duplicate_of",
            (LinkKind::DuplicateOf, true) => "duplicates",
        }
    }

    /// The words a page shows before the linked issues.
    pub fn label(self) -> &'static str {
        match (self.kind, self.inward) {
            (LinkKind::Blocks, false) => "blocks",
            (LinkKind::Blocks, true) => "blocked by",
            (LinkKind::RelatesTo, _) => "relates to",
            (LinkKind::RegressedBy, false) => "regressed by",
            (LinkKind::RegressedBy, true) => "regressions",
            (LinkKind::DuplicateOf, false) => "duplicate of",
            (LinkKind::DuplicateOf, true) => "duplicates",
        }
    }

    /// `outward` for the issue that names the link, `inward` for the other.
    pub fn direction(self) -> &'static str {
        if self.inward { "inward" } else { "outward" }
    }

    /// A relation a person may add or remove; the duplicate link is refused with how to set it.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        if let Some(found) = Self::MANUAL.iter().find(|r| r.as_str() == text) {
            return Ok(*found);
        }
        let allowed: Vec<&str> = Self::MANUAL.iter().map(|r| r.as_str()).collect();
        Err(DomainError::field(
            "kind",
            if text == "duplicate_of" || text == "duplicates" {
                "duplicates are linked by resolving the duplicate: status resolved, resolution duplicate, duplicate_of the original".to_string()
            } else {
                format!(
                    "unknown link kind {:?}; use one of {}",
                    text.chars().take(40).collect::<String>(),
                    allowed.join(", ")
                )
            },
        ))
    }
}

/// One link between two issues, in its stored direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub from: IssueRef,
    pub kind: LinkKind,
    pub to: IssueRef,
}

impl Link {
    /// The link `this` `relation` `other` (`WEB-1 blocked_by WEB-2` is `WEB-2 blocks WEB-1`).
    /// A symmetric link is stored one way only, lower id first, so it cannot be added twice.
    pub fn between(
        this: &IssueRef,
        relation: LinkRelation,
        other: &IssueRef,
    ) -> Result<Self, DomainError> {
        if this == other {
            return Err(DomainError::field(
                "target",
                format!("{this} cannot be linked to itself"),
            ));
        }
        let (from, to) =
            if relation.inward || (relation.kind.is_symmetric() && !precedes(this, other)) {
                (other, this)
            } else {
                (this, other)
            };
        Ok(Self {
            from: from.clone(),
            kind: relation.kind,
            to: to.clone(),
        })
    }

    /// Checks this new link against the links already between the same two issues: no
    /// duplicate, and no pair that blocks (or regressed) each other.
    pub fn check_against(&self, existing: &[Link]) -> Result<(), LinkRefusal> {
        if existing.contains(self) {
            return Err(LinkRefusal::AlreadyLinked(format!(
                "{} already {} {}",
                self.from,
                LinkRelation::of(self.kind, false).label(),
                self.to
            )));
        }
        let reverse = Link {
            from: self.to.clone(),
            kind: self.kind,
            to: self.from.clone(),
        };
        if !self.kind.is_symmetric() && existing.contains(&reverse) {
            let label = LinkRelation::of(self.kind, false).label();
            return Err(LinkRefusal::Invalid(DomainError::field(
                "target",
                format!(
                    "{} already {label} {}; two issues cannot each be {label} the other",
                    self.to, self.from
                ),
            )));
        }
        Ok(())
    }

    /// The relation as seen from `issue`, one of the link's two ends.
    pub fn relation_from(&self, issue: &IssueRef) -> LinkRelation {
        LinkRelation::of(self.kind, &self.from != issue)
    }
}

/// Why a new link is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRefusal {
    /// The same link exists already.
    AlreadyLinked(String),
    /// It breaks a rule (a cycle of two).
    Invalid(DomainError),
}

/// Whether `a` sorts before `b` by project key, then number.
fn precedes(a: &IssueRef, b: &IssueRef) -> bool {
    (a.project.as_str(), a.number) < (b.project.as_str(), b.number)
}

/// The other issue of a link, as a links section shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkedIssue {
    /// `WEB-12`.
    pub id: String,
    pub title: String,
    pub status: String,
}

/// One link as seen from an issue.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IssueLink {
    /// The stored kind: `blocks`, `relates_to`, `regressed_by` or `duplicate_of`.
    pub kind: &'static str,
    /// `outward` when this issue names the link (it blocks, it is a duplicate of), else `inward`.
    pub direction: &'static str,
    /// The kind as seen from this issue, usable to add or remove it here: `blocked_by`...
    pub relation: &'static str,
    /// In words: `blocked by`, `regressions`, `duplicate of`...
    pub label: &'static str,
    pub issue: LinkedIssue,
}

impl IssueLink {
    pub fn new(relation: LinkRelation, issue: LinkedIssue) -> Self {
        Self {
            kind: relation.kind.as_str(),
            direction: relation.direction(),
            relation: relation.as_str(),
            label: relation.label(),
            issue,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> IssueRef {
        IssueRef::parse(text).unwrap()
    }

    fn rel(text: &str) -> LinkRelation {
        LinkRelation::parse(text).unwrap()
    }

    #[test]
    fn relations_name_both_sides() {
        let blocked = Link::between(&id("WEB-2"), rel("blocked_by"), &id("WEB-1")).unwrap();
        assert_eq!(
            blocked,
            Link {
                from: id("WEB-1"),
                kind: LinkKind::Blocks,
                to: id("WEB-2")
            }
        );
        assert_eq!(blocked.relation_from(&id("WEB-1")).label(), "blocks");
        assert_eq!(blocked.relation_from(&id("WEB-2")).label(), "blocked by");
        let regressed = Link::between(&id("WEB-5"), rel("regressed_by"), &id("API-9")).unwrap();
        assert_eq!(
            regressed.relation_from(&id("WEB-5")).as_str(),
            "regressed_by"
        );
        assert_eq!(
            regressed.relation_from(&id("API-9")).as_str(),
            "regressions"
        );
        assert_eq!(regressed.relation_from(&id("API-9")).direction(), "inward");
    }

    #[test]
    fn relates_to_is_one_link_whichever_side_adds_it() {
        let one = Link::between(&id("WEB-9"), rel("relates_to"), &id("WEB-10")).unwrap();
        let other = Link::between(&id("WEB-10"), rel("relates_to"), &id("WEB-9")).unwrap();
        assert_eq!(one, other);
        assert_eq!(one.relation_from(&id("WEB-10")).label(), "relates to");
        assert_eq!(
            other.check_against(std::slice::from_ref(&one)),
            Err(LinkRefusal::AlreadyLinked(
                "WEB-9 already relates to WEB-10".into()
            ))
        );
    }

    #[test]
    fn an_issue_cannot_link_to_itself() {
        let err = Link::between(&id("WEB-1"), rel("blocks"), &id("WEB-1")).unwrap_err();
        assert_eq!(err.field, Some("target"));
        assert!(err.message.contains("itself"), "{err}");
    }

    #[test]
    fn two_issues_cannot_block_each_other() {
        let a_blocks_b = Link::between(&id("WEB-1"), rel("blocks"), &id("WEB-2")).unwrap();
        let b_blocks_a = Link::between(&id("WEB-1"), rel("blocked_by"), &id("WEB-2")).unwrap();
        match b_blocks_a.check_against(std::slice::from_ref(&a_blocks_b)) {
            Err(LinkRefusal::Invalid(e)) => {
                assert_eq!(e.field, Some("target"));
                assert!(e.message.contains("WEB-1 already blocks WEB-2"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            a_blocks_b.check_against(std::slice::from_ref(&a_blocks_b)),
            Err(LinkRefusal::AlreadyLinked(
                "WEB-1 already blocks WEB-2".into()
            ))
        );
        let relates = Link::between(&id("WEB-2"), rel("relates_to"), &id("WEB-1")).unwrap();
        assert_eq!(
            relates.check_against(&[a_blocks_b]),
            Ok(()),
            "other kinds coexist"
        );
    }

    #[test]
    fn links_may_cross_projects() {
        let link = Link::between(&id("WEB-1"), rel("relates_to"), &id("API-1")).unwrap();
        assert_eq!(link.from, id("API-1"), "stored lower id first");
        assert_eq!(link.check_against(&[]), Ok(()));
    }

    #[test]
    fn unknown_kinds_list_the_allowed_ones_and_duplicates_say_how() {
        let err = LinkRelation::parse("causes").unwrap_err();
        assert_eq!(err.field, Some("kind"));
        assert!(
            err.message
                .contains("blocks, blocked_by, relates_to, regressed_by, regressions"),
            "{err}"
        );
        let err = LinkRelation::parse("duplicate_of").unwrap_err();
        assert!(err.message.contains("resolution duplicate"), "{err}");
        for relation in LinkRelation::MANUAL {
            assert_eq!(LinkRelation::parse(relation.as_str()), Ok(*relation));
        }
    }
}
