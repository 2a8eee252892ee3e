//! Secrets removed from captured text before it is stored: tokens in URLs, JWTs, credential
//! headers and card numbers. The widget redacts in the browser too; the server never trusts it.

use regex::{Captures, Regex, RegexSet};
use std::borrow::Cow;
use std::sync::LazyLock;

/// What a removed secret is replaced with.
pub const REDACTED: &str = "[redacted]";

static URL_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)([?&#;][\w.-]*(?:token|key|secret|password|passwd|pwd|signature|sig|session|auth|code)=)[^&#\s\x22'<>]+")
        .expect("valid pattern")
});
static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
        .expect("valid pattern")
});
static CREDENTIAL_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token)(\s*[:=]\s*)[^\r\n]+")
        .expect("valid pattern")
});
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}").expect("valid pattern")
});
static CARD_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d(?:[ -]?\d){12,18}\b").expect("valid pattern"));

/// The patterns above without their word boundaries (and without what may match nothing), so
/// each matches wherever its pattern does and more: a text none of them matches holds no secret,
/// and most captured strings (timestamps, URLs, log lines) are let through after one pass over
/// them instead of a pass and a capture buffer per pattern.
static MAYBE_SECRET: LazyLock<RegexSet> = LazyLock::new(|| {
    RegexSet::new([
        r"(?i)[?&#;][\w.-]*(?:token|key|secret|password|passwd|pwd|signature|sig|session|auth|code)=[^&#\s\x22'<>]",
        r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.",
        r"(?i)(?:authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token)\s*[:=]\s*[^\r\n]",
        r"(?i)(?:bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}",
        r"\d(?:[ -]?\d){12,18}",
    ])
    .expect("valid patterns")
});

/// Whether a run of digits passes the Luhn check that card numbers carry.
fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                *d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Replaces matches in place, copying the text only when something matched.
fn replace_in(out: &mut Cow<'_, str>, pattern: &Regex, replacer: impl FnMut(&Captures) -> String) {
    if let Cow::Owned(replaced) = pattern.replace_all(out, replacer) {
        *out = Cow::Owned(replaced);
    }
}

/// Returns the text with every secret it recognises replaced by [`REDACTED`].
pub fn redact_secrets(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    // Nothing any pattern could match: the common case, with no further pass over the text.
    if !MAYBE_SECRET.is_match(text) {
        return out;
    }
    // Cheap pre-checks skip the patterns that cannot match.
    if text.contains('=') {
        replace_in(&mut out, &URL_SECRET, |c| format!("{}{REDACTED}", &c[1]));
    }
    if text.contains("eyJ") {
        replace_in(&mut out, &JWT, |_| REDACTED.to_string());
    }
    if text.contains(':') || text.contains('=') {
        replace_in(&mut out, &CREDENTIAL_HEADER, |c| {
            format!("{}{}{REDACTED}", &c[1], &c[2])
        });
    }
    replace_in(&mut out, &BEARER, |c| format!("{} {REDACTED}", &c[1]));
    if text.bytes().filter(u8::is_ascii_digit).count() >= 13 {
        replace_in(&mut out, &CARD_LIKE, |c| {
            let digits: Vec<u32> = c[0].chars().filter_map(|ch| ch.to_digit(10)).collect();
            if luhn(&digits) {
                REDACTED.to_string()
            } else {
                c[0].to_string()
            }
        });
    }
    out
}

/// Redacts every string inside a JSON value, keys included.
pub fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let Cow::Owned(clean) = redact_secrets(text) {
                *text = clean;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::Object(map) => {
            let secret_keys: Vec<String> =
                map.keys().filter(|k| is_secret_key(k)).cloned().collect();
            for key in secret_keys {
                map.insert(key, serde_json::Value::String(REDACTED.into()));
            }
            map.values_mut().for_each(redact_json);
        }
        _ => {}
    }
}

/// Whether an object key names a secret (`Authorization`, `api_key`, `sessionToken`...);
/// compared without copying the key, as most keys of a report are not.
pub(crate) fn is_secret_key(key: &str) -> bool {
    const SECRET_WORDS: [&str; 7] = [
        "authorization",
        "cookie",
        "password",
        "secret",
        "token",
        "api_key",
        "apikey",
    ];
    SECRET_WORDS.iter().any(|word| {
        key.as_bytes()
            .windows(word.len())
            .any(|part| part.eq_ignore_ascii_case(word.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_urls_are_redacted() {
        let url = "https://shop.example.com/cb?access_token=abc123&page=2&api_key=XYZ#token=t0k";
        assert_eq!(
            redact_secrets(url),
            "https://shop.example.com/cb?access_token=[redacted]&page=2&api_key=[redacted]#token=[redacted]"
        );
        assert_eq!(
            redact_secrets("https://x.com/?key=s3cr3t"),
            "https://x.com/?key=[redacted]"
        );
    }

    #[test]
    fn jwts_headers_and_bearer_tokens_are_redacted() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            redact_secrets(&format!("token is {jwt} ok")),
            "token is [redacted] ok"
        );
        assert_eq!(
            redact_secrets("Authorization: Bearer abc.def.ghi"),
            "Authorization: [redacted]"
        );
        assert_eq!(
            redact_secrets("Cookie: sid=42; theme=dark"),
            "Cookie: [redacted]"
        );
        assert_eq!(
            redact_secrets("sent bearer AbCdEfGhIjKl123"),
            "sent bearer [redacted]"
        );
    }

    #[test]
    fn card_numbers_are_redacted_but_other_numbers_stay() {
        assert_eq!(
            redact_secrets("card 4111 1111 1111 1111 declined"),
            "card [redacted] declined"
        );
        assert_eq!(
            redact_secrets("card 4111-1111-1111-1111"),
            "card [redacted]"
        );
        assert_eq!(
            redact_secrets("order 1234567890123 shipped"),
            "order 1234567890123 shipped",
            "fails Luhn"
        );
        assert_eq!(redact_secrets("at 1700000000000 ms"), "at 1700000000000 ms");
    }

    #[test]
    fn plain_text_is_untouched_and_not_copied() {
        assert!(matches!(
            redact_secrets("TypeError: x is undefined at app.js:10"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn the_one_pass_check_lets_through_only_what_no_pattern_matches() {
        let secrets = [
            "https://x.com/?token=abc",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.",
            "set-cookie= a",
            "X-Auth-Token : abc",
            "BASIC abcdefgh",
            "4111-1111-1111-1111",
        ];
        for text in secrets {
            assert!(MAYBE_SECRET.is_match(text), "{text}");
            assert_ne!(redact_secrets(text), text, "{text}");
        }
        // Without word boundaries it lets through less than the patterns do, never more.
        assert!(MAYBE_SECRET.is_match("é4111111111111111é"));
        assert_eq!(redact_secrets("é4111111111111111é"), "é4111111111111111é");
        for text in [
            "2026-12-07T10:00:03.123Z",
            "https://shop.example.com/api/items/4?page=3",
            "render cart item 7 of order 12 with 3 lines",
        ] {
            assert!(!MAYBE_SECRET.is_match(text), "{text}");
        }
        for key in ["Authorization", "X-API_KEY", "sessionToken", "db_PassWord"] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in ["message", "timestamp", "toke", "api-key"] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn json_is_redacted_throughout() {
        let mut value = serde_json::json!({
            "url": "https://x.com/?token=abc",
            "headers": {"Authorization": "Bearer abcdefghijk", "Accept": "json"},
            "list": ["4111 1111 1111 1111"]
        });
        redact_json(&mut value);
        assert_eq!(value["url"], "https://x.com/?token=[redacted]");
        assert_eq!(value["headers"]["Authorization"], "[redacted]");
        assert_eq!(value["headers"]["Accept"], "json");
        assert_eq!(value["list"][0], "[redacted]");
    }
}
