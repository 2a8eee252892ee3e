//! Release versions such as `2.10.0`, `2.3.0-beta.1` or `2.3.0+481`, ordered as people mean them.
//!
//! Numbers compare as numbers (`2.10.0 > 2.9.1`, missing parts count as 0), a pre-release
//! comes before its release (`2.3.0-beta.1 < 2.3.0`, identifiers compared as in SemVer), and a
//! build suffix orders builds of the same version (`2.3.0 < 2.3.0+481 < 2.3.0+1002`), because a
//! regression is judged by the build a report came from.

use crate::DomainError;
use crate::vocabulary::truncate_for_message;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// A parsed version; keeps the text as written for display.
#[derive(Debug, Clone)]
pub struct Version {
    text: String,
    release: Vec<u64>,
    pre: Vec<Identifier>,
    build: Vec<Identifier>,
}

/// One dot-separated part of a pre-release or build suffix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identifier {
    Number(u64),
    Text(String),
}

impl Ord for Identifier {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Identifier::Number(a), Identifier::Number(b)) => a.cmp(b),
            (Identifier::Number(_), Identifier::Text(_)) => Ordering::Less,
            (Identifier::Text(_), Identifier::Number(_)) => Ordering::Greater,
            (Identifier::Text(a), Identifier::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Identifier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

fn parse_identifiers(text: &str) -> Option<Vec<Identifier>> {
    text.split('.')
        .map(|part| {
            if part.is_empty()
                || !part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                None
            } else if part.chars().all(|c| c.is_ascii_digit()) {
                part.parse().ok().map(Identifier::Number)
            } else {
                Some(Identifier::Text(part.to_ascii_lowercase()))
            }
        })
        .collect()
}

impl Version {
    /// Parses `[v]N[.N]*[-pre][+build]`.
    pub fn parse(field: &'static str, text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        let bad = || {
            DomainError::field(
                field,
                format!(
                    "{:?} is not a version; versions look like 2.3.1, 2.3.0-beta.1 or 2.3.0+481",
                    truncate_for_message(text)
                ),
            )
        };
        if text.is_empty() || text.len() > 64 {
            return Err(bad());
        }
        let bare = text.strip_prefix(['v', 'V']).unwrap_or(text);
        let (rest, build) = match bare.split_once('+') {
            Some((rest, build)) => (rest, parse_identifiers(build).ok_or_else(bad)?),
            None => (bare, Vec::new()),
        };
        let (core, pre) = match rest.split_once('-') {
            Some((core, pre)) => (core, parse_identifiers(pre).ok_or_else(bad)?),
            None => (rest, Vec::new()),
        };
        let release = core
            .split('.')
            .map(|n| {
                if n.chars().all(|c| c.is_ascii_digit()) {
                    n.parse::<u64>().ok()
                } else {
                    None
                }
            })
            .collect::<Option<Vec<_>>>()
            .ok_or_else(bad)?;
        Ok(Self {
            text: text.to_string(),
            release,
            pre,
            build,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn release_part(&self, i: usize) -> u64 {
        self.release.get(i).copied().unwrap_or(0)
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let parts = self.release.len().max(other.release.len());
        (0..parts)
            .map(|i| self.release_part(i).cmp(&other.release_part(i)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => self.pre.cmp(&other.pre),
            })
            .then_with(|| self.build.cmp(&other.build))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Version::parse("version", &text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Version {
        Version::parse("version", text).unwrap()
    }

    #[test]
    fn numbers_compare_as_numbers() {
        assert!(v("2.10.0") > v("2.9.1"));
        assert!(v("10.0") > v("9.99.99"));
        assert_eq!(v("2.3"), v("2.3.0"));
        assert_eq!(v("v2.3.0"), v("2.3.0"));
    }

    #[test]
    fn prereleases_come_before_their_release() {
        assert!(v("2.3.0-beta.1") < v("2.3.0"));
        assert!(v("2.3.0-alpha") < v("2.3.0-beta"));
        assert!(v("2.3.0-beta.2") < v("2.3.0-beta.11"));
        assert!(v("2.3.0-beta") < v("2.3.0-beta.1"));
        assert!(v("2.3.0-rc.1") > v("2.2.9"));
    }

    #[test]
    fn build_suffixes_order_builds_of_one_version() {
        assert!(v("2.3.0+481") > v("2.3.0"));
        assert!(v("2.3.0+481") < v("2.3.0+1002"));
        assert!(v("2.3.0+999") < v("2.3.1"));
        assert!(v("2.3.0-beta.1+700") < v("2.3.0+1"));
    }

    #[test]
    fn nonsense_is_refused_with_an_example() {
        for bad in [
            "",
            "latest",
            "2..3",
            "2.3.x",
            "2.3.0-",
            "2.3.0+",
            "1.0-be ta",
        ] {
            let err = Version::parse("fixed_in_version", bad).unwrap_err();
            assert_eq!(err.field, Some("fixed_in_version"), "{bad}");
            assert!(err.message.contains("2.3.0-beta.1"));
        }
    }

    #[test]
    fn the_text_is_kept_as_written() {
        assert_eq!(v(" v2.3.0+481 ").as_str(), "v2.3.0+481");
    }
}
