//! The registry of scripts and plugins, and its hot reload (DESIGN.md 7.3).
//!
//! Each id maps to its active version behind an `Arc`. [`Registry::sync`]
//! compares the folders with what is loaded: a new or changed file is loaded
//! and swapped in only if it loads and declares itself correctly; otherwise
//! the old version stays active and the error is recorded; a deleted file
//! unregisters its id. A call clones the `Arc` of the active version before
//! running, so a call in flight finishes on the version it started with.
//! The [`Watcher`] runs `sync` whenever the folders change.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod host;
mod status;
mod watch;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use serde_json::Value;
use sha2::{Digest, Sha256};

use mmsm_plugin_host::{library_extension, Plugin};
use mmsm_scripting::{
    describe, CtxData, Declaration, HostConfig, LuaScript, Origin, ScriptError, ScriptKind,
};

pub use host::LazyRegistry;
pub use mmsm_kernel::services::MetricReading;
pub use status::{format_utc, LoadState, Runtime, ScriptStatus};
pub use watch::{WatchError, WatchEvent, Watcher, DEBOUNCE};

/// Where the registry finds scripts and plugins, and how it runs them.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// The scripts folder (`--scripts DIR`, default `./scripts`).
    pub scripts_dir: PathBuf,
    /// The plugin folder (`--plugins DIR`, default `plugins` in the data folder).
    pub plugins_dir: Option<PathBuf>,
    /// Where plugin libraries are copied before loading, made private (0700):
    /// `plugin-copies` in the data folder for the CLI and the server; without
    /// one, a folder of this user's in the system's temporary folder.
    pub plugin_copies_dir: PathBuf,
    /// Limits, evidence folder and log of the Lua host.
    pub host: HostConfig,
}

impl RegistryConfig {
    /// A configuration with the default host and copy folder.
    pub fn new(scripts_dir: impl Into<PathBuf>, plugins_dir: Option<PathBuf>) -> Self {
        RegistryConfig {
            scripts_dir: scripts_dir.into(),
            plugins_dir,
            plugin_copies_dir: std::env::temp_dir().join(format!(
                "mmsm-plugin-copies-{}",
                std::env::var("USER").unwrap_or_else(|_| "user".into())
            )),
            host: HostConfig::default(),
        }
    }
}

/// A loaded version: a Lua script or a plugin.
#[derive(Debug, Clone)]
pub enum Unit {
    /// A Lua script.
    Lua(Arc<LuaScript>),
    /// A dynamic plugin.
    Plugin(Arc<Plugin>),
}

impl Unit {
    /// What it declared.
    pub fn declaration(&self) -> &Declaration {
        match self {
            Unit::Lua(script) => script.declaration(),
            Unit::Plugin(plugin) => plugin.declaration(),
        }
    }

    /// Where its errors come from.
    pub fn origin(&self) -> Origin {
        match self {
            Unit::Lua(script) => script.origin(),
            Unit::Plugin(plugin) => plugin.origin(),
        }
    }

    /// Calls `function` with the ctx data (when given) and `args`.
    pub fn call(
        &self,
        function: &str,
        args: &[Value],
        ctx: Option<&CtxData>,
    ) -> Result<Value, ScriptError> {
        match self {
            Unit::Lua(script) => script.call(function, args, ctx),
            Unit::Plugin(plugin) => plugin.call(function, args, ctx),
        }
    }
}

/// The version of an id that calls use.
#[derive(Debug, Clone)]
pub struct Active {
    /// The loaded script or plugin.
    pub unit: Unit,
    /// The content hash of its file (12 hex digits of SHA-256).
    pub hash: String,
    /// When it was loaded.
    pub loaded_at: SystemTime,
}

/// The last failed load of an id.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    /// Why it failed.
    pub error: ScriptError,
    /// The content hash of the file that failed.
    pub hash: String,
    /// When.
    pub at: SystemTime,
}

#[derive(Debug, Clone)]
struct Entry {
    source: PathBuf,
    runtime: Runtime,
    active: Option<Active>,
    failure: Option<LoadFailure>,
}

/// What the registry remembers of a file between two syncs.
#[derive(Debug, Clone)]
struct FileState {
    /// The hash of the content last tried, so that an unchanged file is not
    /// loaded again (nor reported again when it failed).
    tried: String,
    /// The id its entry is under (a path for a file that never declared one).
    id: String,
}

#[derive(Debug, Default)]
struct SyncState {
    files: BTreeMap<PathBuf, FileState>,
    lib_fingerprint: String,
}

/// The scripts and plugins in service, by id.
#[derive(Debug)]
pub struct Registry {
    config: RegistryConfig,
    entries: RwLock<BTreeMap<String, Entry>>,
    sync_state: Mutex<SyncState>,
}

/// The content hash shown as a version: the first 12 hex digits of SHA-256.
pub fn content_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

impl Registry {
    /// An empty registry; call [`Registry::sync`] to load the folders.
    pub fn new(config: RegistryConfig) -> Self {
        Registry {
            config,
            entries: RwLock::new(BTreeMap::new()),
            sync_state: Mutex::new(SyncState::default()),
        }
    }

    /// A registry with the folders loaded, and the events of that first load.
    pub fn load(config: RegistryConfig) -> (Self, Vec<WatchEvent>) {
        let registry = Registry::new(config);
        let events = registry.sync();
        (registry, events)
    }

    /// Its configuration.
    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// The active version of `id`, if any: hold it to call several functions
    /// of one version.
    pub fn active(&self, id: &str) -> Result<Active, ScriptError> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries
            .get(id)
            .ok_or_else(|| ScriptError::UnknownId(id.to_owned()))?;
        entry
            .active
            .clone()
            .ok_or_else(|| ScriptError::NoActiveVersion {
                id: id.to_owned(),
                error: entry
                    .failure
                    .as_ref()
                    .map_or_else(|| "never loaded".to_owned(), |f| f.error.one_line()),
            })
    }

    /// Calls `function` of the active version of `id` with the ctx data (when
    /// given, as the first argument) and `args`, as JSON.
    pub fn call(
        &self,
        id: &str,
        function: &str,
        args: &[Value],
        ctx: Option<&CtxData>,
    ) -> Result<Value, ScriptError> {
        self.active(id)?.unit.call(function, args, ctx)
    }

    /// Runs metric `id`: `collect(ctx)`, which must return a number (or nil:
    /// nothing to measure this time, no value and no score), then
    /// `score(value)` when the metric has one, which must return a number in
    /// [0,1]. Both on the same version.
    pub fn run_metric(&self, id: &str, ctx: &CtxData) -> Result<MetricReading, ScriptError> {
        let active = self.active_of_kind(id, ScriptKind::Metric)?;
        let origin = active.unit.origin();
        let value = active.unit.call("collect", &[], Some(ctx))?;
        if value.is_null() {
            return Ok(MetricReading {
                value: None,
                score: None,
                version: active.hash,
            });
        }
        let value =
            value
                .as_f64()
                .filter(|v| v.is_finite())
                .ok_or_else(|| ScriptError::BadResult {
                    origin: origin.clone().into(),
                    function: "collect".into(),
                    found: describe(&value),
                    expected: "a number, or nil when there is nothing to measure",
                })?;
        let score = if active.unit.declaration().functions.contains("score") {
            let score = active.unit.call("score", &[Value::from(value)], None)?;
            let in_range = score.as_f64().filter(|s| (0.0..=1.0).contains(s));
            Some(in_range.ok_or_else(|| ScriptError::BadResult {
                origin: origin.into(),
                function: "score".into(),
                found: describe(&score),
                expected: "a number in [0,1]",
            })?)
        } else {
            None
        };
        Ok(MetricReading {
            value: Some(value),
            score,
            version: active.hash,
        })
    }

    /// Runs procedure action `id` on a procedure instance: `run(ctx, instance)`,
    /// which must return a table (fields, events, suggestion, ...).
    pub fn run_procedure_action(
        &self,
        id: &str,
        ctx: &CtxData,
        instance: &Value,
    ) -> Result<Value, ScriptError> {
        self.run_for_table(id, ScriptKind::ProcedureAction, "run", instance, ctx)
    }

    /// Runs importer `id` on input already parsed by the kernel:
    /// `import(ctx, input)`, which must return a table (controls, ...).
    pub fn run_importer(
        &self,
        id: &str,
        ctx: &CtxData,
        input: &Value,
    ) -> Result<Value, ScriptError> {
        self.run_for_table(id, ScriptKind::Importer, "import", input, ctx)
    }

    fn run_for_table(
        &self,
        id: &str,
        kind: ScriptKind,
        function: &str,
        arg: &Value,
        ctx: &CtxData,
    ) -> Result<Value, ScriptError> {
        let active = self.active_of_kind(id, kind)?;
        let result = active
            .unit
            .call(function, std::slice::from_ref(arg), Some(ctx))?;
        match result {
            Value::Object(_) => Ok(result),
            other => Err(ScriptError::BadResult {
                origin: active.unit.origin().into(),
                function: function.into(),
                found: describe(&other),
                expected: "a table",
            }),
        }
    }

    fn active_of_kind(&self, id: &str, kind: ScriptKind) -> Result<Active, ScriptError> {
        let active = self.active(id)?;
        let found = active.unit.declaration().kind;
        if found != kind {
            return Err(ScriptError::WrongKind {
                origin: active.unit.origin().into(),
                found,
                expected: kind,
            });
        }
        Ok(active)
    }

    /// Every script and plugin with its state, by id.
    pub fn statuses(&self) -> Vec<ScriptStatus> {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries
            .iter()
            .map(|(id, entry)| {
                ScriptStatus::of(
                    id,
                    &entry.source,
                    entry.runtime,
                    entry.active.as_ref(),
                    entry.failure.as_ref(),
                )
            })
            .collect()
    }

    /// [`Registry::statuses`] with each source named from its folder
    /// (`scripts/metrics/x.lua`), not by its place on the server's disk: what
    /// the API shows to its users.
    pub fn statuses_shown(&self) -> Vec<ScriptStatus> {
        let mut statuses = self.statuses();
        for status in &mut statuses {
            status.source = self.shown(&status.source);
        }
        statuses
    }

    /// Brings the registry in line with the folders and returns what changed.
    /// Only new and changed files are loaded; when a file of `scripts/lib/`
    /// changes, every script is loaded again.
    pub fn sync(&self) -> Vec<WatchEvent> {
        let mut state = self
            .sync_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut events = Vec::new();
        let files = self.current_files();
        let lib_fingerprint = self.lib_fingerprint();
        if lib_fingerprint != state.lib_fingerprint {
            for (path, file) in state.files.iter_mut() {
                if !self.is_plugin_path(path) {
                    file.tried.clear();
                }
            }
            state.lib_fingerprint = lib_fingerprint;
        }

        let gone: Vec<PathBuf> = state
            .files
            .keys()
            .filter(|p| !files.contains_key(*p))
            .cloned()
            .collect();
        for path in gone {
            if let Some(file) = state.files.remove(&path) {
                let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
                if entries.get(&file.id).is_some_and(|e| e.source == path) {
                    entries.remove(&file.id);
                    events.push(WatchEvent::Removed { id: file.id });
                }
            }
        }

        for (path, kind) in &files {
            let bytes = std::fs::read(path);
            let hash = bytes
                .as_deref()
                .map_or_else(|_| "unreadable".to_owned(), content_hash);
            if state.files.get(path).is_some_and(|f| f.tried == hash) {
                continue;
            }
            let loaded = match bytes {
                Ok(bytes) => self.load_unit(path, &bytes, *kind),
                Err(err) => Err(ScriptError::Load {
                    origin: Origin::file(self.shown(path)).into(),
                    message: format!("cannot read the file: {err}"),
                }),
            };
            let previous_id = state.files.get(path).map(|f| f.id.clone());
            let id = self.install(path, &files, previous_id, loaded, &hash, &mut events);
            state
                .files
                .insert(path.clone(), FileState { tried: hash, id });
        }
        events
    }

    /// Puts the outcome of loading `path` in place; returns the id its entry is
    /// under.
    fn install(
        &self,
        path: &Path,
        files: &BTreeMap<PathBuf, Option<ScriptKind>>,
        previous_id: Option<String>,
        loaded: Result<Unit, ScriptError>,
        hash: &str,
        events: &mut Vec<WatchEvent>,
    ) -> String {
        let now = SystemTime::now();
        let runtime = if self.is_plugin_path(path) {
            Runtime::Plugin
        } else {
            Runtime::Lua
        };
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let loaded = loaded.and_then(|unit| {
            let id = &unit.declaration().id;
            match entries.get(id) {
                Some(other) if other.source != path && files.contains_key(&other.source) => {
                    Err(ScriptError::Load {
                        origin: unit.origin().into(),
                        message: format!(
                            "the id {id} is already declared by {}",
                            self.shown(&other.source).display()
                        ),
                    })
                }
                _ => Ok(unit),
            }
        });
        match loaded {
            Ok(unit) => {
                let id = unit.declaration().id.clone();
                if let Some(old) = previous_id.filter(|old| *old != id) {
                    if entries.get(&old).is_some_and(|e| e.source == path) {
                        entries.remove(&old);
                        // A path stands in for the id of a file that never
                        // loaded: its good version replaces it silently.
                        if !old.contains('/') {
                            events.push(WatchEvent::Removed { id: old });
                        }
                    }
                }
                entries.insert(
                    id.clone(),
                    Entry {
                        source: path.to_path_buf(),
                        runtime,
                        active: Some(Active {
                            unit,
                            hash: hash.to_owned(),
                            loaded_at: now,
                        }),
                        failure: None,
                    },
                );
                events.push(WatchEvent::Reloaded {
                    id: id.clone(),
                    hash: hash.to_owned(),
                });
                id
            }
            Err(error) => {
                let id = previous_id
                    .filter(|id| entries.get(id).is_some_and(|e| e.source == path))
                    .unwrap_or_else(|| self.shown(path).display().to_string());
                let entry = entries.entry(id.clone()).or_insert_with(|| Entry {
                    source: path.to_path_buf(),
                    runtime,
                    active: None,
                    failure: None,
                });
                events.push(WatchEvent::Failed {
                    id: id.clone(),
                    error: error.one_line(),
                    keeping: entry.active.as_ref().map(|a| a.hash.clone()),
                });
                entry.failure = Some(LoadFailure {
                    error,
                    hash: hash.to_owned(),
                    at: now,
                });
                id
            }
        }
    }

    fn load_unit(
        &self,
        path: &Path,
        bytes: &[u8],
        kind: Option<ScriptKind>,
    ) -> Result<Unit, ScriptError> {
        let shown = self.shown(path);
        if self.is_plugin_path(path) {
            Plugin::load(path, &shown, &self.config.plugin_copies_dir)
                .map(|p| Unit::Plugin(Arc::new(p)))
        } else {
            let lib_dir = self.config.scripts_dir.join("lib");
            let lib_dir = lib_dir.is_dir().then_some(lib_dir);
            LuaScript::load(bytes, &shown, lib_dir.as_deref(), kind, &self.config.host)
                .map(|s| Unit::Lua(Arc::new(s)))
        }
    }

    /// The script files (with their folder's kind) and plugin libraries now on disk.
    fn current_files(&self) -> BTreeMap<PathBuf, Option<ScriptKind>> {
        let mut files = BTreeMap::new();
        for kind in ScriptKind::ALL {
            for path in files_with_extension(&self.config.scripts_dir.join(kind.folder()), "lua") {
                files.insert(path, Some(kind));
            }
        }
        if let Some(dir) = &self.config.plugins_dir {
            for path in files_with_extension(dir, library_extension()) {
                files.insert(path, None);
            }
        }
        files
    }

    /// A hash of every file under `scripts/lib/`, names and contents.
    fn lib_fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        let mut stack = vec![self.config.scripts_dir.join("lib")];
        let mut files = Vec::new();
        while let Some(dir) = stack.pop() {
            let Ok(read) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in read.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        files.sort();
        for path in files {
            hasher.update(path.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(&path).unwrap_or_default());
        }
        format!("{:x}", hasher.finalize())
    }

    fn is_plugin_path(&self, path: &Path) -> bool {
        self.config
            .plugins_dir
            .as_deref()
            .is_some_and(|dir| path.parent() == Some(dir))
            && path.extension().is_some_and(|e| e == library_extension())
    }

    /// The path as shown to people: relative to the parent of the scripts or
    /// plugin folder (`scripts/metrics/backup.lua`, `plugins/libx.so`).
    fn shown(&self, path: &Path) -> PathBuf {
        let roots = [
            Some(self.config.scripts_dir.as_path()),
            self.config.plugins_dir.as_deref(),
        ];
        for root in roots.into_iter().flatten() {
            if let Ok(relative) = path.strip_prefix(root) {
                let name = root.file_name().map_or_else(PathBuf::new, PathBuf::from);
                return name.join(relative);
            }
        }
        path.to_path_buf()
    }
}

/// The files of `dir` (not its subfolders) ending in `.extension`, sorted.
fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = read
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}
