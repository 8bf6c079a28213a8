//! The errors of scripts and plugins: values that name the script, never
//! panics of the kernel.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::declaration::ScriptKind;

/// Where an error comes from: the script's kind and id when known, its file,
/// and the line when Lua reported one.
///
/// Displays as `metric backup-freshness (scripts/metrics/backup.lua:12)`, or
/// as the bare file when the script did not get as far as declaring itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    /// The kind the script declared, if it got that far.
    pub kind: Option<ScriptKind>,
    /// The id the script declared, if it got that far.
    pub id: Option<String>,
    /// The file, as shown to people (`scripts/metrics/backup.lua`).
    pub file: PathBuf,
    /// The line of the script where the error happened, when known.
    pub line: Option<u32>,
}

impl Origin {
    /// An origin for a file whose declaration is not known yet.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Origin {
            kind: None,
            id: None,
            file: file.into(),
            line: None,
        }
    }

    /// The same origin at `line`.
    pub fn at_line(mut self, line: Option<u32>) -> Self {
        self.line = line;
        self
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match self.line {
            Some(line) => format!("{}:{line}", self.file.display()),
            None => self.file.display().to_string(),
        };
        match (&self.kind, &self.id) {
            (Some(kind), Some(id)) => write!(f, "{kind} {id} ({place})"),
            (None, Some(id)) => write!(f, "{id} ({place})"),
            _ => f.write_str(&place),
        }
    }
}

/// An error of one script or plugin. It never stops the kernel or the other
/// scripts: callers record it, report it, and go on.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read, compiled, run to its declaration, or its
    /// declaration is wrong (also: a plugin of another ABI version).
    #[error("{origin}: {message}")]
    Load {
        /// Where.
        origin: Box<Origin>,
        /// What went wrong.
        message: String,
    },
    /// A function of the script raised an error.
    #[error("{origin}: {function}: {message}")]
    Runtime {
        /// Where.
        origin: Box<Origin>,
        /// The function called (`collect`), or `load` for the file's body.
        function: String,
        /// The Lua or plugin error, without its location prefix.
        message: String,
    },
    /// A call ran past its time budget.
    #[error("{origin}: {function} exceeded its time budget of {}", show_duration(*.budget))]
    TimeLimit {
        /// Where (the line running when the budget ran out).
        origin: Box<Origin>,
        /// The function called.
        function: String,
        /// The budget per call.
        budget: Duration,
    },
    /// A call asked for more memory than the script's VM may hold.
    #[error("{origin}: {function} exceeded the memory limit of {}", show_bytes(*.limit))]
    MemoryLimit {
        /// Where.
        origin: Box<Origin>,
        /// The function called.
        function: String,
        /// The limit of the VM, in bytes.
        limit: usize,
    },
    /// A function returned something other than what its kind promises.
    #[error("{origin}: {function} returned {found}, expected {expected}")]
    BadResult {
        /// Where.
        origin: Box<Origin>,
        /// The function called.
        function: String,
        /// What it returned (`nil`, `a string "12"`).
        found: String,
        /// What was expected (`a number`).
        expected: &'static str,
    },
    /// The script or plugin does not have the function asked for.
    #[error("{origin}: has no function {function}")]
    NoSuchFunction {
        /// Where.
        origin: Box<Origin>,
        /// The function asked for.
        function: String,
    },
    /// The id names a script of another kind than the operation needs.
    #[error("{origin}: is {} {found}, not {} {expected}", article(*.found), article(*.expected))]
    WrongKind {
        /// Where.
        origin: Box<Origin>,
        /// Its kind.
        found: ScriptKind,
        /// The kind the operation needs.
        expected: ScriptKind,
    },
    /// No script or plugin has this id.
    #[error("no script or plugin has the id {0}")]
    UnknownId(String),
    /// The id is known but no version of it ever loaded.
    #[error("{id} has no working version: {error}")]
    NoActiveVersion {
        /// The id (or, for a file that never declared one, its path).
        id: String,
        /// Why its last load failed.
        error: String,
    },
}

impl ScriptError {
    /// The origin of the error, when it has one.
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            ScriptError::Load { origin, .. }
            | ScriptError::Runtime { origin, .. }
            | ScriptError::TimeLimit { origin, .. }
            | ScriptError::MemoryLimit { origin, .. }
            | ScriptError::BadResult { origin, .. }
            | ScriptError::NoSuchFunction { origin, .. }
            | ScriptError::WrongKind { origin, .. } => Some(origin),
            ScriptError::UnknownId(_) | ScriptError::NoActiveVersion { .. } => None,
        }
    }

    /// The error on one line, for logs and the `mmsm watch` output.
    pub fn one_line(&self) -> String {
        one_line(&self.to_string())
    }
}

fn article(kind: ScriptKind) -> &'static str {
    match kind {
        ScriptKind::Importer => "an",
        ScriptKind::Metric | ScriptKind::ProcedureAction => "a",
    }
}

/// Joins the lines of a message with `; `, dropping empty ones.
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// `1s`, `250ms`, `1.5s`.
pub(crate) fn show_duration(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        format!("{}s", duration.as_secs())
    } else if duration.as_secs() == 0 {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{:.3}s", duration.as_secs_f64())
    }
}

/// `64 MiB`, or bytes when not a whole number of MiB.
pub(crate) fn show_bytes(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes / MIB * MIB == bytes {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_kind_id_file_and_line() {
        let origin = Origin {
            kind: Some(ScriptKind::Metric),
            id: Some("backup-freshness".into()),
            file: "scripts/metrics/backup.lua".into(),
            line: Some(12),
        };
        let err = ScriptError::BadResult {
            origin: origin.clone().into(),
            function: "collect".into(),
            found: "nil".into(),
            expected: "a number",
        };
        assert_eq!(
            err.to_string(),
            "metric backup-freshness (scripts/metrics/backup.lua:12): collect returned nil, expected a number"
        );
        let err = ScriptError::TimeLimit {
            origin: origin.at_line(None).into(),
            function: "collect".into(),
            budget: Duration::from_secs(1),
        };
        assert_eq!(
            err.to_string(),
            "metric backup-freshness (scripts/metrics/backup.lua): collect exceeded its time budget of 1s"
        );
        let err = ScriptError::Load {
            origin: Origin::file("scripts/metrics/x.lua")
                .at_line(Some(3))
                .into(),
            message: "unexpected symbol\nnear 'end'".into(),
        };
        assert_eq!(
            err.one_line(),
            "scripts/metrics/x.lua:3: unexpected symbol; near 'end'"
        );
        assert_eq!(show_bytes(64 * 1024 * 1024), "64 MiB");
        assert_eq!(show_duration(Duration::from_millis(250)), "250ms");
    }
}
