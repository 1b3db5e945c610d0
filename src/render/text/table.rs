//! Markdown tables in the text part: aligned columns when they fit the width,
//! one `header: value` record per row when they do not.
use pulldown_cmark::Alignment;
use unicode_width::UnicodeWidthStr;

/// A table being collected cell by cell.
pub struct Table {
    aligns: Vec<Alignment>,
    rows: Vec<Vec<String>>,
}

/// How a finished table is laid out.
pub enum Layout {
    /// Ready-made lines that fit the width.
    Grid(Vec<String>),
    /// One `header: value` line per cell (to be wrapped), rows apart.
    Records(Vec<Vec<String>>),
}

const GAP: &str = "  ";

impl Table {
    pub fn new(aligns: Vec<Alignment>) -> Self {
        Self {
            aligns,
            rows: Vec::new(),
        }
    }

    /// Begins the head row or a body row.
    pub fn start_row(&mut self) {
        self.rows.push(Vec::new());
    }

    /// Adds a cell's text to the current row, with whitespace collapsed.
    pub fn push_cell(&mut self, text: &str) {
        let cell = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(row) = self.rows.last_mut() {
            row.push(cell);
        }
    }

    /// Lays the table out in `width` columns.
    pub fn layout(&self, width: usize) -> Layout {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|s| s.width())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total = widths.iter().sum::<usize>() + GAP.len() * columns.saturating_sub(1);
        if total <= width {
            Layout::Grid(self.grid(&widths))
        } else {
            Layout::Records(self.records())
        }
    }

    fn grid(&self, widths: &[usize]) -> Vec<String> {
        let mut lines = Vec::with_capacity(self.rows.len() + 1);
        for (i, row) in self.rows.iter().enumerate() {
            let cells: Vec<String> = widths
                .iter()
                .enumerate()
                .map(|(c, &w)| {
                    let align = self.aligns.get(c).copied().unwrap_or(Alignment::None);
                    pad(row.get(c).map_or("", String::as_str), w, align)
                })
                .collect();
            lines.push(cells.join(GAP).trim_end().to_owned());
            if i == 0 {
                let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                lines.push(rule.join(GAP));
            }
        }
        lines
    }

    fn records(&self) -> Vec<Vec<String>> {
        let Some((head, body)) = self.rows.split_first() else {
            return Vec::new();
        };
        body.iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(c, cell)| match head.get(c).filter(|h| !h.is_empty()) {
                        Some(h) => format!("{h}: {cell}"),
                        None => cell.clone(),
                    })
                    .collect()
            })
            .collect()
    }
}

fn pad(text: &str, width: usize, align: Alignment) -> String {
    let room = width.saturating_sub(text.width());
    let (left, right) = match align {
        Alignment::Right => (room, 0),
        // Centred cells look ragged in monospace text; left-align them.
        Alignment::Left | Alignment::Center | Alignment::None => (0, room),
    };
    format!("{}{text}{}", " ".repeat(left), " ".repeat(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&[&str]]) -> Table {
        let mut t = Table::new(vec![Alignment::Left, Alignment::Right]);
        for row in rows {
            t.start_row();
            for cell in *row {
                t.push_cell(cell);
            }
        }
        t
    }

    #[test]
    fn a_narrow_table_is_aligned_in_columns() {
        let t = table(&[
            &["name", "count"],
            &["regressions ❌", "10"],
            &["all", "157"],
        ]);
        let Layout::Grid(lines) = t.layout(40) else {
            panic!("expected a grid");
        };
        assert_eq!(
            lines,
            [
                "name            count",
                "--------------  -----",
                "regressions ❌     10",
                "all               157"
            ]
        );
    }

    #[test]
    fn a_wide_table_becomes_one_record_per_row() {
        let t = table(&[
            &["name", "count"],
            &["a very long cell that cannot fit", "10"],
        ]);
        let Layout::Records(records) = t.layout(20) else {
            panic!("expected records");
        };
        assert_eq!(
            records,
            [["name: a very long cell that cannot fit", "count: 10"]]
        );
    }
}
