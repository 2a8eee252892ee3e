//! Values parsed at the edge: once built, each holds only what the rules allow.

use crate::DomainError;
use crate::vocabulary::truncate_for_message;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest issue title, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest description, comment or bug-report field, in bytes.
pub const MAX_LONG_TEXT_BYTES: usize = 256 * 1024;
/// Longest label, component or name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Most labels one issue may carry.
pub const MAX_LABELS: usize = 50;

/// A project key such as `WEB`: 2 to 10 upper-case letters and digits, starting with a letter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ProjectKey(String);

impl ProjectKey {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let ok = (2..=10).contains(&text.len())
            && text.starts_with(|c: char| c.is_ascii_uppercase())
            && text
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if ok {
            Ok(Self(text.to_string()))
        } else {
            Err(DomainError::field(
                "key",
                format!(
                    "project key {:?} must be 2 to 10 upper-case letters and digits starting with a letter, like WEB or APP2",
                    truncate_for_message(text)
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An issue's id as people write it: the project key, a dash and the number, `WEB-12`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IssueRef {
    pub project: ProjectKey,
    pub number: i64,
}

impl IssueRef {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let bad = || {
            DomainError::field(
                "id",
                format!(
                    "{:?} is not an issue id; ids look like WEB-12",
                    truncate_for_message(text)
                ),
            )
        };
        let (key, number) = text.trim().rsplit_once('-').ok_or_else(bad)?;
        let project = ProjectKey::parse(key).map_err(|_| bad())?;
        let number: i64 = number.parse().map_err(|_| bad())?;
        if number < 1 || number.to_string().len() != text.trim().len() - key.len() - 1 {
            return Err(bad());
        }
        Ok(Self { project, number })
    }
}

impl fmt::Display for IssueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.project, self.number)
    }
}

impl Serialize for IssueRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IssueRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        IssueRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Trims, and refuses text that is empty or too long.
fn bounded_line(field: &'static str, text: &str, max_chars: usize) -> Result<String, DomainError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DomainError::field(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if trimmed.len() > max_chars * 4 || trimmed.chars().count() > max_chars {
        return Err(DomainError::field(
            field,
            format!("{field} is too long: at most {max_chars} characters"),
        ));
    }
    if trimmed.chars().any(|c| c.is_control()) {
        return Err(DomainError::field(
            field,
            format!("{field} must be one line without control characters"),
        ));
    }
    Ok(trimmed.to_string())
}

/// An issue's one-line title: not blank, at most [`MAX_TITLE_CHARS`] characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct IssueTitle(String);

impl IssueTitle {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        bounded_line("title", text, MAX_TITLE_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free text (description, comment, steps...) stored as typed, bounded in size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct LongText(String);

impl LongText {
    pub fn parse(field: &'static str, text: &str) -> Result<Self, DomainError> {
        if text.len() > MAX_LONG_TEXT_BYTES {
            return Err(DomainError::field(
                field,
                format!(
                    "{field} is too long: at most {} KiB",
                    MAX_LONG_TEXT_BYTES / 1024
                ),
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// Like [`LongText::parse`], but blank text means "no value".
    pub fn parse_optional(field: &'static str, text: &str) -> Result<Option<Self>, DomainError> {
        if text.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(field, text).map(Some)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A short name: a label, a component, a person's display name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &'static str, text: &str) -> Result<Self, DomainError> {
        bounded_line(field, text, MAX_NAME_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A label: a short name without commas (commas separate labels in filters).
pub fn parse_label(text: &str) -> Result<Name, DomainError> {
    let name = Name::parse("labels", text)?;
    if name.as_str().contains(',') {
        return Err(DomainError::field(
            "labels",
            "a label must not contain a comma",
        ));
    }
    Ok(name)
}

/// Parses a list of labels, dropping repeats and keeping them sorted.
pub fn parse_labels(texts: &[String]) -> Result<Vec<Name>, DomainError> {
    if texts.len() > MAX_LABELS {
        return Err(DomainError::field(
            "labels",
            format!("at most {MAX_LABELS} labels"),
        ));
    }
    let mut labels = texts
        .iter()
        .map(|t| parse_label(t))
        .collect::<Result<Vec<_>, _>>()?;
    labels.sort();
    labels.dedup();
    Ok(labels)
}

/// An e-mail address, lower-cased; checked for shape, not deliverability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim().to_lowercase();
        let bad = || {
            DomainError::field(
                "email",
                format!(
                    "{:?} is not an e-mail address like ana@example.com",
                    truncate_for_message(&text)
                ),
            )
        };
        if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = text.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || domain.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(bad());
        }
        Ok(Self(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A web origin as browsers send it: `https://shop.example.com` or `http://localhost:3000`.
pub fn parse_origin(text: &str) -> Result<String, DomainError> {
    let text = text.trim().trim_end_matches('/');
    let bad = || {
        DomainError::field(
            "allowed_origins",
            format!(
                "{:?} is not an origin; write scheme and host only, like https://shop.example.com",
                truncate_for_message(text)
            ),
        )
    };
    let (scheme, rest) = text.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.len() > 253 {
        return Err(bad());
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()));
    if !host_ok || !port_ok {
        return Err(bad());
    }
    Ok(text.to_ascii_lowercase())
}

/// A password good enough to keep: 10 to 1024 characters.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let chars = text.chars().count();
        if chars < 10 {
            return Err(DomainError::field(
                "password",
                "password must be at least 10 characters",
            ));
        }
        if chars > 1024 {
            return Err(DomainError::field(
                "password",
                "password must be at most 1024 characters",
            ));
        }
        Ok(Self(text.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_keys_follow_the_contract() {
        for good in ["WEB", "AB", "APP2", "ABCDEFGHIJ"] {
            assert!(ProjectKey::parse(good).is_ok(), "{good}");
        }
        for bad in ["W", "web", "2WEB", "ABCDEFGHIJK", "WE-B", "", "WÉB"] {
            assert!(ProjectKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn issue_refs_parse_key_and_number() {
        let r = IssueRef::parse("WEB-12").unwrap();
        assert_eq!((r.project.as_str(), r.number), ("WEB", 12));
        assert_eq!(r.to_string(), "WEB-12");
        for bad in [
            "WEB12", "WEB-0", "WEB--1", "WEB-+1", "web-1", "WEB-1x", "-1", "WEB-01",
        ] {
            assert!(IssueRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            IssueTitle::parse("  Crash on save ").unwrap().as_str(),
            "Crash on save"
        );
        assert!(IssueTitle::parse("").is_err());
        assert!(IssueTitle::parse("   \t ").is_err());
        assert!(IssueTitle::parse(&"x".repeat(MAX_TITLE_CHARS + 1)).is_err());
        assert!(IssueTitle::parse(&"x".repeat(10 * 1024 * 1024)).is_err());
        assert!(IssueTitle::parse("two\nlines").is_err());
        let hostile = "<script>alert(1)</script>'; drop table issues;--";
        assert_eq!(IssueTitle::parse(hostile).unwrap().as_str(), hostile);
    }

    #[test]
    fn labels_are_deduplicated_and_sorted() {
        let labels = parse_labels(&["ui".into(), "checkout".into(), "ui".into()]).unwrap();
        let names: Vec<_> = labels.iter().map(Name::as_str).collect();
        assert_eq!(names, ["checkout", "ui"]);
        assert!(parse_labels(&["a,b".into()]).is_err());
    }

    #[test]
    fn emails_are_lowercased_and_checked_for_shape() {
        assert_eq!(
            Email::parse(" Ana@Example.COM ").unwrap().as_str(),
            "ana@example.com"
        );
        for bad in [
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a b@example.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_are_scheme_and_host() {
        assert_eq!(
            parse_origin("https://Shop.Example.com/").unwrap(),
            "https://shop.example.com"
        );
        assert_eq!(
            parse_origin("http://localhost:3000").unwrap(),
            "http://localhost:3000"
        );
        for bad in [
            "shop.example.com",
            "ftp://x.com",
            "https://x.com/path",
            "https://",
            "https://x.com:80a",
            "javascript://x",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("long enough pw").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("long enough pw").unwrap()),
            "Password(***)"
        );
    }
}
