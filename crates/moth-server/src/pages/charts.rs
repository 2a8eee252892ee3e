//! Charts drawn as SVG text on the server, and the tables and CSV that carry their numbers.
//!
//! Every text that reaches SVG goes through `xml_escape`, every CSV cell through `csv_cell`;
//! the SVG is then handed to the template as already-safe markup. Colours are SVG presentation
//! attributes (the CSP forbids `style=`), and series differ by dash pattern as well as colour,
//! so they stay apart for readers who cannot tell red from blue.

use std::fmt::Write;

/// Dark red for defects, dark blue for other work: both above 7:1 on white.
pub const DEFECT_COLOUR: &str = "#9f1d15";
pub const OTHER_COLOUR: &str = "#1e40af";
const INK: &str = "#1d1f24";
const GRID: &str = "#c8c8d4";
const WIDTH: f64 = 640.0;

/// Escapes text for SVG/XML content and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 documents.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Shortens a label for the drawing; the table beside it keeps the whole text.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// One cell of a chart's table: text (guarded in CSV) or a number.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Number(String),
}

impl Cell {
    /// How the cell reads in the HTML table (askama escapes it).
    pub fn display(&self) -> &str {
        match self {
            Cell::Text(t) | Cell::Number(t) => t,
        }
    }

    /// Whether the cell holds a number (right-aligned in the table).
    pub fn is_number(&self) -> bool {
        matches!(self, Cell::Number(_))
    }
}

/// A count as a table cell.
pub fn count(n: i64) -> Cell {
    Cell::Number(n.to_string())
}

/// A chart's numbers: a table on the page and a CSV download.
#[derive(Debug, Clone)]
pub struct ChartTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

impl ChartTable {
    /// RFC 4180 CSV with CRLF line ends.
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self
            .headers
            .iter()
            .map(|h| csv_cell(&Cell::Text(h.clone())))
            .collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(csv_cell).collect();
            out.push_str(&cells.join(","));
            out.push_str("\r\n");
        }
        out
    }
}

/// One CSV field. A text cell that a spreadsheet would run as a formula (it starts with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, so it shows as text.
pub fn csv_cell(cell: &Cell) -> String {
    let text = match cell {
        Cell::Text(t) if t.starts_with(['=', '+', '-', '@', '\t', '\r']) => format!("'{t}"),
        Cell::Text(t) | Cell::Number(t) => t.clone(),
    };
    if text.contains([',', '"', '\n', '\r']) || text.starts_with(' ') || text.ends_with(' ') {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Opens an `<svg>` with its accessible name (title) and description.
fn open_svg(out: &mut String, id: &str, height: f64, title: &str, desc: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif" font-size="13"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        xml_escape(title),
        xml_escape(desc)
    );
}

/// One bar of a bar chart.
pub struct Bar {
    pub label: String,
    pub value: f64,
    /// The number written after the bar, such as `12` or `36.5 h`.
    pub shown: String,
    pub colour: &'static str,
}

/// A horizontal bar chart: one labelled bar per row, its value written after it.
pub fn bar_chart(id: &str, title: &str, desc: &str, bars: &[Bar]) -> String {
    const ROW: f64 = 30.0;
    const LABEL_END: f64 = 176.0;
    const BAR_START: f64 = 184.0;
    const BAR_MAX: f64 = 380.0;
    let height = (bars.len().max(1) as f64) * ROW + 16.0;
    let mut out = String::new();
    open_svg(&mut out, id, height, title, desc);
    let max = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    if bars.is_empty() {
        let _ = write!(
            out,
            r#"<text x="8" y="28" fill="{INK}">Nothing to show.</text>"#
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = 8.0 + i as f64 * ROW;
        let length = if max > 0.0 {
            bar.value / max * BAR_MAX
        } else {
            0.0
        };
        let _ = write!(
            out,
            r#"<g><title>{label}: {shown}</title><text x="{LABEL_END}" y="{ty:.1}" text-anchor="end" fill="{INK}">{short}</text><rect x="{BAR_START}" y="{ry:.1}" width="{length:.1}" height="20" rx="2" fill="{colour}"/><text x="{tx:.1}" y="{ty:.1}" fill="{INK}">{shown}</text></g>"#,
            label = xml_escape(&bar.label),
            short = xml_escape(&short(&bar.label, 24)),
            shown = xml_escape(&bar.shown),
            ty = y + 15.0,
            ry = y + 1.0,
            colour = bar.colour,
            tx = BAR_START + length + 6.0,
        );
    }
    out.push_str("</svg>");
    out
}

/// One line of a line chart.
pub struct Series {
    pub name: String,
    pub colour: &'static str,
    /// `None` for a solid line, else an SVG `stroke-dasharray`.
    pub dash: Option<&'static str>,
    pub values: Vec<i64>,
}

/// The smallest "round" number (1, 2, 5 times a power of ten) at or above `max`.
fn nice_ceiling(max: i64) -> i64 {
    if max <= 4 {
        return 4;
    }
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m * 4 >= max {
                return step * m * 4;
            }
        }
        step *= 10;
    }
}

/// A line chart over the x labels (weeks), with a y grid, a legend and one line per series.
pub fn line_chart(
    id: &str,
    title: &str,
    desc: &str,
    x_labels: &[String],
    series: &[Series],
) -> String {
    const HEIGHT: f64 = 300.0;
    const LEFT: f64 = 44.0;
    const RIGHT: f64 = 16.0;
    const TOP: f64 = 40.0;
    const BOTTOM: f64 = 36.0;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let n = x_labels.len();
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let ceiling = nice_ceiling(max) as f64;
    let x = |i: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: i64| TOP + plot_h - (v as f64 / ceiling) * plot_h;
    let mut out = String::new();
    open_svg(&mut out, id, HEIGHT, title, desc);
    // The legend, across the top.
    let mut lx = LEFT;
    for s in series {
        let dash = s
            .dash
            .map(|d| format!(r#" stroke-dasharray="{d}""#))
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<line x1="{lx:.1}" y1="16" x2="{:.1}" y2="16" stroke="{}" stroke-width="3"{dash}/><text x="{:.1}" y="20" fill="{INK}">{}</text>"#,
            lx + 24.0,
            s.colour,
            lx + 30.0,
            xml_escape(&s.name)
        );
        lx += 30.0 + 7.5 * s.name.chars().count() as f64 + 18.0;
    }
    // The y grid: five lines from zero to the ceiling.
    for step in 0..=4 {
        let value = (ceiling as i64) * step / 4;
        let gy = y(value);
        let _ = write!(
            out,
            r#"<line x1="{LEFT}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="{GRID}" stroke-width="1"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="{INK}">{value}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            gy + 4.0
        );
    }
    // X labels: at most about twelve, evenly spaced.
    let every = n.div_ceil(12).max(1);
    for (i, label) in x_labels.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="{INK}">{}</text>"#,
                x(i),
                HEIGHT - 12.0,
                xml_escape(label)
            );
        }
    }
    for s in series {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let dash = s
            .dash
            .map(|d| format!(r#" stroke-dasharray="{d}""#))
            .unwrap_or_default();
        let _ = write!(
            out,
            r#"<polyline fill="none" stroke="{}" stroke-width="2.5"{dash} points="{}"><title>{}</title></polyline>"#,
            s.colour,
            points.join(" "),
            xml_escape(&s.name)
        );
        if n <= 60 {
            for (i, v) in s.values.iter().enumerate() {
                let _ = write!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"><title>{}: {v} {}</title></circle>"#,
                    x(i),
                    y(*v),
                    s.colour,
                    xml_escape(&x_labels[i]),
                    xml_escape(&s.name.to_lowercase())
                );
            }
        }
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_cell(&Cell::Text("plain".into())), "plain");
        assert_eq!(csv_cell(&Cell::Text("a,b".into())), "\"a,b\"");
        assert_eq!(
            csv_cell(&Cell::Text("say \"hi\"".into())),
            "\"say \"\"hi\"\"\""
        );
        assert_eq!(
            csv_cell(&Cell::Text("=HYPERLINK(\"x\")".into())),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(csv_cell(&Cell::Text("+1".into())), "'+1");
        assert_eq!(csv_cell(&Cell::Text("@SUM(A1)".into())), "'@SUM(A1)");
        assert_eq!(
            csv_cell(&Cell::Text("line\nbreak".into())),
            "\"line\nbreak\""
        );
        assert_eq!(csv_cell(&Cell::Number("-3".into())), "-3");
        let table = ChartTable {
            headers: vec!["version".into(), "count".into()],
            rows: vec![vec![Cell::Text("-2.0".into()), count(2)]],
        };
        assert_eq!(table.to_csv(), "version,count\r\n'-2.0,2\r\n");
    }

    #[test]
    fn svg_text_is_escaped() {
        let bars = [Bar {
            label: "<script>alert(\"x\")</script>".into(),
            value: 2.0,
            shown: "2".into(),
            colour: DEFECT_COLOUR,
        }];
        let svg = bar_chart("c", "T & <b>", "d'", &bars);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;alert(&quot;x&quot;)"));
        assert!(svg.contains("T &amp; &lt;b&gt;"));
        assert!(svg.contains("d&#39;"));
        let line = line_chart(
            "w",
            "<t>",
            "<d>",
            &["<w>".to_string()],
            &[Series {
                name: "<s>".into(),
                colour: OTHER_COLOUR,
                dash: None,
                values: vec![1],
            }],
        );
        assert!(
            !line.contains("<t>") && !line.contains("<w>") && !line.contains("<s>"),
            "{line}"
        );
    }

    #[test]
    fn bars_scale_to_the_largest_and_empty_charts_say_so() {
        let bars = [
            Bar {
                label: "a".into(),
                value: 4.0,
                shown: "4".into(),
                colour: DEFECT_COLOUR,
            },
            Bar {
                label: "b".into(),
                value: 2.0,
                shown: "2".into(),
                colour: DEFECT_COLOUR,
            },
        ];
        let svg = bar_chart("c", "t", "d", &bars);
        assert!(
            svg.contains(r#"width="380.0""#) && svg.contains(r#"width="190.0""#),
            "{svg}"
        );
        assert!(bar_chart("c", "t", "d", &[]).contains("Nothing to show"));
        assert_eq!(nice_ceiling(0), 4);
        assert_eq!(nice_ceiling(7), 8);
        assert_eq!(nice_ceiling(33), 40);
        assert_eq!(nice_ceiling(101), 200);
    }
}
