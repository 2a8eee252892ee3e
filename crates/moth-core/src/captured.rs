//! A report's captured lists (console, errors, network, actions, capture health) read in one
//! pass over the sender's JSON: each entry is checked against the limits, scrubbed of secrets
//! and written out as the JSON text that is stored, without a tree of values in between. The
//! few top-level fields that fingerprints and reproduction steps read are kept on the way,
//! borrowed from the sender's text where nothing was scrubbed or unescaped.

use crate::DomainError;
use crate::intake::IntakeLimits;
use crate::redact::{REDACTED, is_secret_key, redact_secrets};
use serde::Serialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// How deeply an entry (or the environment) may nest: an entry may hold objects and lists
/// within it down to this many levels, itself included.
pub const MAX_DEPTH: usize = 4;

/// `{field} has 1200 entries; at most 1000 are accepted`.
pub(crate) fn too_many(field: &'static str, count: usize, limit: usize) -> DomainError {
    DomainError::field(
        field,
        format!("{field} has {count} entries; at most {limit} are accepted"),
    )
}

/// Whether a text is over the limit in characters (counted only when its bytes are).
pub(crate) fn too_long(text: &str, max: usize) -> bool {
    text.len() > max && text.chars().count() > max
}

fn text_too_long(field: &'static str, max: usize) -> DomainError {
    DomainError::field(
        field,
        format!("a text in {field} is longer than {max} characters"),
    )
}

fn nested_too_deeply(field: &'static str) -> DomainError {
    DomainError::field(field, format!("{field} is nested too deeply"))
}

/// Checks a JSON value already read (the environment): no text over the limit, no nesting
/// deeper than `depth`, as entries are checked while they are read.
pub(crate) fn check_value(
    field: &'static str,
    value: &serde_json::Value,
    limits: &IntakeLimits,
    depth: usize,
) -> Result<(), DomainError> {
    use serde_json::Value;
    match value {
        Value::String(s) if too_long(s, limits.string_chars) => {
            Err(text_too_long(field, limits.string_chars))
        }
        Value::String(_) | Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
        _ if depth == 0 => Err(nested_too_deeply(field)),
        Value::Array(items) => items
            .iter()
            .try_for_each(|v| check_value(field, v, limits, depth - 1)),
        Value::Object(map) => map
            .values()
            .try_for_each(|v| check_value(field, v, limits, depth - 1)),
    }
}

/// The top-level fields of one captured entry (a console line, an error, a request, an
/// action) that fingerprints and steps read, scrubbed like the rest. A field holds a value
/// only when the sender sent it with that JSON type (a text, a whole number, a flag).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntryFields<'a> {
    pub level: Option<Cow<'a, str>>,
    pub message: Option<Cow<'a, str>>,
    pub stack: Option<Cow<'a, str>>,
    pub source: Option<Cow<'a, str>>,
    pub method: Option<Cow<'a, str>>,
    pub url: Option<Cow<'a, str>>,
    pub kind: Option<Cow<'a, str>>,
    pub target: Option<Cow<'a, str>>,
    pub key: Option<Cow<'a, str>>,
    pub timestamp: Option<Cow<'a, str>>,
    pub status: Option<u64>,
    pub failed: Option<bool>,
}

impl EntryFields<'_> {
    /// A text field trimmed, or none when it is missing or blank.
    pub fn text<'s>(field: &'s Option<Cow<'_, str>>) -> Option<&'s str> {
        field.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

impl<'a> EntryFields<'a> {
    /// Keeps a top-level field the fingerprints or steps read; others are only stored.
    fn keep(&mut self, key: &str, value: Scalar<'a>) {
        let text = |value: Scalar<'a>| match value {
            Scalar::Text(text) => Some(text),
            _ => None,
        };
        match key {
            "level" => self.level = text(value),
            "message" => self.message = text(value),
            "stack" => self.stack = text(value),
            "source" => self.source = text(value),
            "method" => self.method = text(value),
            "url" => self.url = text(value),
            "kind" => self.kind = text(value),
            "target" => self.target = text(value),
            "key" => self.key = text(value),
            "timestamp" => self.timestamp = text(value),
            "status" => {
                self.status = match value {
                    Scalar::Unsigned(n) => Some(n),
                    _ => None,
                }
            }
            "failed" => {
                self.failed = match value {
                    Scalar::Flag(flag) => Some(flag),
                    _ => None,
                }
            }
            _ => {}
        }
    }
}

/// Whether an entry's top-level field is one [`EntryFields`] keeps.
fn is_kept(key: &str) -> bool {
    matches!(
        key,
        "level"
            | "message"
            | "stack"
            | "source"
            | "method"
            | "url"
            | "kind"
            | "target"
            | "key"
            | "timestamp"
            | "status"
            | "failed"
    )
}

/// The captured parts of a report as the JSON text stored; valid JSON by construction, as it
/// is only ever written by [`CapturedWriter`].
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedJson(String);

impl CapturedJson {
    /// The JSON text (an object).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Writes one JSON object, member by member, into the text that is stored.
pub struct CapturedWriter {
    out: Vec<u8>,
}

impl CapturedWriter {
    /// An empty object, with room for about `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.push(b'{');
        Self { out }
    }

    fn member(&mut self, key: &str) {
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        write_json(&mut self.out, key);
        self.out.push(b':');
    }

    /// Adds a member whose value is already checked and scrubbed.
    pub fn value(&mut self, key: &str, value: &impl Serialize) {
        self.member(key);
        write_json(&mut self.out, value);
    }

    /// Reads the list sent as `field`: at most `max` entries, each an object within the
    /// limits, scrubbed and added as a member; returns the fields each entry keeps.
    pub fn list<'a>(
        &mut self,
        field: &'static str,
        items: &[&'a RawValue],
        max: usize,
        limits: &IntakeLimits,
    ) -> Result<Vec<EntryFields<'a>>, DomainError> {
        self.member(field);
        read_list(field, items, max, limits, &mut self.out, true)
    }

    /// The finished object.
    pub fn finish(mut self) -> CapturedJson {
        self.out.push(b'}');
        // Only JSON text, itself UTF-8, was written.
        CapturedJson(String::from_utf8(self.out).expect("JSON text is UTF-8"))
    }
}

/// Reads the list sent as `field` without storing it: what a match probe needs.
pub fn read_fields<'a>(
    field: &'static str,
    items: &[&'a RawValue],
    max: usize,
    limits: &IntakeLimits,
) -> Result<Vec<EntryFields<'a>>, DomainError> {
    read_list(field, items, max, limits, &mut Vec::new(), false)
}

/// Reads a list, writing it as a JSON array to `out` when `emit` is set.
fn read_list<'a>(
    field: &'static str,
    items: &[&'a RawValue],
    max: usize,
    limits: &IntakeLimits,
    out: &mut Vec<u8>,
    emit: bool,
) -> Result<Vec<EntryFields<'a>>, DomainError> {
    if items.len() > max {
        return Err(too_many(field, items.len(), max));
    }
    let mut reader = Reader {
        field,
        limits,
        out,
        emit,
        refusal: None,
    };
    reader.write(b"[");
    let mut entries = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            reader.write(b",");
        }
        // The sender's text of a value starts at the value: an object starts with a brace.
        if !item.get().starts_with('{') {
            return Err(DomainError::field(
                field,
                format!("each entry of {field} must be an object"),
            ));
        }
        let mut fields = EntryFields::default();
        let mut json = serde_json::Deserializer::from_str(item.get());
        let read = EntrySeed {
            reader: &mut reader,
            fields: &mut fields,
        }
        .deserialize(&mut json);
        if let Err(error) = read {
            // Not a limit: text the skimming parse let through, such as a lone surrogate
            // escape (`\ud800`). Its position is within the entry, so the entry is named.
            return Err(reader.refusal.take().unwrap_or_else(|| {
                let error = error.to_string();
                let error = error.split(" at line ").next().unwrap_or_default();
                DomainError::field(
                    field,
                    format!("entry {} of {field} cannot be read: {error}", i + 1),
                )
            }));
        }
        entries.push(fields);
    }
    reader.write(b"]");
    Ok(entries)
}

/// Appends `value` as JSON; values written here always serialize (texts, numbers, flags and
/// structures of them).
fn write_json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    serde_json::to_writer(out, value).expect("a checked value serializes");
}

/// What a value read turned out to be, for the fields an entry keeps.
enum Scalar<'a> {
    Text(Cow<'a, str>),
    Unsigned(u64),
    Flag(bool),
    Other,
}

/// The state of reading one entry: where it is written and why it was refused, if it was.
struct Reader<'o, 'l> {
    field: &'static str,
    limits: &'l IntakeLimits,
    out: &'o mut Vec<u8>,
    /// False while reading what is not stored: a secret's value, or a whole probe.
    emit: bool,
    /// The limit an entry broke; serde's error only carries its text.
    refusal: Option<DomainError>,
}

impl Reader<'_, '_> {
    /// Keeps the refusal, whose text is all serde's error can carry.
    fn refuse<E: de::Error>(&mut self, refusal: DomainError) -> E {
        let error = E::custom(&refusal.message);
        self.refusal = Some(refusal);
        error
    }

    fn text<'a, E: de::Error>(&mut self, text: Cow<'a, str>, keep: bool) -> Result<Scalar<'a>, E> {
        if too_long(&text, self.limits.string_chars) {
            return Err(self.refuse(text_too_long(self.field, self.limits.string_chars)));
        }
        let clean = match text {
            Cow::Borrowed(text) => redact_secrets(text),
            Cow::Owned(text) => match redact_secrets(&text) {
                Cow::Owned(clean) => Cow::Owned(clean),
                Cow::Borrowed(_) => Cow::Owned(text),
            },
        };
        if self.emit {
            write_json(self.out, clean.as_ref());
        }
        Ok(if keep {
            Scalar::Text(clean)
        } else {
            Scalar::Other
        })
    }

    fn nest<E: de::Error>(&mut self, depth: usize) -> Result<(), E> {
        if depth == 0 {
            return Err(self.refuse(nested_too_deeply(self.field)));
        }
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.emit {
            self.out.extend_from_slice(bytes);
        }
    }
}

/// Reads one entry, which must be an object, keeping the fields [`EntryFields`] names.
struct EntrySeed<'r, 'o, 'l, 'f, 'a> {
    reader: &'r mut Reader<'o, 'l>,
    fields: &'f mut EntryFields<'a>,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_, '_, '_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_, '_, '_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<(), M::Error> {
        read_map(self.reader, map, MAX_DEPTH, Some(self.fields))
    }
}

/// Reads an object's members, writing each (a secret's value as [`REDACTED`]); an entry's
/// own members that [`EntryFields`] names are kept in `entry`.
fn read_map<'de, M: MapAccess<'de>>(
    reader: &mut Reader,
    mut map: M,
    depth: usize,
    mut entry: Option<&mut EntryFields<'de>>,
) -> Result<(), M::Error> {
    reader.nest(depth)?;
    reader.write(b"{");
    let mut first = true;
    while let Some(key) = map.next_key_seed(KeySeed)? {
        if !first {
            reader.write(b",");
        }
        first = false;
        if reader.emit {
            write_json(reader.out, key.as_ref());
        }
        reader.write(b":");
        let secret = is_secret_key(&key);
        let kept = entry.is_some() && is_kept(&key);
        let emit = reader.emit;
        reader.emit = emit && !secret;
        let value = map.next_value_seed(ValueSeed {
            reader: &mut *reader,
            depth: depth - 1,
            keep: kept,
            comma: false,
        });
        reader.emit = emit;
        let value = value?;
        if secret {
            reader.write(b"\"");
            reader.write(REDACTED.as_bytes());
            reader.write(b"\"");
        }
        if let Some(entry) = entry.as_deref_mut().filter(|_| kept) {
            let value = if secret {
                Scalar::Text(Cow::Borrowed(REDACTED))
            } else {
                value
            };
            entry.keep(&key, value);
        }
    }
    reader.write(b"}");
    Ok(())
}

/// Reads an object key, borrowed where the sender's text has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(key.to_string()))
    }
}

/// Reads any value inside an entry.
struct ValueSeed<'r, 'o, 'l> {
    reader: &'r mut Reader<'o, 'l>,
    /// Levels of nesting still allowed below this value.
    depth: usize,
    /// Whether the caller keeps this value (a top-level field of the entry).
    keep: bool,
    /// Whether a comma goes before it (an element after the first of a list).
    comma: bool,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_, '_, '_> {
    type Value = Scalar<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        // Called only for a value that is there, so a list's comma is written only between two.
        if self.comma {
            self.reader.write(b",");
        }
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_, '_, '_> {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        self.reader.text(Cow::Borrowed(text), self.keep)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        let keep = self.keep;
        match self.reader.text(Cow::Borrowed(text), keep)? {
            Scalar::Text(text) => Ok(Scalar::Text(Cow::Owned(text.into_owned()))),
            _ => Ok(Scalar::Other),
        }
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        self.reader.text(Cow::Owned(text), self.keep)
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        if self.reader.emit {
            write_json(self.reader.out, &n);
        }
        Ok(Scalar::Unsigned(n))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        if self.reader.emit {
            write_json(self.reader.out, &n);
        }
        Ok(Scalar::Other)
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Self::Value, E> {
        if self.reader.emit {
            write_json(self.reader.out, &n);
        }
        Ok(Scalar::Other)
    }

    fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Self::Value, E> {
        self.reader.write(if flag { b"true" } else { b"false" });
        Ok(Scalar::Flag(flag))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        self.reader.write(b"null");
        Ok(Scalar::Other)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let reader = self.reader;
        reader.nest(self.depth)?;
        reader.write(b"[");
        let mut comma = false;
        while seq
            .next_element_seed(ValueSeed {
                reader: &mut *reader,
                depth: self.depth - 1,
                keep: false,
                comma,
            })?
            .is_some()
        {
            comma = true;
        }
        reader.write(b"]");
        Ok(Scalar::Other)
    }

    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
        read_map(self.reader, map, self.depth, None)?;
        Ok(Scalar::Other)
    }
}

/// The fields of each entry of a JSON list, read as a report's are (for tests elsewhere).
#[cfg(test)]
pub(crate) fn entries_of(list: serde_json::Value) -> Vec<EntryFields<'static>> {
    let text: &'static str = Box::leak(list.to_string().into_boxed_str());
    let items: Vec<&'static RawValue> = serde_json::from_str(text).expect("a JSON list");
    read_fields("entries", &items, usize::MAX, &IntakeLimits::default()).expect("valid entries")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn raw(items: &Value) -> Vec<Box<RawValue>> {
        items
            .as_array()
            .unwrap()
            .iter()
            .map(|item| serde_json::value::to_raw_value(item).unwrap())
            .collect()
    }

    fn stored(field: &'static str, items: Value) -> Result<(Value, usize), DomainError> {
        let owned = raw(&items);
        let items: Vec<&RawValue> = owned.iter().map(AsRef::as_ref).collect();
        let mut writer = CapturedWriter::new(64);
        let entries = writer.list(field, &items, 10, &IntakeLimits::default())?;
        let text = writer.finish();
        Ok((
            serde_json::from_str::<Value>(text.as_str()).unwrap()[field].clone(),
            entries.len(),
        ))
    }

    #[test]
    fn entries_are_stored_as_sent_but_scrubbed() {
        let sent = json!([
            {"level": "log", "message": "tab\t\"quoted\" <b>é</b> \u{0}", "n": -1.5, "big": 18446744073709551615u64,
             "nested": {"list": [1, [], {}, null, true]}, "empty": {}},
            {"url": "https://x.example/?token=abc", "headers": {"Authorization": {"scheme": "Bearer"}}},
        ]);
        let (stored, count) = stored("console", sent.clone()).unwrap();
        assert_eq!(count, 2);
        assert_eq!(stored[0], sent[0]);
        assert_eq!(stored[1]["url"], "https://x.example/?token=[redacted]");
        assert_eq!(stored[1]["headers"]["Authorization"], "[redacted]");
        // The same as scrubbing the whole tree.
        let mut scrubbed = sent;
        crate::redact::redact_json(&mut scrubbed);
        assert_eq!(stored, scrubbed);
    }

    #[test]
    fn the_fields_fingerprints_read_are_kept_scrubbed() {
        let sent = json!([{
            "message": "card 4111 1111 1111 1111 declined", "stack": "at pay (app.js:1:2)",
            "status": 500, "failed": true, "url": "/pay?session=s3", "kind": 7,
            "nested": {"message": "not kept"}, "token": "t"
        }]);
        let owned = raw(&sent);
        let items: Vec<&RawValue> = owned.iter().map(AsRef::as_ref).collect();
        let entries = read_fields("errors", &items, 10, &IntakeLimits::default()).unwrap();
        let entry = &entries[0];
        assert_eq!(entry.message.as_deref(), Some("card [redacted] declined"));
        assert_eq!(entry.stack.as_deref(), Some("at pay (app.js:1:2)"));
        assert!(matches!(entry.stack, Some(Cow::Borrowed(_))), "not copied");
        assert_eq!(entry.url.as_deref(), Some("/pay?session=[redacted]"));
        assert_eq!((entry.status, entry.failed), (Some(500), Some(true)));
        assert_eq!(entry.kind, None, "a number is not a kind");
        assert_eq!(entry.level, None);
    }

    #[test]
    fn entries_are_read_from_the_text_as_people_write_it() {
        let sent = "[ \n {\"message\" : \"a\\u00e9\" } ,\t{ }\n]";
        let items: Vec<&RawValue> = serde_json::from_str(sent).unwrap();
        let entries = read_fields("errors", &items, 10, &IntakeLimits::default()).unwrap();
        assert_eq!(entries[0].message.as_deref(), Some("aé"));
        assert_eq!(entries[1], EntryFields::default());
    }

    #[test]
    fn an_escape_that_is_no_character_is_refused_by_entry() {
        let sent = r#"[{"message": "ok"}, {"message": "a\ud800b"}]"#;
        let items: Vec<&RawValue> = serde_json::from_str(sent).unwrap();
        let error = read_fields("console", &items, 10, &IntakeLimits::default()).unwrap_err();
        assert_eq!(error.field, Some("console"));
        assert!(
            error
                .message
                .starts_with("entry 2 of console cannot be read: ")
                && !error.message.contains(" line "),
            "{}",
            error.message
        );
    }

    #[test]
    fn limits_are_checked_on_every_entry() {
        let refused = |items: Value| stored("network", items).unwrap_err();
        let error = refused(Value::Array(vec![json!({}); 11]));
        assert_eq!(error.field, Some("network"));
        assert!(error.message.contains("11 entries"), "{}", error.message);
        assert!(
            refused(json!([{"a": "x".repeat(20_001)}]))
                .message
                .contains("longer than 20000")
        );
        // Within the limit in characters though not in bytes.
        assert!(stored("network", json!([{"a": "é".repeat(20_000)}])).is_ok());
        assert!(
            refused(json!([{"a": {"b": {"c": {"d": {}}}}}]))
                .message
                .contains("nested too deeply")
        );
        assert!(stored("network", json!([{"a": {"b": {"c": {"d": 1}}}}])).is_ok());
        // A secret's value is checked too, though never stored.
        assert!(
            refused(json!([{"a": {"password": {"b": {"c": {}}}}}]))
                .message
                .contains("nested too deeply")
        );
        for not_an_object in [json!("x"), json!(1), json!([]), json!(null), json!(true)] {
            assert!(
                refused(json!([not_an_object]))
                    .message
                    .contains("must be an object")
            );
        }
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            prop_oneof![
                "\\PC{0,12}",
                Just("https://x.example/a?access_token=abc&b=1".to_string()),
                Just("sent Bearer abcdefghijkl".to_string()),
                Just("card 4111 1111 1111 1111".to_string()),
                Just("quote \" slash \\ line\n nul \u{0} tab\t é 🐛".to_string()),
                Just("  ".to_string()),
            ]
        }

        fn key() -> impl Strategy<Value = String> {
            prop_oneof![
                "[a-z_]{1,6}",
                Just("message".to_string()),
                Just("url".to_string()),
                Just("status".to_string()),
                Just("failed".to_string()),
                Just("Authorization".to_string()),
                Just("db_password".to_string()),
                Just("k\"ey\u{1}".to_string()),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<u64>().prop_map(Value::from),
                // Quarters are exact in binary, so a float reads back as the same number.
                (-4000i32..4000).prop_map(|q| Value::from(f64::from(q) / 4.0)),
                text().prop_map(Value::String),
            ];
            // Three levels below the entry: as deep as an entry may go.
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                    prop::collection::btree_map(key(), inner, 0..4)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        fn entry() -> impl Strategy<Value = Value> {
            prop::collection::btree_map(key(), value(), 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect()))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(300))]

            /// Whatever an entry holds, the reader stores what scrubbing the whole tree gives,
            /// and keeps each field as the scrubbed tree has it.
            #[test]
            fn the_reader_agrees_with_scrubbing_the_tree(entries in prop::collection::vec(entry(), 0..4)) {
                let sent = Value::Array(entries);
                let text = sent.to_string();
                let items: Vec<&RawValue> = serde_json::from_str(&text).unwrap();
                let mut writer = CapturedWriter::new(0);
                let kept = writer.list("console", &items, 10, &IntakeLimits::default()).unwrap();
                let stored: Value = serde_json::from_str(writer.finish().as_str()).unwrap();
                let mut scrubbed = sent;
                crate::redact::redact_json(&mut scrubbed);
                prop_assert_eq!(&stored["console"], &scrubbed);
                for (fields, entry) in kept.iter().zip(scrubbed.as_array().unwrap()) {
                    prop_assert_eq!(fields.message.as_deref(), entry["message"].as_str());
                    prop_assert_eq!(fields.url.as_deref(), entry["url"].as_str());
                    prop_assert_eq!(fields.status, entry["status"].as_u64());
                    prop_assert_eq!(fields.failed, entry["failed"].as_bool());
                }
            }
        }
    }
}
