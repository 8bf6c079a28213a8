//! `mmsm import IMPORTER FILE --schema ID [--new]`: a catalogue through an
//! importer script into a schema, with a progress bar on large inputs.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use mmsm_kernel::services::{ImportProgress, ImportStatus, ImportSummary, NoProgress};
use mmsm_registry::{Registry, RegistryConfig};

use crate::args::Global;
use crate::output::{print_json, Failure, Table};
use crate::schema_cmd::service_failure;
use crate::scripts_cmd::registry_config;
use crate::{open_kernel, principal};

/// Inputs at least this large get a progress bar.
const LARGE_INPUT: u64 = 512 * 1024;

/// The Lua time budget of one import call: catalogues are large.
const IMPORT_BUDGET: Duration = Duration::from_secs(60);

/// The Lua memory limit of an importer's VM.
const IMPORT_MEMORY: usize = 1024 * 1024 * 1024;

/// A progress bar: bytes while reading, then the stage.
struct Bar(ProgressBar);

impl ImportProgress for Bar {
    fn read(&self, done: u64, total: u64) {
        self.0.set_length(total);
        self.0.set_position(done);
    }
    fn stage(&self, name: &str) {
        self.0.set_message(name.to_owned());
    }
}

/// The registry for importers: the usual folders with a larger budget.
fn importer_registry(global: &Global) -> Registry {
    let mut config: RegistryConfig = registry_config(global);
    config.host.limits.time = IMPORT_BUDGET;
    config.host.limits.memory = IMPORT_MEMORY;
    Registry::load(config).0
}

/// Runs `mmsm import`.
pub fn run(
    global: &Global,
    importer: &str,
    file: &Path,
    schema: &str,
    new: bool,
) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    let registry = importer_registry(global);
    let large = std::fs::metadata(file).is_ok_and(|m| m.len() >= LARGE_INPUT);
    let bar = (large && !global.json).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {bar:30} {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message("read");
        bar.enable_steady_tick(Duration::from_millis(100));
        Bar(bar)
    });
    let progress: &dyn ImportProgress = match &bar {
        Some(bar) => bar,
        None => &NoProgress,
    };
    let result = kernel.import_with_script(&who, &registry, importer, file, schema, new, progress);
    if let Some(bar) = &bar {
        bar.0.finish_and_clear();
    }
    let summary = result.map_err(service_failure)?;
    if global.json {
        return print_json(&summary);
    }
    print_summary(&summary);
    Ok(())
}

fn print_summary(s: &ImportSummary) {
    let o = &s.outcome;
    let what = match o.status {
        ImportStatus::Created => "created",
        ImportStatus::NewVersion => "stored as a new version",
        ImportStatus::Unchanged => "unchanged (same content as the latest version): nothing stored",
    };
    println!(
        "{} with {}: schema {}@{} {what}",
        s.file, s.importer, o.id, o.version
    );
    if s.kinds.is_empty() {
        println!("the importer returned no element");
    } else {
        let mut table = Table::new(&["KIND", "ADDED", "CHANGED", "UNCHANGED"]);
        for (kind, k) in &s.kinds {
            table.row(vec![
                kind.clone(),
                k.added.to_string(),
                k.changed.to_string(),
                k.unchanged.to_string(),
            ]);
        }
        table.print();
    }
    for (reason, count) in &s.skipped {
        println!("skipped: {count} {reason}");
    }
    for note in &s.notes {
        println!("note: {note}");
    }
    let total: f64 = s.timings_ms.values().sum();
    println!("took {total:.0} ms");
}
