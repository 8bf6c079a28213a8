//! The watcher: runs [`Registry::sync`] when the scripts or plugin folder
//! changes, and reports each change as a [`WatchEvent`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use notify::{EventKind, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, Debouncer, RecommendedCache};

use super::Registry;

/// How long the folders must stay quiet before a change is loaded. The
/// reload latency is about this plus the load itself.
pub const DEBOUNCE: Duration = Duration::from_millis(200);

/// One change of the registry. Its `Display` is the line `mmsm watch` prints;
/// as JSON it is tagged by `event` (`reloaded`, `removed`, `failed`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum WatchEvent {
    /// A new version of `id` is active: `reloaded <id> <hash>`.
    Reloaded {
        /// The id.
        id: String,
        /// The content hash of the new version.
        hash: String,
    },
    /// The file of `id` is gone, so is `id`: `removed <id>`.
    Removed {
        /// The id.
        id: String,
    },
    /// A new version failed to load: `failed <id>: <error> (keeping <hash>)`,
    /// or `(keeping none)` when there was no good version.
    Failed {
        /// The id, or the file's path when it never declared one.
        id: String,
        /// Why, on one line.
        error: String,
        /// The version still active, if any.
        keeping: Option<String>,
    },
}

impl fmt::Display for WatchEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchEvent::Reloaded { id, hash } => write!(f, "reloaded {id} {hash}"),
            WatchEvent::Removed { id } => write!(f, "removed {id}"),
            WatchEvent::Failed { id, error, keeping } => {
                write!(
                    f,
                    "failed {id}: {error} (keeping {})",
                    keeping.as_deref().unwrap_or("none")
                )
            }
        }
    }
}

/// The watcher could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {message}")]
pub struct WatchError {
    /// The folder.
    pub path: PathBuf,
    /// Why.
    pub message: String,
}

/// A running watcher; dropping it stops it.
pub struct Watcher {
    _debouncer: Debouncer<notify::RecommendedWatcher, RecommendedCache>,
    watched: Vec<PathBuf>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("watched", &self.watched)
            .finish_non_exhaustive()
    }
}

impl Watcher {
    /// Watches the scripts folder (with its subfolders) and the plugin folder
    /// of `registry`, calling `on_event` for each change, on the watcher's
    /// thread. Folders that do not exist are not watched (see
    /// [`Watcher::watched`]). The registry is not synced first: call
    /// [`Registry::sync`] before, to load what is already there.
    pub fn start(
        registry: Arc<Registry>,
        mut on_event: impl FnMut(super::WatchEvent) + Send + 'static,
    ) -> Result<Watcher, WatchError> {
        let handler_registry = Arc::clone(&registry);
        let handler = move |result: DebounceEventResult| {
            let relevant = match &result {
                Ok(events) => events
                    .iter()
                    .any(|e| !matches!(e.kind, EventKind::Access(_))),
                // Lost events (queue overflow): look at everything again.
                Err(_) => true,
            };
            if relevant {
                for event in handler_registry.sync() {
                    on_event(event);
                }
            }
        };
        let mut debouncer =
            new_debouncer(DEBOUNCE, Some(DEBOUNCE / 8), handler).map_err(|err| WatchError {
                path: registry.config().scripts_dir.clone(),
                message: err.to_string(),
            })?;
        let config = registry.config();
        let folders = [
            (Some(config.scripts_dir.clone()), RecursiveMode::Recursive),
            (config.plugins_dir.clone(), RecursiveMode::NonRecursive),
        ];
        let mut watched = Vec::new();
        for (folder, mode) in folders {
            let Some(folder) = folder.filter(|f| f.is_dir()) else {
                continue;
            };
            debouncer.watch(&folder, mode).map_err(|err| WatchError {
                path: folder.clone(),
                message: err.to_string(),
            })?;
            watched.push(folder);
        }
        Ok(Watcher {
            _debouncer: debouncer,
            watched,
        })
    }

    /// The folders being watched.
    pub fn watched(&self) -> &[PathBuf] {
        &self.watched
    }
}
