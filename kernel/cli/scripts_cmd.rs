//! `mmsm scripts` and `mmsm watch`: the registry of Lua scripts and plugins.
//!
//! Neither opens the store: they read the scripts and plugin folders only, so
//! they run beside a server holding the store.

use std::path::Path;
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::Duration;

use mmsm_kernel::services::{schedule_metrics, ScheduledRun};
use mmsm_registry::{LoadState, Registry, RegistryConfig, WatchEvent, Watcher};

use crate::args::Global;
use crate::output::{print_json, Failure, Table};

/// The registry's folders from the global options.
pub fn registry_config(global: &Global) -> RegistryConfig {
    let plugins = global
        .plugins
        .clone()
        .unwrap_or_else(|| global.data.join("plugins"));
    let mut config = RegistryConfig::new(&global.scripts, Some(plugins));
    config.host.evidence_dir = global.evidence.clone();
    config.plugin_copies_dir = global.data.join("plugin-copies");
    config
}

/// `mmsm scripts`.
pub fn list(global: &Global) -> Result<(), Failure> {
    let config = registry_config(global);
    let (registry, _) = Registry::load(config.clone());
    let statuses = registry.statuses();
    if global.json {
        return print_json(&statuses);
    }
    if statuses.is_empty() {
        println!(
            "no script in {} and no plugin in {}",
            config.scripts_dir.display(),
            config
                .plugins_dir
                .as_deref()
                .unwrap_or(Path::new("-"))
                .display()
        );
        return Ok(());
    }
    let mut table = Table::new(&["ID", "KIND", "VERSION", "STATE", "LAST LOAD", "SOURCE"]);
    for status in &statuses {
        table.row(vec![
            status.id.clone(),
            status
                .kind
                .map_or_else(|| "-".to_owned(), |k| k.to_string()),
            status.version.clone().unwrap_or_else(|| "-".to_owned()),
            match &status.state {
                LoadState::Active => "active".to_owned(),
                LoadState::Failed { error, .. } => format!("failed: {error}"),
            },
            status.last_load.clone(),
            status.source.display().to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// `mmsm watch`: the first load, then one line per change until interrupted;
/// with `metrics`, also a tokio task running the due metrics every `every` seconds.
pub fn watch(global: &Global, metrics: bool, every: u64) -> Result<(), Failure> {
    let (registry, first_load) = Registry::load(registry_config(global));
    let registry = Arc::new(registry);
    if metrics {
        start_scheduler(global, Arc::clone(&registry), every)?;
    }
    let (sender, events) = channel();
    let watcher = Watcher::start(Arc::clone(&registry), move |event| {
        let _ = sender.send(event);
    })
    .map_err(Failure::from_error)?;
    let config = registry.config();
    for folder in [Some(&config.scripts_dir), config.plugins_dir.as_ref()]
        .into_iter()
        .flatten()
    {
        if !watcher.watched().contains(folder) {
            eprintln!(
                "note: {} does not exist and is not watched",
                folder.display()
            );
        }
    }
    if watcher.watched().is_empty() {
        return Err(Failure::from_error(
            "nothing to watch: neither the scripts folder nor the plugin folder exists",
        ));
    }
    for event in first_load {
        print_event(global, &event)?;
    }
    for event in events {
        print_event(global, &event)?;
    }
    Ok(())
}

fn print_event(global: &Global, event: &WatchEvent) -> Result<(), Failure> {
    if global.json {
        let line = serde_json::to_string(event).map_err(Failure::from_error)?;
        println!("{line}");
    } else {
        println!("{event}");
    }
    Ok(())
}

/// Opens the store and runs the metric scheduler on a tokio runtime of its own thread.
fn start_scheduler(global: &Global, registry: Arc<Registry>, every: u64) -> Result<(), Failure> {
    // The watched registry serves the phase actions too: one registry per process.
    let kernel = crate::open_kernel(global)?.with_actions(registry.clone());
    let who = crate::principal(global, &kernel);
    let json = global.json;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(Failure::from_error)?;
    let every = Duration::from_secs(every.max(1));
    std::thread::spawn(move || {
        runtime.block_on(schedule_metrics(kernel, registry, who, every, move |run| {
            print_scheduled(json, &run);
        }));
    });
    Ok(())
}

pub(crate) fn print_scheduled(json: bool, run: &ScheduledRun) {
    match run {
        ScheduledRun::Ran(run) if json => {
            if let Ok(line) = serde_json::to_string(&serde_json::json!({ "metrics": run })) {
                println!("{line}");
            }
        }
        ScheduledRun::Ran(run) => {
            for m in &run.metrics {
                match (&m.error, m.value) {
                    (Some(error), _) => {
                        println!("metric {} {}: failed: {error}", run.isms, m.metric)
                    }
                    (None, Some(value)) => println!(
                        "metric {} {}: {value} (score {})",
                        run.isms,
                        m.metric,
                        m.score.map_or_else(|| "-".into(), |s| format!("{s:.2}"))
                    ),
                    (None, None) => {}
                }
            }
            if !run.deltas.is_empty() {
                println!(
                    "metric {}: board re-valued, compliance {} %",
                    run.isms,
                    crate::isms_cmd::pct(run.board.compliance)
                );
            }
        }
        ScheduledRun::Failed { isms, error } => eprintln!("metric {isms}: {error}"),
    }
}
