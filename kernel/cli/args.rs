//! The command-line grammar (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// mmsm: build and run Information Security Management Systems for SMEs
/// (the MMSM-SME methodology: schemas, ISMS generation, maintenance).
#[derive(Debug, Parser)]
#[command(name = "mmsm", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// The store folder (a sled database, created on first use).
    #[arg(
        long,
        global = true,
        env = "MMSM_DATA",
        default_value = "./mmsm-data",
        value_name = "DIR"
    )]
    pub data: PathBuf,
    /// Print one JSON document on stdout (errors go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Act as this user (default: the local operator, holding every role).
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// GEGS: validate, import, list, show, clone, export and diff schemas.
    #[command(subcommand)]
    Schema(SchemaCommand),
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Check schema documents (a folder or a file) without a store; exit 1 with every located error.
    Validate {
        /// A folder of YAML/JSON/TOML documents, or one file.
        path: PathBuf,
    },
    /// Validate, then store as a new schema or a new version of an existing one.
    Import {
        /// A folder of YAML/JSON/TOML documents, or one file.
        path: PathBuf,
    },
    /// List every schema: id, latest version, name and counts.
    List,
    /// Show a schema's header, counts and subcontrols per maturity level.
    Show {
        /// The schema id.
        id: String,
        /// A version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
    },
    /// Clone a schema as a new one that records `based_on` (e.g. a sector schema from `base`).
    Clone {
        /// The schema to clone (its latest version).
        source: String,
        /// The id of the new schema.
        new: String,
        /// The new schema's name.
        #[arg(long)]
        name: Option<String>,
        /// Narrow the clone to this sector.
        #[arg(long)]
        sector: Option<String>,
        /// Narrow the clone to this size class.
        #[arg(long)]
        size: Option<String>,
    },
    /// Write a schema version as a folder of YAML documents.
    Export {
        /// The schema id.
        id: String,
        /// The folder to write (created if needed).
        dir: PathBuf,
        /// A version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
    },
    /// Elements added, removed and changed between two versions, per kind.
    Diff {
        /// The schema id.
        id: String,
        /// The older version.
        v1: u32,
        /// The newer version.
        v2: u32,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
