//! Markdown tables padded to line up in a terminal, and number formats.

use std::fmt::Write;

/// A Markdown table: the first column left-aligned, the others right-aligned.
pub(crate) struct Table {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers.
    pub fn new<S: AsRef<str>>(head: &[S]) -> Self {
        Self {
            head: head.iter().map(|h| h.as_ref().to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (missing cells are left blank, extra ones dropped).
    pub fn row(&mut self, mut cells: Vec<String>) {
        cells.resize(self.head.len(), String::new());
        self.rows.push(cells);
    }

    /// Appends the table, followed by a blank line, to `out`.
    pub fn render(&self, out: &mut String) {
        let width = |s: &str| s.chars().count();
        let widths: Vec<usize> = (0..self.head.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| width(&r[c]))
                    .chain([width(&self.head[c]), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |out: &mut String, cells: &[String]| {
            out.push('|');
            for (c, (cell, &w)) in cells.iter().zip(&widths).enumerate() {
                let pad = " ".repeat(w - width(cell));
                if c == 0 {
                    let _ = write!(out, " {cell}{pad} |");
                } else {
                    let _ = write!(out, " {pad}{cell} |");
                }
            }
            out.push('\n');
        };
        line(out, &self.head);
        out.push('|');
        for (c, &w) in widths.iter().enumerate() {
            if c == 0 {
                let _ = write!(out, "{}|", "-".repeat(w + 2));
            } else {
                let _ = write!(out, "{}:|", "-".repeat(w + 1));
            }
        }
        out.push('\n');
        for r in &self.rows {
            line(out, r);
        }
        out.push('\n');
    }
}

/// `x` with 3 significant digits, without an exponent (`0.331`, `12.4`, `130`, `12345`).
pub(crate) fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x.is_finite() {
            "0".into()
        } else {
            x.to_string()
        };
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (2 - magnitude).clamp(0, 12) as usize;
    format!("{x:.decimals$}")
}

/// A duration in seconds with a unit that keeps it readable (`1.20 s`, `0.891 ms`, `35.0 µs`).
pub(crate) fn duration(seconds: f64) -> String {
    let a = seconds.abs();
    if a >= 1.0 || a == 0.0 {
        format!("{} s", sig(seconds))
    } else if a >= 1e-3 {
        format!("{} ms", sig(seconds * 1e3))
    } else {
        format!("{} µs", sig(seconds * 1e6))
    }
}

/// A share as a percentage with one decimal.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// `f` of the value, or `—` without one.
pub(crate) fn or_dash<T>(x: Option<T>, f: impl Fn(T) -> String) -> String {
    x.map_or_else(|| "—".to_string(), f)
}

/// A fixed-point number with `d` decimals.
pub(crate) fn fixed(x: f64, d: usize) -> String {
    format!("{x:.d$}")
}

/// A signed fixed-point number with `d` decimals (`+0.125`, `-0.300`).
pub(crate) fn signed(x: f64, d: usize) -> String {
    format!("{x:+.d$}")
}
