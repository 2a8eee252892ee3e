//! The one error the domain raises: a value or a change that breaks a rule.

use std::fmt;

/// A rule was broken; `field` names the input to fix when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl DomainError {
    /// An error about one named field.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field),
            message: message.into(),
        }
    }

    /// An error about the request as a whole.
    pub fn general(message: impl Into<String>) -> Self {
        Self {
            field: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for DomainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.field {
            Some(field) => write!(f, "{field}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DomainError {}
