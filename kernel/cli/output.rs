//! Rendering: JSON documents, plain tables, and failures with exit codes.

use std::process::ExitCode;

use serde::Serialize;

/// A failed command: what to print on stderr, an optional JSON document for
/// stdout, and the exit code.
pub struct Failure {
    message: String,
    json: Option<serde_json::Value>,
    code: u8,
}

impl Failure {
    /// A failure from any error (exit 1).
    pub fn from_error(error: impl std::fmt::Display) -> Self {
        Failure {
            message: error.to_string(),
            json: None,
            code: 1,
        }
    }

    /// A failure whose result is still a document (e.g. validation errors).
    pub fn with_json(message: String, json: serde_json::Value) -> Self {
        Failure {
            message,
            json: Some(json),
            code: 1,
        }
    }

    /// Prints the failure and returns its exit code.
    pub fn report(self, json: bool) -> ExitCode {
        if json {
            if let Some(doc) = &self.json {
                println!("{}", serde_json::to_string_pretty(doc).unwrap_or_default());
            }
        }
        eprintln!("error: {}", self.message.trim_end());
        ExitCode::from(self.code)
    }
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(Failure::from_error)?;
    println!("{text}");
    Ok(())
}

/// A plain text table with left-aligned columns.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column titles.
    pub fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Prints the table on stdout.
    pub fn print(&self) {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                if i < widths.len() {
                    widths[i] = widths[i].max(cell.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<width$}", width = widths.get(i).copied().unwrap_or(0)))
                .collect();
            println!("{}", padded.join("  ").trim_end());
        };
        line(&self.header);
        for row in &self.rows {
            line(row);
        }
    }
}

/// A time (seconds since the Unix epoch) as `YYYY-MM-DD HH:MM` (UTC).
pub fn datetime(seconds: u64) -> String {
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}
