//! What the services ask of scripts and plugins (DESIGN.md 7), as traits the
//! kernel owns: the registry crate implements them, so the services run a
//! metric or an importer without knowing Lua, native plugins or the watcher.
//! Procedure phase actions have theirs in [`super::msgs::PhaseActions`].

use std::sync::Arc;
use std::time::SystemTime;

use serde_json::{Map, Value};

/// A metric's reading: its value and, when it has `score`, its compliance.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MetricReading {
    /// What `collect` returned; `None` when it returned nil: nothing to
    /// measure this time (no data yet), so the declared answer stands.
    pub value: Option<f64>,
    /// What `score(value)` returned, in [0,1].
    pub score: Option<f64>,
    /// The version that produced it.
    pub version: String,
}

/// What a metric declares for the schema entries that leave it out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricDefaults {
    /// The subcontrols its score feeds.
    pub subcontrols: Vec<String>,
    /// How often it runs (`1d`).
    pub schedule: Option<String>,
}

/// The evidence files of one ISMS, as a metric reads them.
pub trait Evidence: Send + Sync {
    /// The contents of file `name`, or `None` when the ISMS has no such file.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String>;
    /// The names of its files.
    fn names(&self) -> Result<Vec<String>, String>;
}

/// Runs metrics by their source id.
pub trait MetricRunner: Send + Sync {
    /// The defaults metric `source` declares, if it is loaded and is a metric.
    fn metric_defaults(&self, source: &str) -> Option<MetricDefaults>;

    /// Runs metric `source` with `ctx` (the ISMS snapshot) and the ISMS's
    /// `evidence` at `now`. An `Err` says in one line why it failed.
    fn measure(
        &self,
        source: &str,
        ctx: &Map<String, Value>,
        evidence: Arc<dyn Evidence>,
        now: SystemTime,
    ) -> Result<MetricReading, String>;
}

/// Runs importers of catalogues by id.
pub trait ImporterRunner: Send + Sync {
    /// The formats importer `id` reads (empty: any), or why it cannot import
    /// (not loaded, or not an importer).
    fn importer_formats(&self, id: &str) -> Result<Vec<String>, String>;

    /// Runs importer `id` on `input`, already parsed, with `ctx`; returns the
    /// table it made.
    fn import(&self, id: &str, ctx: &Map<String, Value>, input: &Value) -> Result<Value, String>;
}
