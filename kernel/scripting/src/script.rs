//! One loaded Lua script: its own sandboxed VM, its declaration table, and
//! calls that turn every failure into a [`ScriptError`] naming it.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use mlua::chunk::ChunkMode;
use mlua::{Lua, MultiValue, Table, Value as LuaValue};
use serde_json::{Map, Value};

use super::ctx::{self, CallData, CtxData, CtxEnv, LogSink, ScriptLabel};
use super::declaration::{Declaration, ScriptKind};
use super::error::{Origin, ScriptError};
use super::limits::{Budget, Limits};
use super::sandbox;

/// What the Lua host needs to know: limits, the evidence folder, and where
/// `ctx.log` goes.
#[derive(Clone)]
pub struct HostConfig {
    /// Memory per VM and time per call.
    pub limits: Limits,
    /// The folder `ctx.evidence` reads from (`--evidence DIR`); none: every
    /// read fails with a message saying so.
    pub evidence_dir: Option<PathBuf>,
    /// Where `ctx.log` lines go.
    pub log: LogSink,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            limits: Limits::default(),
            evidence_dir: None,
            log: ctx::stderr_log(),
        }
    }
}

impl fmt::Debug for HostConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostConfig")
            .field("limits", &self.limits)
            .field("evidence_dir", &self.evidence_dir)
            .finish_non_exhaustive()
    }
}

/// A loaded Lua script. Calls are serialized on its VM; share it in an `Arc`.
pub struct LuaScript {
    declaration: Declaration,
    file: PathBuf,
    lua: Lua,
    table: Table,
    ctx_meta: Table,
    budget: Arc<Budget>,
    limits: Limits,
    calls: Mutex<()>,
}

impl fmt::Debug for LuaScript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LuaScript")
            .field("id", &self.declaration.id)
            .field("file", &self.file)
            .finish_non_exhaustive()
    }
}

impl LuaScript {
    /// Runs `source` in a fresh sandbox and validates the declaration table it
    /// returns. `shown` names the file in errors and Lua messages
    /// (`scripts/metrics/backup.lua`); `lib_dir` is the only `require` path;
    /// `expected_kind` is the kind of the folder it lives in.
    pub fn load(
        source: &[u8],
        shown: &Path,
        lib_dir: Option<&Path>,
        expected_kind: Option<ScriptKind>,
        config: &HostConfig,
    ) -> Result<LuaScript, ScriptError> {
        let origin = Origin::file(shown);
        let setup = |err: mlua::Error| ScriptError::Load {
            origin: origin.clone().into(),
            message: format!("the sandbox could not be set up: {err}"),
        };
        let (lua, budget) = sandbox::new_vm(lib_dir, &config.limits).map_err(setup)?;
        let env = CtxEnv {
            evidence_dir: config.evidence_dir.clone(),
            max_read: config.limits.memory,
            log: Arc::clone(&config.log),
        };
        let ctx_meta = ctx::register_api(&lua, &env).map_err(setup)?;
        lua.set_app_data(ScriptLabel(shown.display().to_string()));

        budget.start(&lua).map_err(setup)?;
        let returned = lua
            .load(source)
            .set_name(format!("@{}", shown.display()))
            .set_mode(ChunkMode::Text)
            .eval::<LuaValue>();
        let tripped = budget.finish();
        let returned = returned.map_err(|err| match err {
            mlua::Error::SyntaxError { message, .. } => {
                let (line, message) = split_location(&message, shown);
                ScriptError::Load {
                    origin: origin.clone().at_line(line).into(),
                    message,
                }
            }
            other => classify(other, tripped, &origin, "load", &config.limits, &budget),
        })?;
        let LuaValue::Table(table) = returned else {
            return Err(ScriptError::Load {
                origin: origin.into(),
                message: format!(
                    "the script must return its declaration table, it returned {}",
                    returned.type_name()
                ),
            });
        };
        let declaration = read_declaration(&lua, &table).map_err(|message| ScriptError::Load {
            origin: origin.clone().into(),
            message,
        })?;
        let origin = Origin {
            kind: Some(declaration.kind),
            id: Some(declaration.id.clone()),
            ..origin
        };
        if let Some(expected) = expected_kind.filter(|kind| *kind != declaration.kind) {
            return Err(ScriptError::Load {
                origin: origin.into(),
                message: format!(
                    "it declares kind {} but lives in scripts/{}/, the folder of kind {expected}",
                    declaration.kind,
                    expected.folder()
                ),
            });
        }
        lua.set_app_data(ScriptLabel(declaration.id.clone()));
        Ok(LuaScript {
            declaration,
            file: shown.to_path_buf(),
            lua,
            table,
            ctx_meta,
            budget,
            limits: config.limits,
            calls: Mutex::new(()),
        })
    }

    /// What the script declared.
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }

    /// The file, as shown in errors.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// The memory its VM holds now, in bytes.
    pub fn memory_used(&self) -> usize {
        self.lua.used_memory()
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

    /// Calls `function` of the declaration table with `ctx` (when given) and
    /// then `args`, converted from JSON; returns its first result as JSON.
    /// Within the time budget and memory limit, or an error naming the script.
    pub fn call(
        &self,
        function: &str,
        args: &[Value],
        ctx: Option<&CtxData>,
    ) -> Result<Value, ScriptError> {
        let _one_call_at_a_time = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        let origin = self.origin();
        let internal = |err: mlua::Error| ScriptError::Runtime {
            origin: origin.clone().into(),
            function: function.to_owned(),
            message: err.to_string(),
        };
        let LuaValue::Function(callee) =
            self.table.raw_get::<LuaValue>(function).map_err(internal)?
        else {
            return Err(ScriptError::NoSuchFunction {
                origin: origin.into(),
                function: function.to_owned(),
            });
        };
        self.lua
            .set_app_data(CallData(ctx.cloned().unwrap_or_default()));
        let result = self.call_in_vm(&callee, args, ctx.is_some());
        self.lua.remove_app_data::<CallData>();
        let (result, tripped) = result;
        match result {
            Ok(value) => ctx::from_lua(&self.lua, value).map_err(|err| ScriptError::BadResult {
                origin: origin.into(),
                function: function.to_owned(),
                found: format!("a value that is not data ({err})"),
                expected: "nil, a boolean, a number, a string or a table of these",
            }),
            Err(err) => {
                let err = classify(err, tripped, &origin, function, &self.limits, &self.budget);
                if matches!(err, ScriptError::MemoryLimit { .. }) {
                    let _ = self.lua.gc_collect();
                }
                Err(err)
            }
        }
    }

    fn call_in_vm(
        &self,
        callee: &mlua::Function,
        args: &[Value],
        with_ctx: bool,
    ) -> (mlua::Result<LuaValue>, Option<Option<u32>>) {
        let mut values = Vec::with_capacity(args.len() + 1);
        let prepared = (|| {
            if with_ctx {
                values.push(LuaValue::Table(ctx::new_ctx(&self.lua, &self.ctx_meta)?));
            }
            for arg in args {
                values.push(ctx::to_lua(&self.lua, arg)?);
            }
            self.budget.start(&self.lua)
        })();
        if let Err(err) = prepared {
            return (Err(err), None);
        }
        let result = callee.call::<LuaValue>(MultiValue::from_vec(values));
        (result, self.budget.finish())
    }

    /// The dotted names of the `ctx` functions registered in this VM.
    #[cfg(test)]
    pub(crate) fn ctx_functions(&self) -> Vec<String> {
        ctx::api_functions(&self.ctx_meta).expect("the ctx API is a tree of tables and functions")
    }
}

/// Reads the declaration table: its function fields are the functions, the
/// others must be data.
fn read_declaration(lua: &Lua, table: &Table) -> Result<Declaration, String> {
    let mut fields = Map::new();
    let mut functions = BTreeSet::new();
    for pair in table.pairs::<LuaValue, LuaValue>() {
        let (key, value) = pair.map_err(|err| err.to_string())?;
        let LuaValue::String(key) = key else {
            return Err(format!(
                "the declaration table must have string keys only, found a {} key",
                key.type_name()
            ));
        };
        let key = key.to_string_lossy();
        if let LuaValue::Function(_) = value {
            functions.insert(key);
            continue;
        }
        let value = ctx::from_lua(lua, value)
            .map_err(|err| format!("the field {key} is not data: {err}"))?;
        fields.insert(key, value);
    }
    Declaration::from_fields(fields, functions)
}

/// Turns a Lua error into the script's error: the time budget (when the hook
/// tripped), the memory limit, or the message with its location split off.
fn classify(
    err: mlua::Error,
    tripped: Option<Option<u32>>,
    origin: &Origin,
    function: &str,
    limits: &Limits,
    budget: &Budget,
) -> ScriptError {
    if let Some(line) = tripped {
        return ScriptError::TimeLimit {
            origin: origin.clone().at_line(line).into(),
            function: function.to_owned(),
            budget: budget.budget(),
        };
    }
    let root = root_cause(&err);
    if matches!(root, mlua::Error::MemoryError(_)) {
        return ScriptError::MemoryLimit {
            origin: origin.clone().into(),
            function: function.to_owned(),
            limit: limits.memory,
        };
    }
    let full = match root {
        mlua::Error::RuntimeError(message) => message.clone(),
        other => other.to_string(),
    };
    let (message, traceback) = full.split_once("\nstack traceback:").unwrap_or((&full, ""));
    let (line, message) = split_location(message.trim(), &origin.file);
    // An error raised by a Rust function (ctx.*, require) has no location:
    // take the script's innermost line from the traceback.
    let line = line
        .or_else(|| line_in_traceback(traceback, &origin.file))
        .or_else(|| match &err {
            mlua::Error::CallbackError { traceback, .. } => {
                line_in_traceback(traceback, &origin.file)
            }
            _ => None,
        });
    ScriptError::Runtime {
        origin: origin.clone().at_line(line).into(),
        function: function.to_owned(),
        message,
    }
}

fn root_cause(err: &mlua::Error) -> &mlua::Error {
    match err {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            root_cause(cause)
        }
        other => other,
    }
}

/// The first line of `file` in a Lua traceback (`\tscripts/x.lua:12: in ...`).
fn line_in_traceback(traceback: &str, file: &Path) -> Option<u32> {
    let prefix = format!("{}:", file.display());
    traceback.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix(&prefix)?;
        rest.split(':').next()?.parse().ok()
    })
}

/// Splits `file:12: message` into the line and the message when `file` is the
/// script's own file; other messages stay whole.
pub(crate) fn split_location(message: &str, file: &Path) -> (Option<u32>, String) {
    let prefix = format!("{}:", file.display());
    let Some(rest) = message.strip_prefix(&prefix) else {
        return (None, message.to_owned());
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    match (
        digits.parse::<u32>(),
        rest[digits.len()..].strip_prefix(':'),
    ) {
        (Ok(line), Some(text)) => (Some(line), text.trim().to_owned()),
        _ => (None, message.to_owned()),
    }
}
