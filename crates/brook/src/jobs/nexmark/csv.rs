//! How a query's output rows are written: one CSV line per row, the SELECT
//! columns in order, timestamps as epoch milliseconds, NULL as an empty field,
//! and a field quoted (RFC 4180) only when it holds a comma, a quote or a line
//! break. Updating queries prefix Flink's changelog kind (`+I`, `-U`, `+U`, `-D`).

use serde::{Deserialize, Serialize};

/// A row a query produces, and how it is written as a CSV line.
pub trait CsvRow: brook_types::Data {
    /// Appends the row's fields, comma separated, without a line break.
    fn write_csv(&self, out: &mut String);

    /// The row as one CSV line (no line break).
    fn to_csv(&self) -> String {
        let mut line = String::with_capacity(64);
        self.write_csv(&mut line);
        line
    }
}

/// Appends `fields` to a CSV line, each preceded by a comma except the first.
pub struct CsvLine<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> CsvLine<'a> {
    pub fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    fn sep(&mut self) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        use std::fmt::Write as _;
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }

    pub fn str(&mut self, v: &str) -> &mut Self {
        self.sep();
        if v.contains([',', '"', '\n', '\r']) {
            self.out.push('"');
            for c in v.chars() {
                if c == '"' {
                    self.out.push('"');
                }
                self.out.push(c);
            }
            self.out.push('"');
        } else {
            self.out.push_str(v);
        }
        self
    }

    /// NULL is an empty field.
    pub fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(v),
            None => {
                self.sep();
                self
            }
        }
    }

    /// A DECIMAL with three fraction digits, given in thousandths.
    pub fn milli(&mut self, thousandths: i64) -> &mut Self {
        use std::fmt::Write as _;
        self.sep();
        let sign = if thousandths < 0 { "-" } else { "" };
        let abs = thousandths.unsigned_abs();
        let _ = write!(self.out, "{sign}{}.{:03}", abs / 1000, abs % 1000);
        self
    }
}

/// The kind of a change in an updating result (Flink's `RowKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RowKind {
    Insert,
    UpdateBefore,
    UpdateAfter,
    Delete,
}

impl RowKind {
    /// Flink's short string: `+I`, `-U`, `+U`, `-D`.
    pub fn short(self) -> &'static str {
        match self {
            RowKind::Insert => "+I",
            RowKind::UpdateBefore => "-U",
            RowKind::UpdateAfter => "+U",
            RowKind::Delete => "-D",
        }
    }
}

/// One change of an updating result: `+I,<row>` and so on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change<R> {
    pub kind: RowKind,
    pub row: R,
}

impl<R> Change<R> {
    pub fn insert(row: R) -> Self {
        Self { kind: RowKind::Insert, row }
    }
    pub fn update_before(row: R) -> Self {
        Self { kind: RowKind::UpdateBefore, row }
    }
    pub fn update_after(row: R) -> Self {
        Self { kind: RowKind::UpdateAfter, row }
    }
    pub fn delete(row: R) -> Self {
        Self { kind: RowKind::Delete, row }
    }
}

impl<R: CsvRow> CsvRow for Change<R> {
    fn write_csv(&self, out: &mut String) {
        out.push_str(self.kind.short());
        out.push(',');
        self.row.write_csv(out);
    }
}

/// Emits the change from `old` to `new` the way Flink's group aggregation does:
/// `+I` for the first value, `-U`/`+U` when it changes, nothing when it does not.
pub fn emit_update<R: PartialEq>(old: Option<R>, new: R, out: &mut brook_api::Collector<Change<R>>) {
    match old {
        None => out.collect(Change::insert(new)),
        Some(old) if old == new => {}
        Some(old) => {
            out.collect(Change::update_before(old));
            out.collect(Change::update_after(new));
        }
    }
}

/// Replays a changelog into the rows it leaves (a multiset), for tests and for
/// comparing runs whose interleaving differs: `+I`/`+U` add a row, `-U`/`-D`
/// remove one.
pub fn materialize(lines: &[String]) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    for line in lines {
        let (kind, row) = line.split_once(',').unwrap_or((line.as_str(), ""));
        match kind {
            "+I" | "+U" => rows.push(row.to_string()),
            "-U" | "-D" => {
                if let Some(i) = rows.iter().position(|r| r == row) {
                    rows.swap_remove(i);
                }
            }
            _ => rows.push(line.clone()),
        }
    }
    rows.sort();
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed_and_null_is_empty() {
        let mut out = String::new();
        CsvLine::new(&mut out)
            .int(-7)
            .str("plain text")
            .str("a,b")
            .str("say \"hi\"")
            .str("two\nlines")
            .opt_str(None)
            .milli(1_000_000_376)
            .milli(-5);
        assert_eq!(out, "-7,plain text,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,1000000.376,-0.005");
    }

    #[test]
    fn a_changelog_materializes_into_the_rows_it_leaves() {
        let lines: Vec<String> =
            ["+I,a,1", "+I,b,1", "-U,a,1", "+U,a,2", "-D,b,1", "+I,c,1", "+I,c,1", "-U,c,1", "+U,c,3"]
                .iter()
                .map(|l| l.to_string())
                .collect();
        assert_eq!(materialize(&lines), vec!["a,2", "c,1", "c,3"]);
    }
}
