//! The figures table on stdout, one row per database and size as each is measured.

use super::corpus::Corpus;
use super::latency::{Figures, Percentiles};

/// Column titles with the widths every row is padded to.
const COLUMNS: &[(&str, usize)] = &[
    ("database", 9),
    ("issues", 8),
    ("create/s", 9),
    ("filtered list p50/p95/p99 ms", 30),
    ("plain list p50/p95/p99 ms", 27),
    ("get issue p50/p95/p99 ms", 26),
    ("metrics API p50/p95/p99 ms", 28),
    ("metrics page p50/p95/p99 ms", 29),
    ("metrics after a change p50/p95/p99 ms", 0),
];

/// Says what is measured and with which text.
pub fn print_intro(concurrency: usize, samples: usize, corpus: &Corpus) {
    println!(
        "moth bench: {concurrency} concurrent clients for creation, {samples} sequential samples per latency figure"
    );
    println!("issue text: {}", corpus.source());
}

/// Prints the table's header line.
pub fn print_header() {
    let titles: Vec<String> = COLUMNS.iter().map(|(title, _)| title.to_string()).collect();
    println!("{}", line(&titles));
}

/// Prints the figures of one database at one size.
pub fn print_row(database: &str, issues: usize, create_rate: f64, figures: &Figures) {
    let cells = [
        database.to_string(),
        issues.to_string(),
        format!("{create_rate:.0}"),
        triple(&figures.filtered_list),
        triple(&figures.plain_list),
        triple(&figures.get_issue),
        triple(&figures.metrics_api),
        triple(&figures.metrics_page),
        triple(&figures.metrics_after_change),
    ];
    println!("{}", line(&cells));
}

/// Pads each cell to its column's width.
fn line(cells: &[String]) -> String {
    let padded: Vec<String> = cells
        .iter()
        .zip(COLUMNS)
        .map(|(cell, (_, width))| format!("{cell:<width$}"))
        .collect();
    padded.join(" ").trim_end().to_string()
}

fn triple(p: &Percentiles) -> String {
    format!("{:.2} / {:.2} / {:.2}", p.p50, p.p95, p.p99)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_line_up_under_the_header() {
        let p = Percentiles {
            p50: 1.2,
            p95: 2.1,
            p99: 3.4,
        };
        let cells = [
            "sqlite".to_string(),
            "10000".to_string(),
            "2650".to_string(),
            triple(&p),
            triple(&p),
            triple(&p),
        ];
        let titles: Vec<String> = COLUMNS.iter().map(|(t, _)| t.to_string()).collect();
        let (row, header) = (line(&cells), line(&titles));
        assert_eq!(row.find("1.20"), header.find("filtered"));
        assert!(row.starts_with("sqlite    10000    2650      1.20 / 2.10 / 3.40"));
    }
}
