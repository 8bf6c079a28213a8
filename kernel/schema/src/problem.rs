//! A located problem of a schema document.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One problem of a schema: where, which element, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The file the element comes from, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Line and column in the file, when known (parse errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// Column in the file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
    /// The kind of element (`control`, `subcontrol`, `asset_type_threat` row...).
    pub kind: String,
    /// The element's id (or a row's key).
    pub id: String,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Problem {
    /// A problem of element `kind` `id`.
    pub fn new(kind: impl Into<String>, id: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            file: None,
            line: None,
            column: None,
            kind: kind.into(),
            id: id.into(),
            message: message.into(),
        }
    }

    /// The same problem, located in `file`.
    pub fn in_file(mut self, file: Option<PathBuf>) -> Self {
        self.file = file;
        self
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            if let Some(line) = self.line {
                write!(f, ":{line}")?;
                if let Some(column) = self.column {
                    write!(f, ":{column}")?;
                }
            }
            f.write_str(": ")?;
        }
        if self.id.is_empty() {
            write!(f, "{}: {}", self.kind, self.message)
        } else {
            write!(f, "{} `{}`: {}", self.kind, self.id, self.message)
        }
    }
}

/// Every problem found in one load, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// Whether there is no problem.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// How many problems.
    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(f, "{n} problem{} found:", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}
