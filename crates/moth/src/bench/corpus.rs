//! Issue text for the benchmark: real bug reports from a CSV file, or generated sentences.

use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::path::Path;

/// Longest title sent, in characters (Moth's own limit).
const MAX_TITLE_CHARS: usize = 300;

/// Longest description sent, in bytes; real reports with long logs are cut here.
const MAX_DESCRIPTION_BYTES: usize = 20_000;

/// How many texts the generated corpus holds before it repeats.
const GENERATED_TEXTS: usize = 5_000;

/// Words the generated text is made of.
const WORDS: &[&str] = &[
    "the",
    "server",
    "client",
    "cache",
    "request",
    "timeout",
    "fails",
    "after",
    "upgrade",
    "when",
    "user",
    "opens",
    "page",
    "report",
    "list",
    "slow",
    "crash",
    "null",
    "pointer",
    "exception",
    "login",
    "session",
    "expires",
    "early",
    "memory",
    "leak",
    "in",
    "worker",
    "thread",
    "queue",
    "config",
    "file",
    "ignored",
    "wrong",
    "encoding",
    "for",
    "unicode",
    "names",
    "button",
    "does",
    "nothing",
    "on",
    "mobile",
    "export",
    "to",
    "csv",
    "drops",
    "rows",
    "search",
    "returns",
    "stale",
    "results",
    "index",
    "rebuild",
    "takes",
    "hours",
    "disk",
    "full",
    "error",
    "message",
    "unclear",
    "retry",
    "loop",
    "never",
    "ends",
    "permission",
    "denied",
    "upload",
    "large",
    "attachment",
    "api",
    "token",
    "rejected",
    "database",
    "lock",
    "held",
];

/// One issue's text.
#[derive(Debug, Clone)]
pub struct Text {
    /// A non-blank single line of at most 300 characters.
    pub title: String,
    /// At most 20,000 bytes, or none.
    pub description: Option<String>,
}

/// The texts issues are filed with, taken in turn and repeated when used up.
pub struct Corpus {
    texts: Vec<Text>,
    source: String,
}

impl Corpus {
    /// Reads the Summary and Description columns of a CSV file of bug reports.
    pub fn from_csv(path: &Path) -> anyhow::Result<Self> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_path(path)
            .context("cannot open it")?;
        let headers = reader.headers().context("cannot read its header")?.clone();
        let column = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .with_context(|| format!("it has no {name} column"))
        };
        let (summary, description) = (column("Summary")?, column("Description")?);
        let mut texts = Vec::new();
        for record in reader.records() {
            let record = record.context("cannot read a row")?;
            let title = record.get(summary).unwrap_or_default();
            if let Some(text) = Text::new(title, record.get(description).unwrap_or_default()) {
                texts.push(text);
            }
        }
        if texts.is_empty() {
            bail!("it holds no row with a title");
        }
        let source = format!("{} bug reports from {}", texts.len(), path.display());
        Ok(Self { texts, source })
    }

    /// Sentences made from a word list by a seeded generator.
    pub fn generated(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let texts = (0..GENERATED_TEXTS)
            .map(|_| Text {
                title: sentence(&mut rng, 4..12),
                description: Some(paragraph(&mut rng)),
            })
            .collect();
        let source = format!("{GENERATED_TEXTS} generated texts (no corpus file found)");
        Self { texts, source }
    }

    /// The `index`th text, wrapping around.
    pub fn text(&self, index: usize) -> &Text {
        &self.texts[index % self.texts.len()]
    }

    /// Where the texts come from, for the report.
    pub fn source(&self) -> &str {
        &self.source
    }
}

impl Text {
    /// Cleans a report's summary and description to what Moth accepts; `None` for a blank title.
    fn new(title: &str, description: &str) -> Option<Self> {
        let title = one_line(title);
        if title.is_empty() {
            return None;
        }
        let description = description.trim();
        Some(Self {
            title: title.chars().take(MAX_TITLE_CHARS).collect::<String>(),
            description: (!description.is_empty())
                .then(|| truncate_bytes(description, MAX_DESCRIPTION_BYTES).to_string()),
        })
    }
}

/// Replaces control characters (newlines, tabs) with spaces and trims: titles are one line.
fn one_line(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    line.trim().to_string()
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncate_bytes(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// One generated sentence of the benchmark's word list, for text mixed into real reports.
pub fn generated_sentence(rng: &mut StdRng) -> String {
    sentence(rng, 6..20) + "."
}

fn sentence(rng: &mut StdRng, words: std::ops::Range<usize>) -> String {
    let count = rng.gen_range(words);
    let mut text = (0..count)
        .map(|_| *WORDS.choose(rng).unwrap_or(&"moth"))
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(first) = text.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    text
}

fn paragraph(rng: &mut StdRng) -> String {
    let count = rng.gen_range(2..8);
    (0..count)
        .map(|_| sentence(rng, 6..20) + ".")
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_stops_on_a_character_boundary() {
        assert_eq!(truncate_bytes("héllo", 2), "h");
        assert_eq!(truncate_bytes("héllo", 3), "hé");
        assert_eq!(truncate_bytes("abc", 10), "abc");
    }

    #[test]
    fn titles_become_one_trimmed_line_and_blank_ones_are_skipped() {
        let text = Text::new("  Crash\non\tstart ", "\n").unwrap();
        assert_eq!(text.title, "Crash on start");
        assert_eq!(text.description, None);
        assert!(Text::new(" \n ", "body").is_none());
        let long = Text::new(&"é".repeat(400), &"x".repeat(30_000)).unwrap();
        assert_eq!(long.title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(long.description.unwrap().len(), MAX_DESCRIPTION_BYTES);
    }

    #[test]
    fn quoted_multi_line_fields_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bugs.csv");
        let csv =
            "Summary,Issue id,Description\n\"Disk, full\",1,\"line one\nline two\"\n,2,no title\n";
        std::fs::write(&path, csv).unwrap();
        let corpus = Corpus::from_csv(&path).unwrap();
        assert_eq!(corpus.texts.len(), 1);
        assert_eq!(corpus.text(5).title, "Disk, full");
        assert_eq!(
            corpus.text(0).description.as_deref(),
            Some("line one\nline two")
        );
    }

    #[test]
    fn generated_text_is_the_same_for_the_same_seed() {
        let (a, b) = (Corpus::generated(7), Corpus::generated(7));
        assert_eq!(a.text(42).title, b.text(42).title);
        assert!(!a.text(0).title.is_empty());
    }
}
