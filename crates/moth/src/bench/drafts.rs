//! The issues the benchmark files: a seeded mix of types, severities, priorities, labels and
//! components, with text from the corpus.

use super::corpus::Corpus;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

/// The components project BENCH allows.
pub const COMPONENTS: &[&str] = &["api", "web", "storage", "search", "auth", "widget"];

/// Types with their share of issues, in percent.
const TYPES: &[(&str, u32)] = &[
    ("bug", 40),
    ("feature", 15),
    ("improvement", 10),
    ("task", 15),
    ("question", 5),
    ("docs", 5),
    ("performance", 5),
    ("support", 5),
];

/// Severities (of bugs and performance issues) with their share, in percent.
const SEVERITIES: &[(&str, u32)] = &[
    ("critical", 10),
    ("major", 30),
    ("minor", 45),
    ("trivial", 15),
];

/// Priorities with their share, in percent.
const PRIORITIES: &[(&str, u32)] = &[
    ("urgent", 5),
    ("high", 20),
    ("medium", 35),
    ("low", 25),
    ("none", 15),
];

/// Labels an issue may carry (up to three).
const LABELS: &[&str] = &[
    "regression",
    "flaky",
    "security",
    "ux",
    "needs-test",
    "backport",
    "good-first-issue",
    "customer",
];

/// Percent of issues filed with a component.
const WITH_COMPONENT_PERCENT: u32 = 70;

/// The JSON body of `POST /api/v1/projects/BENCH/issues`.
#[derive(Debug, Serialize)]
pub struct Draft {
    #[serde(rename = "type")]
    issue_type: &'static str,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<&'static str>,
    priority: &'static str,
    labels: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    component: Option<&'static str>,
}

/// An endless, repeatable sequence of drafts.
pub struct Drafts<'a> {
    corpus: &'a Corpus,
    rng: StdRng,
    next_text: usize,
}

impl<'a> Drafts<'a> {
    /// Drafts with text from `corpus`, chosen by a generator seeded with `seed`.
    pub fn new(corpus: &'a Corpus, seed: u64) -> Self {
        Self {
            corpus,
            rng: StdRng::seed_from_u64(seed),
            next_text: 0,
        }
    }

    /// The next issue to file.
    pub fn next_draft(&mut self) -> Draft {
        let text = self.corpus.text(self.next_text);
        self.next_text += 1;
        let issue_type = pick(&mut self.rng, TYPES);
        let severity =
            matches!(issue_type, "bug" | "performance").then(|| pick(&mut self.rng, SEVERITIES));
        let label_count = self.rng.gen_range(0..=3);
        let component = self
            .rng
            .gen_ratio(WITH_COMPONENT_PERCENT, 100)
            .then(|| *COMPONENTS.choose(&mut self.rng).unwrap_or(&COMPONENTS[0]));
        Draft {
            issue_type,
            title: text.title.clone(),
            description: text.description.clone(),
            severity,
            priority: pick(&mut self.rng, PRIORITIES),
            labels: LABELS
                .choose_multiple(&mut self.rng, label_count)
                .copied()
                .collect(),
            component,
        }
    }
}

/// Picks a value from a table of (value, percent) whose percents add up to 100.
fn pick(rng: &mut StdRng, table: &[(&'static str, u32)]) -> &'static str {
    let mut roll = rng.gen_range(0..100);
    for &(value, percent) in table {
        if roll < percent {
            return value;
        }
        roll -= percent;
    }
    table[table.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_adds_up_to_one_hundred_percent() {
        for table in [TYPES, SEVERITIES, PRIORITIES] {
            assert_eq!(table.iter().map(|(_, p)| p).sum::<u32>(), 100);
        }
    }

    #[test]
    fn the_mix_is_roughly_as_asked_and_only_defects_have_severity() {
        let corpus = Corpus::generated(1);
        let mut drafts = Drafts::new(&corpus, 1);
        let sample: Vec<Draft> = (0..10_000).map(|_| drafts.next_draft()).collect();
        let bugs = sample.iter().filter(|d| d.issue_type == "bug").count();
        assert!((3_700..4_300).contains(&bugs), "{bugs} bugs");
        for draft in &sample {
            let defect = matches!(draft.issue_type, "bug" | "performance");
            assert_eq!(draft.severity.is_some(), defect);
            assert!(draft.labels.len() <= 3);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_drafts() {
        let corpus = Corpus::generated(1);
        let (mut a, mut b) = (Drafts::new(&corpus, 9), Drafts::new(&corpus, 9));
        for _ in 0..100 {
            let (x, y) = (a.next_draft(), b.next_draft());
            assert_eq!(
                (x.issue_type, x.priority, x.labels),
                (y.issue_type, y.priority, y.labels)
            );
        }
    }
}
