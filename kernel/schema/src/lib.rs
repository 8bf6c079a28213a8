//! Schema documents: load a folder or a file of YAML (canonical), JSON or TOML,
//! merge the sections of every file, validate, and export back to YAML.
//!
//! Loading never stops at the first problem: every parse error and every rule
//! that fails is collected as a [`Problem`] naming the file, the element (kind
//! and id) and what was expected. [`warnings`] lists what is valid but probably
//! not meant (a schedule under an hour); warnings never fail a load or an import.
//! This module knows nothing about the store.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod diff;
mod export;
mod load;
mod problem;
pub mod profiles;
pub mod templates;
mod validate;

pub use diff::{diff, value_words, Change, ChangeKind, FieldChange, SchemaDiff};
pub use export::{export_to_dir, export_to_files, export_to_text};
pub use load::{load_files, load_path, Loaded, Provenance, SourceFile};
pub use problem::{Problem, Problems};
pub use validate::{check_id, nearest_id, parse_period, validate, warnings, MAX_ID};

#[cfg(test)]
mod tests;
