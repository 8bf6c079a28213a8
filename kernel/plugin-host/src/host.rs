//! Loading a plugin library and calling it.

use std::collections::BTreeSet;
use std::ffi::{c_char, CStr};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use libloading::Library;
use mmsm_plugin_abi::{CallFn, EntryFn, FreeFn, PluginReply, ABI_VERSION, ENTRY_SYMBOL};
use serde::Serialize;
use serde_json::{Map, Value};

use mmsm_scripting::{CtxData, Declaration, Origin, ScriptError};

/// The file extension of a plugin library on this platform (`so`, `dylib`, `dll`).
pub fn library_extension() -> &'static str {
    std::env::consts::DLL_EXTENSION
}

/// How long one call of a plugin may take before the host gives up on it
/// (the kernel goes on; the plugin's thread finishes or stays on its own).
pub const PLUGIN_BUDGET: Duration = Duration::from_secs(5);

/// A loaded plugin. The library stays mapped while the value lives, and
/// while a call that ran past its budget still runs.
pub struct Plugin {
    declaration: Declaration,
    file: PathBuf,
    native: Arc<Native>,
    budget: Duration,
}

/// The library and the two functions of the ABI that point into it.
struct Native {
    call: CallFn,
    free: FreeFn,
    // Last: the functions above point into it.
    _library: Library,
}

impl Native {
    /// Calls the plugin with `input` and copies its reply.
    fn call(&self, input: &[u8]) -> Option<Vec<u8>> {
        let mut out_len = 0usize;
        // SAFETY: a valid input buffer and a writable length, as the ABI asks.
        let out = unsafe { (self.call)(input.as_ptr(), input.len(), &mut out_len) };
        if out.is_null() {
            return None;
        }
        // SAFETY: the plugin returned `out_len` bytes at `out`; copied, then freed once.
        let reply = unsafe { std::slice::from_raw_parts(out, out_len) }.to_vec();
        unsafe { (self.free)(out, out_len) };
        Some(reply)
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("id", &self.declaration.id)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct CallOut<'a> {
    function: &'a str,
    args: &'a [Value],
    ctx: Option<&'a Map<String, Value>>,
}

impl Plugin {
    /// Loads the library at `path`: copies it to a unique path under
    /// `copies_dir` first (the dynamic loader caches by path, so a new version
    /// at the same path would not load), checks the ABI version, and validates
    /// the declaration. `shown` names it in errors.
    pub fn load(path: &Path, shown: &Path, copies_dir: &Path) -> Result<Plugin, ScriptError> {
        let origin = Origin::file(shown);
        let fail = |message: String| ScriptError::Load {
            origin: origin.clone().into(),
            message,
        };
        let copy = unique_copy(path, copies_dir)
            .map_err(|err| fail(format!("cannot copy the library: {err}")))?;
        // SAFETY: loading runs the library's initializers; a plugin is trusted
        // native code by definition (DESIGN.md 7.2).
        let library = unsafe { Library::new(&copy) };
        // The mapping outlives the file: remove the copy at once.
        let _ = std::fs::remove_file(&copy);
        let library = library.map_err(|err| fail(format!("cannot load the library: {err}")))?;
        // SAFETY: the symbol's type is fixed by the ABI crate.
        let entry = unsafe { library.get::<EntryFn>(ENTRY_SYMBOL) }.map_err(|_| {
            fail("not an mmsm plugin: it exports no mmsm_plugin_v1 (use mmsm_plugin_abi::declare_plugin!)".into())
        })?;
        // SAFETY: calling the entry point the ABI defines.
        let descriptor = unsafe { entry() };
        if descriptor.is_null() {
            return Err(fail("mmsm_plugin_v1 returned no descriptor".into()));
        }
        // SAFETY: non-null, and `abi_version` is the first field in every ABI version.
        let abi_version = unsafe { (*descriptor).abi_version };
        if abi_version != ABI_VERSION {
            return Err(fail(format!(
                "the plugin was built for plugin ABI version {abi_version}, this kernel speaks version \
                 {ABI_VERSION}: rebuild it against mmsm-plugin-abi {}",
                env!("CARGO_PKG_VERSION")
            )));
        }
        // SAFETY: an ABI version 1 descriptor, valid while the library is loaded.
        let descriptor = unsafe { &*descriptor };
        let text = |field: &str, ptr: *const c_char| -> Result<String, ScriptError> {
            if ptr.is_null() {
                return Err(fail(format!("the descriptor has no {field}")));
            }
            // SAFETY: the ABI promises NUL-terminated static strings.
            let text = unsafe { CStr::from_ptr(ptr) };
            text.to_str()
                .map(str::to_owned)
                .map_err(|_| fail(format!("the descriptor's {field} is not UTF-8")))
        };
        let id = text("id", descriptor.id)?;
        let kind = text("kind", descriptor.kind)?;
        let declared = text("declaration", descriptor.declaration)?;
        let declaration = read_declaration(id, kind, &declared).map_err(fail)?;
        Ok(Plugin {
            declaration,
            file: shown.to_path_buf(),
            native: Arc::new(Native {
                call: descriptor.call,
                free: descriptor.free,
                _library: library,
            }),
            budget: PLUGIN_BUDGET,
        })
    }

    /// The same plugin with calls bounded by `budget` instead of [`PLUGIN_BUDGET`].
    pub fn with_budget(mut self, budget: Duration) -> Plugin {
        self.budget = budget;
        self
    }

    /// What the plugin declared.
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }

    /// Where its errors come from.
    pub fn origin(&self) -> Origin {
        Origin {
            kind: Some(self.declaration.kind),
            id: Some(self.declaration.id.clone()),
            file: self.file.clone(),
            line: None,
        }
    }

    /// Calls `function` with `args` and the ctx data (when given), as JSON.
    pub fn call(
        &self,
        function: &str,
        args: &[Value],
        ctx: Option<&CtxData>,
    ) -> Result<Value, ScriptError> {
        if !self.declaration.functions.contains(function) {
            return Err(ScriptError::NoSuchFunction {
                origin: self.origin().into(),
                function: function.to_owned(),
            });
        }
        let failed = |message: String| ScriptError::Runtime {
            origin: self.origin().into(),
            function: function.to_owned(),
            message,
        };
        let input = serde_json::to_vec(&CallOut {
            function,
            args,
            ctx: ctx.map(CtxData::data),
        })
        .map_err(|err| failed(format!("the call could not be encoded: {err}")))?;
        // On a thread of its own, so that a plugin that hangs costs its thread,
        // not the caller (a procedure move, a metric round, a request).
        let native = Arc::clone(&self.native);
        let (send, receive) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("plugin {}", self.declaration.id))
            .spawn(move || {
                let _ = send.send(native.call(&input));
            })
            .map_err(|err| failed(format!("no thread for the call: {err}")))?;
        let reply = match receive.recv_timeout(self.budget) {
            Ok(Some(reply)) => reply,
            Ok(None) => return Err(failed("the plugin returned no reply".into())),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(ScriptError::TimeLimit {
                    origin: self.origin().into(),
                    function: function.to_owned(),
                    budget: self.budget,
                })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(failed("the plugin's call ended without a reply".into()))
            }
        };
        match serde_json::from_slice::<PluginReply>(&reply) {
            Ok(PluginReply::Ok(value)) => Ok(value),
            Ok(PluginReply::Error(message)) => Err(failed(message)),
            Err(err) => Err(failed(format!(
                "the reply is not {{\"ok\": ...}} or {{\"error\": ...}}: {err}"
            ))),
        }
    }
}

fn read_declaration(id: String, kind: String, declared: &str) -> Result<Declaration, String> {
    let mut fields = match serde_json::from_str::<Value>(declared) {
        Ok(Value::Object(fields)) => fields,
        Ok(other) => {
            return Err(format!(
                "the declaration must be a JSON object, found {other}"
            ))
        }
        Err(err) => return Err(format!("the declaration is not JSON: {err}")),
    };
    let functions: BTreeSet<String> = match fields.remove("functions") {
        None => mmsm_scripting::ScriptKind::parse(&kind)
            .map(|kind| {
                kind.required_functions()
                    .iter()
                    .map(|f| f.to_string())
                    .collect()
            })
            .unwrap_or_default(),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::String(name) => Ok(name),
                other => Err(format!("functions must be a list of names, found {other}")),
            })
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("functions must be a list of names, found {other}")),
    };
    fields.insert("id".into(), Value::String(id));
    fields.insert("kind".into(), Value::String(kind));
    Declaration::from_fields(fields, functions)
}

/// Copies `path` to a path under `dir` that no load has used before. `dir`
/// is made private (0700) and the copy is created new (never through a file
/// or link someone placed there), so no other user can swap the library
/// between the copy and the load (issue 18).
fn unique_copy(path: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    private_dir(dir)?;
    let stem = path
        .file_stem()
        .map_or_else(|| "plugin".into(), |s| s.to_string_lossy().into_owned());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let copy = dir.join(format!(
        "{stem}-{}-{nanos}-{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        library_extension()
    ));
    let mut source = std::fs::File::open(path)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o700);
    let mut target = options.open(&copy)?;
    std::io::copy(&mut source, &mut target)?;
    target.sync_all()?;
    Ok(copy)
}

/// Creates `dir` readable and writable by this user only, or makes an
/// existing one so; refuses a folder it cannot make private.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(std::io::Error::other(format!(
                "{} is not a folder",
                dir.display()
            )));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(|e| {
                std::io::Error::other(format!(
                    "{} is open to other users and cannot be made private: {e}",
                    dir.display()
                ))
            })?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn copies_go_to_a_private_folder_as_new_files() {
        let root = tempfile::tempdir().unwrap();
        let library = root.path().join("libdemo.so");
        std::fs::write(&library, b"not really a library").unwrap();

        let fresh = root.path().join("data").join("plugin-copies");
        let copy = unique_copy(&library, &fresh).unwrap();
        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(std::fs::read(&copy).unwrap(), b"not really a library");

        // A folder left open to others is closed before any copy lands in it.
        let shared = root.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        unique_copy(&library, &shared).unwrap();
        assert_eq!(mode(&shared), 0o700);

        // A file where a folder should be is refused, not written through.
        let file = root.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert!(unique_copy(&library, &file).is_err());
    }
}
