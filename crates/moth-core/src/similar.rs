//! Similar issues by text: which words of a report are worth looking for, and how the
//! candidates a full-text engine found are ranked again. Pure; the store supplies candidates.
//!
//! The engine's BM25 sees words only. What tells duplicates apart in real reports is more
//! specific: the titles say the same thing, and the texts name the same classes, exceptions
//! and configuration keys. The re-rank adds those as features on top of the engine's score.

use std::collections::{HashMap, HashSet};

/// Most title words looked for.
pub const MAX_TITLE_WORDS: usize = 16;
/// Most description words looked for (the most frequent salient ones).
pub const MAX_BODY_WORDS: usize = 48;
/// Suggestions given when no limit is asked for.
pub const DEFAULT_LIMIT: i64 = 10;
/// The most suggestions one answer may hold.
pub const MAX_LIMIT: i64 = 50;

/// Reads a `limit` parameter: 1 to [`MAX_LIMIT`], [`DEFAULT_LIMIT`] when absent.
pub fn parse_limit(text: Option<&str>) -> Result<i64, crate::DomainError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(crate::DomainError::field(
                "limit",
                format!("limit must be a number from 1 to {MAX_LIMIT}"),
            )),
        },
    }
}

/// Characters of a description read; long logs add noise, not meaning.
pub const MAX_BODY_CHARS: usize = 8_000;

/// How much each feature counts (each is between 0 and 1, and so is the sum). Measured on the
/// Hadoop duplicates (README): the engine's own score and a separate identifier overlap added
/// nothing once the whole text is compared with weights learned from the candidates.
const TEXT_WEIGHT: f64 = 0.75;
const TITLE_WEIGHT: f64 = 0.22;
const COMPONENT_WEIGHT: f64 = 0.03;

/// Words that say nothing about what a report is about: English function words and what
/// every bug report says.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
    "can", "cannot", "could", "did", "do", "does", "doing", "done", "down", "during", "each",
    "few", "for", "from", "further", "get", "gets", "got", "had", "has", "have", "having", "he",
    "her", "here", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself",
    "just", "let", "like", "may", "me", "might", "more", "most", "much", "must", "my", "need",
    "needs", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our",
    "out", "over", "own", "same", "see", "seems", "she", "should", "so", "some", "such", "than",
    "that", "the", "their", "them", "then", "there", "these", "they", "this", "those", "through",
    "to", "too", "under", "until", "up", "use", "used", "using", "very", "was", "we", "were",
    "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you",
    "your", "java", "code", "noformat", "quote", "info", "warn", "debug", "issue", "problem",
    "please", "thanks", "http", "https", "www", "com", "org", "apache", "html",
];

/// A report reduced to what it is compared on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextProfile {
    /// Salient title words, normalized, in order, each once.
    title: Vec<String>,
    /// Salient description words, most frequent first.
    body: Vec<String>,
}

/// One issue the engine found, with what the re-rank compares.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub component: Option<&'a str>,
}

impl TextProfile {
    /// Reads a title and description.
    pub fn of(title: &str, description: &str) -> Self {
        let mut title_words = Vec::new();
        for word in words(title) {
            if !title_words.contains(&word) && title_words.len() < MAX_TITLE_WORDS {
                title_words.push(word);
            }
        }
        let body_text = head(description, MAX_BODY_CHARS);
        let mut counts: HashMap<String, (usize, usize)> = HashMap::new();
        for (position, word) in words(body_text).enumerate() {
            counts.entry(word).or_insert((0, position)).0 += 1;
        }
        let mut names = identifiers(title);
        names.extend(identifiers(body_text));
        // Words of identifiers count double: they name the thing the report is about.
        let mut ranked: Vec<(String, usize, usize)> = counts
            .into_iter()
            .filter(|(w, _)| !title_words.contains(w))
            .map(|(w, (n, first))| {
                let boost = if names.iter().any(|i| i.contains(w.as_str())) {
                    2
                } else {
                    1
                };
                (w, n * boost, first)
            })
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
        let body = ranked
            .into_iter()
            .take(MAX_BODY_WORDS)
            .map(|(w, _, _)| w)
            .collect();
        Self {
            title: title_words,
            body,
        }
    }

    /// The words to look for, title first: letters and digits only, so they are safe to
    /// quote into FTS5 or `to_tsquery`.
    pub fn search_words(&self) -> Vec<String> {
        self.title.iter().chain(&self.body).cloned().collect()
    }

    /// Whether there is anything to look for.
    pub fn is_empty(&self) -> bool {
        self.title.is_empty() && self.body.is_empty()
    }
}

/// A word matching at least this many issues is common: it is counted no further, and the
/// engine is not asked to score its matches (see [`bounded_words`]).
pub const COMMON_WORD_ISSUES: i64 = 300;
/// Most matches the chosen words may have together: what the engine scores per query, whatever
/// the tracker's size.
pub const MATCH_BUDGET: i64 = 1_000;

/// Which of `words` to look for (indexes into it), given how many issues each matches (counted
/// up to `cap`): the rarest first while their matches fit in `budget`. Rare words are what
/// duplicates share and BM25 weighs most, while a common word only makes the engine score
/// most of the tracker. Words matching nothing are skipped; so is every word that reaches the
/// cap, so the answer is empty when all are common.
pub fn bounded_words(counts: &[i64], cap: i64, budget: i64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..counts.len())
        .filter(|&i| counts[i] > 0 && counts[i] < cap)
        .collect();
    // Stable: among equally rare words the title's come first.
    order.sort_by_key(|&i| counts[i]);
    let mut spent = 0;
    let mut chosen = Vec::new();
    for i in order {
        if spent + counts[i] > budget {
            break;
        }
        spent += counts[i];
        chosen.push(i);
    }
    chosen.sort_unstable();
    chosen
}

/// Words are first counted only this far: a count walks the word's matches, so counting
/// every word to [`COMMON_WORD_ISSUES`] costs three times as much, and the rare words alone
/// usually fill the budget (see [`needs_recount`]).
pub const FIRST_COUNT: i64 = 100;

/// Whether counting the words whose count reached `counted_to` further (to
/// [`COMMON_WORD_ISSUES`]) could change what [`bounded_words`] chooses. It cannot when the
/// words below `counted_to` overflow the budget, or leave less than `counted_to` of it: the
/// choice takes the rarest first and stops at the first word that does not fit.
pub fn needs_recount(counts: &[i64], counted_to: i64, budget: i64) -> bool {
    let mut rare: Vec<i64> = counts
        .iter()
        .copied()
        .filter(|&n| n > 0 && n < counted_to)
        .collect();
    rare.sort_unstable();
    let mut spent = 0;
    for n in rare {
        if spent + n > budget {
            return false;
        }
        spent += n;
    }
    budget - spent >= counted_to && counts.iter().any(|&n| n >= counted_to)
}

/// Every distinct word of a text, letters and digits only, capped: the plain BM25 baseline's
/// query, with nothing dropped or weighed.
pub fn plain_words(text: &str, max: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && w.len() <= 40)
        .map(str::to_lowercase)
        .filter(|w| seen.insert(w.clone()))
        .take(max)
        .collect()
}

/// Candidates' indexes with their scores, best first: how much of the report's salient
/// text and title they share, each word weighed by its rarity among the candidates.
pub fn rank(
    query: &TextProfile,
    component: Option<&str>,
    candidates: &[Candidate],
) -> Vec<(usize, f64)> {
    let titles: Vec<Vec<String>> = candidates
        .iter()
        .map(|c| words(c.title).collect())
        .collect();
    let texts: Vec<Vec<String>> = candidates
        .iter()
        .zip(&titles)
        .map(|(c, t)| {
            t.iter()
                .cloned()
                .chain(words(head(c.description, MAX_BODY_CHARS)))
                .collect()
        })
        .collect();
    // Words common among the candidates say less: weigh by rarity within them.
    let title_rarity = rarity_among(&titles);
    let text_rarity = rarity_among(&texts);
    let query_text = query.search_words();
    let mut scored: Vec<(usize, f64)> = candidates
        .iter()
        .zip(titles.iter().zip(&texts))
        .enumerate()
        .map(|(index, (candidate, (title, text)))| {
            let same_component = match (component, candidate.component) {
                (Some(a), Some(b)) if !a.is_empty() && a.eq_ignore_ascii_case(b) => 1.0,
                _ => 0.0,
            };
            let score = TEXT_WEIGHT * weighted_cosine(&query_text, text, &text_rarity)
                + TITLE_WEIGHT * weighted_cosine(&query.title, title, &title_rarity)
                + COMPONENT_WEIGHT * same_component;
            (index, score)
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

/// A word's weight by how few of these texts hold it (an IDF within the candidates).
fn rarity_among(texts: &[Vec<String>]) -> impl Fn(&str) -> f64 + '_ {
    let mut frequency: HashMap<&str, usize> = HashMap::new();
    for text in texts {
        for word in text.iter().collect::<HashSet<_>>() {
            *frequency.entry(word.as_str()).or_default() += 1;
        }
    }
    let total = texts.len() as f64;
    move |w: &str| {
        let df = frequency.get(w).copied().unwrap_or(0) as f64;
        ((total + 1.0) / (df + 1.0)).ln() + 1.0
    }
}

/// Cosine of two word bags, each word weighed by `weight`.
fn weighted_cosine(a: &[String], b: &[String], weight: &dyn Fn(&str) -> f64) -> f64 {
    fn bag<'a>(words: &'a [String], weight: &dyn Fn(&str) -> f64) -> HashMap<&'a str, f64> {
        let mut bag: HashMap<&str, f64> = HashMap::new();
        for w in words {
            *bag.entry(w.as_str()).or_default() += weight(w);
        }
        bag
    }
    let (x, y) = (bag(a, weight), bag(b, weight));
    let dot: f64 = x.iter().filter_map(|(w, v)| y.get(w).map(|u| u * v)).sum();
    let norm = |m: &HashMap<&str, f64>| m.values().map(|v| v * v).sum::<f64>().sqrt();
    let denominator = norm(&x) * norm(&y);
    if denominator > 0.0 {
        dot / denominator
    } else {
        0.0
    }
}

/// The first `max` characters of a text.
fn head(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The salient words of a text: lower-cased, stop words, numbers and noise dropped, plurals
/// folded.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() >= 2 && w.len() <= 30)
        .filter(|w| w.chars().any(char::is_alphabetic))
        // Hashes, ids and timestamps: more digits than letters.
        .filter(|w| w.chars().filter(char::is_ascii_digit).count() * 2 < w.len())
        .map(|w| fold(&w.to_lowercase()))
        .filter(|w| !is_stop_word(w))
}

/// Whether a word is a stop word; a set, since the re-rank reads every candidate's words.
fn is_stop_word(word: &str) -> bool {
    static SET: std::sync::OnceLock<HashSet<&'static str>> = std::sync::OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
        .contains(word)
}

/// A light stem: plurals folded, so "blocks" meets "block" and "crashes" meets "crash".
fn fold(word: &str) -> String {
    let n = word.len();
    if n > 4 && word.ends_with("ies") {
        format!("{}y", &word[..n - 3])
    } else if n > 4
        && ["sses", "xes", "ches", "shes"]
            .iter()
            .any(|e| word.ends_with(e))
    {
        word[..n - 2].to_string()
    } else if n > 3 && word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") {
        word[..n - 1].to_string()
    } else {
        word.to_string()
    }
}

/// Names of code and configuration: `CamelCase`, `dotted.keys` (and a dotted path's last
/// part), `snake_case` and upper-case acronyms like `HDFS`, lower-cased.
fn identifiers(text: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    for raw in text.split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '_')) {
        let token = raw.trim_matches(|c| c == '.' || c == '_');
        if token.len() < 3 || token.len() > 120 || !token.chars().any(char::is_alphabetic) {
            continue;
        }
        let dotted = token.contains('.')
            && token.split('.').filter(|p| !p.is_empty()).count() >= 2
            && token
                .split('.')
                .all(|p| p.chars().next().is_some_and(char::is_alphabetic));
        if dotted {
            found.insert(token.to_lowercase());
            for part in token.split('.').filter(|p| is_code_name(p)) {
                found.insert(part.to_lowercase());
            }
            continue;
        }
        for part in token.split('.') {
            if is_code_name(part) || part.contains('_') && part.len() >= 4 {
                found.insert(part.to_lowercase());
            }
        }
    }
    found
}

/// `NameNode`, `DFSClient`, `getFileStatus`, `HDFS`: mixed case with inner capitals, or an
/// acronym.
fn is_code_name(word: &str) -> bool {
    let chars: Vec<char> = word.chars().collect();
    if chars.len() < 3 || !chars.iter().all(|c| c.is_alphanumeric()) {
        return false;
    }
    let capitals = chars.iter().filter(|c| c.is_uppercase()).count();
    let camel = chars
        .windows(2)
        .any(|p| p[0].is_lowercase() && p[1].is_uppercase())
        || capitals >= 2 && chars.iter().any(|c| c.is_lowercase());
    let acronym = chars.len() <= 8
        && chars.iter().all(|c| c.is_uppercase() || c.is_ascii_digit())
        && chars.iter().filter(|c| c.is_alphabetic()).count() >= 3;
    camel || acronym
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate<'a>(title: &'a str, description: &'a str) -> Candidate<'a> {
        Candidate {
            title,
            description,
            component: None,
        }
    }

    #[test]
    fn counting_first_to_a_lower_cap_chooses_the_same_words() {
        // Pseudo-random true counts; wherever no recount is asked for, the words chosen from
        // counts stopped at FIRST_COUNT are those chosen from counts stopped at the cap.
        let mut seed: u64 = 7;
        let mut recounts = 0;
        for round in 0..2000 {
            let words = 1 + round % 64;
            let spread = [60, 150, 400, 1000][round % 4];
            let truth: Vec<i64> = (0..words)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 33) % spread) as i64
                })
                .collect();
            let full: Vec<i64> = truth.iter().map(|&n| n.min(COMMON_WORD_ISSUES)).collect();
            let first: Vec<i64> = truth.iter().map(|&n| n.min(FIRST_COUNT)).collect();
            if needs_recount(&first, FIRST_COUNT, MATCH_BUDGET) {
                recounts += 1;
                continue;
            }
            assert_eq!(
                bounded_words(&first, COMMON_WORD_ISSUES, MATCH_BUDGET),
                bounded_words(&full, COMMON_WORD_ISSUES, MATCH_BUDGET),
                "{truth:?}"
            );
        }
        assert!(recounts > 0 && recounts < 2000, "both cases are exercised");
        // Rare words that fill the budget settle it; room left for a common one does not.
        assert!(!needs_recount(&[90; 30], FIRST_COUNT, MATCH_BUDGET));
        assert!(needs_recount(&[90, 100], FIRST_COUNT, MATCH_BUDGET));
        assert!(!needs_recount(&[90, 80], FIRST_COUNT, MATCH_BUDGET));
    }

    #[test]
    fn bounded_words_take_the_rarest_within_the_budget() {
        // Counts of six words; the cap is 100 and the budget 50.
        let counts = [30, 0, 100, 5, 20, 40];
        assert_eq!(bounded_words(&counts, 100, 50), [3, 4]);
        assert_eq!(bounded_words(&counts, 100, 1000), [0, 3, 4, 5]);
        assert!(bounded_words(&[100, 250], 100, 1000).is_empty());
        assert!(bounded_words(&[], 100, 1000).is_empty());
    }

    #[test]
    fn stop_words_numbers_and_noise_are_dropped_and_plurals_folded() {
        let profile = TextProfile::of("The NameNode crashes on 2 blocks", "");
        assert_eq!(profile.search_words(), ["namenode", "crash", "block"]);
        let noise = TextProfile::of("at 12345 a1b2c3d4e5 0x7f", "");
        assert!(noise.is_empty());
    }

    #[test]
    fn frequent_description_words_follow_the_title_and_identifiers_count_double() {
        let profile = TextProfile::of(
            "Upload fails",
            "quota quota checksum; DFSClient DFSClient threw. upload again",
        );
        let words = profile.search_words();
        assert_eq!(&words[..2], ["upload", "fail"]);
        assert_eq!(words[2], "dfsclient");
        assert!(words.contains(&"quota".to_string()));
        assert!(!words[2..].contains(&"upload".to_string()));
    }

    #[test]
    fn identifiers_are_classes_keys_and_acronyms() {
        let found = identifiers(
            "HDFS throws java.lang.NullPointerException; set dfs.replication=3 in my_config, see getFileStatus.",
        );
        for name in [
            "hdfs",
            "java.lang.nullpointerexception",
            "nullpointerexception",
            "dfs.replication",
            "my_config",
            "getfilestatus",
        ] {
            assert!(found.contains(name), "{name} in {found:?}");
        }
        assert!(!found.contains("throws") && !found.contains("see"));
    }

    #[test]
    fn limits_default_to_ten_and_stay_within_fifty() {
        assert_eq!(parse_limit(None), Ok(10));
        assert_eq!(parse_limit(Some(" 50 ")), Ok(50));
        for bad in ["0", "51", "-1", "ten"] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_words_keep_everything_once() {
        assert_eq!(
            plain_words("The cat, the CAT and a dog", 3),
            ["the", "cat", "and"]
        );
    }

    #[test]
    fn the_same_title_beats_shared_common_words() {
        let query = TextProfile::of("Balancer hangs on federated cluster", "");
        let candidates = [
            candidate(
                "Cluster federated docs are missing",
                "balancer cluster federated",
            ),
            candidate("Balancer hangs with federated clusters", ""),
        ];
        let ranked = rank(&query, None, &candidates);
        assert_eq!(ranked[0].0, 1);
        assert!(ranked[0].1 > ranked[1].1);
    }

    #[test]
    fn shared_exceptions_and_component_lift_a_candidate() {
        let query = TextProfile::of("Write fails", "java.io.IOException in DataStreamer");
        let candidates = [
            candidate("Write fails", "timeout"),
            candidate("Write fails", "DataStreamer throws java.io.IOException"),
        ];
        assert_eq!(rank(&query, None, &candidates)[0].0, 1);
        let mut with_component = candidates.clone();
        with_component[0].component = Some("hdfs");
        with_component[0].description = "DataStreamer throws java.io.IOException";
        assert_eq!(rank(&query, Some("HDFS"), &with_component)[0].0, 0);
    }

    #[test]
    fn ranking_nothing_is_empty_and_scores_stay_in_range() {
        assert!(rank(&TextProfile::default(), None, &[]).is_empty());
        let query = TextProfile::of("Disk full", "");
        let ranked = rank(&query, Some("x"), &[candidate("Disk full", "")]);
        assert!(ranked[0].1 > 0.0 && ranked[0].1 <= 1.0);
    }
}
