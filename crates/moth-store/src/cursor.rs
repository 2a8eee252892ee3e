//! Page cursors travel as opaque URL-safe text.

use crate::models::PageCursor;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use moth_core::DomainError;

/// The text form of a cursor.
pub fn encode(cursor: &PageCursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

/// Reads a cursor a client sent back.
pub fn decode(text: &str) -> Result<PageCursor, DomainError> {
    let bad = || {
        DomainError::field(
            "cursor",
            "this cursor is not one Moth gave out; start again without a cursor",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = PageCursor {
            sort: "-created".into(),
            value: 42,
            id: 42,
        };
        assert_eq!(decode(&encode(&cursor)).unwrap(), cursor);
        assert_eq!(decode("not a cursor").unwrap_err().field, Some("cursor"));
        assert!(decode(&URL_SAFE_NO_PAD.encode(b"{\"x\":1}")).is_err());
    }
}
