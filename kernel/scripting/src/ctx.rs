//! `ctx`, the only door from a script to the kernel: the data of the ISMS
//! being served, parse helpers done by serde, evidence files, time and log.
//!
//! One `register_*` function fills one table. The data fields (`ctx.users`,
//! `ctx.assets`, ...) are converted from the call's [`CtxData`] on first
//! access, so a call pays only for what it reads. The API is documented in
//! `scripts/README.md` and `scripts/lib/mmsm.d.lua`; a test keeps the latter
//! and [`register_api`] in step.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use mlua::serde::{DeserializeOptions, SerializeOptions};
use mlua::{Lua, LuaSerdeExt, Table, Value as LuaValue};
use serde_json::{Map, Value};

/// The data of the ISMS being served, as the kernel hands it to a call:
/// `enterprise`, `users`, `answers`, `assets`, `board`, `procedures`,
/// `events`, `certificates`, or whatever the caller puts in. Scripting knows
/// nothing of where it comes from. Cheap to clone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CtxData {
    data: Arc<Map<String, Value>>,
    now: Option<SystemTime>,
    evidence: Option<EvidenceHandle>,
}

/// The evidence files of the ISMS being served, as the kernel keeps them:
/// `ctx.evidence` reads them before the host's evidence folder.
pub trait EvidenceSource: Send + Sync {
    /// The contents of file `name`, or `None` when there is no such file.
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String>;
    /// The names of the files.
    fn names(&self) -> Result<Vec<String>, String>;
}

/// A shared [`EvidenceSource`]; two handles are equal when they are the same source.
#[derive(Clone)]
struct EvidenceHandle(Arc<dyn EvidenceSource>);

impl std::fmt::Debug for EvidenceHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EvidenceSource")
    }
}

impl PartialEq for EvidenceHandle {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl CtxData {
    /// Data from a JSON object's fields.
    pub fn new(data: Map<String, Value>) -> Self {
        CtxData {
            data: Arc::new(data),
            now: None,
            evidence: None,
        }
    }

    /// Data from a JSON value: its fields if it is an object, nothing otherwise.
    pub fn from_value(value: Value) -> Self {
        match value {
            Value::Object(map) => CtxData::new(map),
            _ => CtxData::default(),
        }
    }

    /// The same data with `ctx.now()` fixed at `now` (default: the clock at
    /// the time of the call), so that a run can be reproduced.
    pub fn at(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self
    }

    /// The same data with the ISMS's own evidence files, which
    /// `ctx.evidence` reads before the host's evidence folder.
    pub fn with_evidence(mut self, evidence: Arc<dyn EvidenceSource>) -> Self {
        self.evidence = Some(EvidenceHandle(evidence));
        self
    }

    /// The fields.
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// The time `ctx.now()` answers.
    pub fn now(&self) -> SystemTime {
        self.now.unwrap_or_else(SystemTime::now)
    }
}

/// The level of a `ctx.log` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// `ctx.log.debug`.
    Debug,
    /// `ctx.log.info` and `print`.
    Info,
    /// `ctx.log.warn`.
    Warn,
    /// `ctx.log.error`.
    Error,
}

impl LogLevel {
    /// `debug`, `info`, `warn`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// One line logged by a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord<'a> {
    /// The script's id (or file, while it loads).
    pub script: &'a str,
    /// The level.
    pub level: LogLevel,
    /// The message.
    pub message: &'a str,
}

/// Where the lines of `ctx.log` go.
pub type LogSink = Arc<dyn Fn(&LogRecord<'_>) + Send + Sync>;

/// A sink writing `[script] level: message` to standard error.
pub fn stderr_log() -> LogSink {
    Arc::new(|record: &LogRecord<'_>| {
        eprintln!(
            "[{}] {}: {}",
            record.script,
            record.level.as_str(),
            record.message
        );
    })
}

/// What `ctx` needs from the host's configuration.
#[derive(Clone)]
pub(crate) struct CtxEnv {
    pub evidence_dir: Option<PathBuf>,
    /// The largest evidence file a script may read (its memory limit).
    pub max_read: usize,
    pub log: LogSink,
}

/// Where the metatable of `ctx` keeps the API table, for [`api_functions`].
const API_KEY: &str = "__api";

/// The data of the call in progress (app data of the VM).
pub(crate) struct CallData(pub CtxData);

/// The id (or file) that log lines name (app data of the VM).
pub(crate) struct ScriptLabel(pub String);

/// Lua values from JSON: `null` becomes `nil`, lists keep an array marker so
/// that they come back as lists.
pub(crate) fn to_lua(lua: &Lua, value: &Value) -> mlua::Result<LuaValue> {
    lua.to_value_with(
        value,
        SerializeOptions::new()
            .serialize_none_to_null(false)
            .serialize_unit_to_null(false),
    )
}

/// JSON from a Lua value; functions and other non-data values are errors.
pub(crate) fn from_lua(lua: &Lua, value: LuaValue) -> mlua::Result<Value> {
    lua.from_value_with(value, DeserializeOptions::new().sort_keys(true))
}

/// Builds the API table and the metatable of `ctx`, and replaces `print` by
/// `ctx.log.info`. Returns the metatable that [`new_ctx`] gives each call's `ctx`.
pub(crate) fn register_api(lua: &Lua, env: &CtxEnv) -> mlua::Result<Table> {
    let api = lua.create_table()?;
    register_now(lua, &api)?;
    register_log(lua, &api, &env.log)?;
    register_json(lua, &api)?;
    register_yaml(lua, &api)?;
    register_csv(lua, &api)?;
    register_evidence(lua, &api, env.evidence_dir.clone(), env.max_read)?;
    let info: mlua::Function = api.get::<Table>("log")?.get("info")?;
    let print = lua.create_function(move |lua, args: mlua::MultiValue| {
        let tostring: mlua::Function = lua.globals().get("tostring")?;
        let parts = args
            .into_iter()
            .map(|arg| tostring.call::<String>(arg))
            .collect::<mlua::Result<Vec<_>>>()?;
        info.call::<()>(parts.join("\t"))
    })?;
    lua.globals().raw_set("print", print)?;

    let meta = lua.create_table()?;
    meta.raw_set(API_KEY, api.clone())?;
    let index = lua.create_function(move |lua, (ctx, key): (Table, LuaValue)| {
        let LuaValue::String(key) = key else {
            return Ok(LuaValue::Nil);
        };
        let function: LuaValue = api.raw_get(&key)?;
        if !function.is_nil() {
            return Ok(function);
        }
        let key = key.to_str()?.to_owned();
        let value = match lua.app_data_ref::<CallData>() {
            Some(call) => match call.0.data().get(&key) {
                Some(json) => to_lua(lua, json)?,
                None => return Ok(LuaValue::Nil),
            },
            None => return Ok(LuaValue::Nil),
        };
        ctx.raw_set(key, value.clone())?;
        Ok(value)
    })?;
    meta.raw_set("__index", index)?;
    meta.raw_set("__metatable", "ctx")?;
    Ok(meta)
}

/// A fresh `ctx` for one call.
pub(crate) fn new_ctx(lua: &Lua, meta: &Table) -> mlua::Result<Table> {
    let ctx = lua.create_table()?;
    ctx.set_metatable(Some(meta.clone()))?;
    Ok(ctx)
}

/// `ctx.now() -> integer`: seconds since 1970 (UTC), fixed for the call.
fn register_now(lua: &Lua, api: &Table) -> mlua::Result<()> {
    let now = lua.create_function(|lua, ()| {
        let now = lua
            .app_data_ref::<CallData>()
            .map_or_else(SystemTime::now, |call| call.0.now());
        Ok(now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64))
    })?;
    api.raw_set("now", now)
}

/// `ctx.log.debug|info|warn|error(message)`.
fn register_log(lua: &Lua, api: &Table, sink: &LogSink) -> mlua::Result<()> {
    let log = lua.create_table()?;
    for level in [
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
    ] {
        let sink = Arc::clone(sink);
        let function = lua.create_function(move |lua, message: String| {
            let label = lua.app_data_ref::<ScriptLabel>();
            let script = label.as_ref().map_or("script", |label| label.0.as_str());
            sink(&LogRecord {
                script,
                level,
                message: &message,
            });
            Ok(())
        })?;
        log.raw_set(level.as_str(), function)?;
    }
    api.raw_set("log", log)
}

/// `ctx.json.decode(text) -> any` and `ctx.json.encode(value, {pretty}) -> string`.
fn register_json(lua: &Lua, api: &Table) -> mlua::Result<()> {
    let json = lua.create_table()?;
    json.raw_set(
        "decode",
        lua.create_function(|lua, text: mlua::LuaString| {
            let value: Value = serde_json::from_slice(&text.as_bytes())
                .map_err(|err| mlua::Error::runtime(format!("ctx.json.decode: {err}")))?;
            to_lua(lua, &value)
        })?,
    )?;
    json.raw_set(
        "encode",
        lua.create_function(|lua, (value, options): (LuaValue, Option<Table>)| {
            let value = from_lua(lua, value)
                .map_err(|err| mlua::Error::runtime(format!("ctx.json.encode: {err}")))?;
            let pretty = options
                .map(|o| o.get::<bool>("pretty"))
                .transpose()?
                .unwrap_or(false);
            let text = if pretty {
                serde_json::to_string_pretty(&value)
            } else {
                serde_json::to_string(&value)
            };
            text.map_err(|err| mlua::Error::runtime(format!("ctx.json.encode: {err}")))
        })?,
    )?;
    api.raw_set("json", json)
}

/// `ctx.yaml.decode(text) -> any` and `ctx.yaml.encode(value) -> string`.
fn register_yaml(lua: &Lua, api: &Table) -> mlua::Result<()> {
    let yaml = lua.create_table()?;
    yaml.raw_set(
        "decode",
        lua.create_function(|lua, text: String| {
            let value: Value = serde_saphyr::from_str(&text)
                .map_err(|err| mlua::Error::runtime(format!("ctx.yaml.decode: {err}")))?;
            to_lua(lua, &value)
        })?,
    )?;
    yaml.raw_set(
        "encode",
        lua.create_function(|lua, value: LuaValue| {
            let value = from_lua(lua, value)
                .map_err(|err| mlua::Error::runtime(format!("ctx.yaml.encode: {err}")))?;
            serde_saphyr::to_string(&value)
                .map_err(|err| mlua::Error::runtime(format!("ctx.yaml.encode: {err}")))
        })?,
    )?;
    api.raw_set("yaml", yaml)
}

/// `ctx.csv.decode(text, {headers, delimiter}) -> rows` and
/// `ctx.csv.encode(rows, {columns, delimiter}) -> string`.
fn register_csv(lua: &Lua, api: &Table) -> mlua::Result<()> {
    let csv_table = lua.create_table()?;
    csv_table.raw_set(
        "decode",
        lua.create_function(|lua, (text, options): (mlua::LuaString, Option<Table>)| {
            let headers = option::<bool>(&options, "headers")?.unwrap_or(true);
            let delimiter = delimiter(&options, "ctx.csv.decode")?;
            let rows = decode_csv(&text.as_bytes(), headers, delimiter)
                .map_err(|err| mlua::Error::runtime(format!("ctx.csv.decode: {err}")))?;
            to_lua(lua, &rows)
        })?,
    )?;
    csv_table.raw_set(
        "encode",
        lua.create_function(|lua, (rows, options): (LuaValue, Option<Table>)| {
            let rows = from_lua(lua, rows)
                .map_err(|err| mlua::Error::runtime(format!("ctx.csv.encode: {err}")))?;
            let columns = option::<Vec<String>>(&options, "columns")?;
            let delimiter = delimiter(&options, "ctx.csv.encode")?;
            encode_csv(&rows, columns, delimiter)
                .map_err(|err| mlua::Error::runtime(format!("ctx.csv.encode: {err}")))
        })?,
    )?;
    api.raw_set("csv", csv_table)
}

fn option<T: mlua::FromLua>(options: &Option<Table>, key: &str) -> mlua::Result<Option<T>> {
    options
        .as_ref()
        .map_or(Ok(None), |o| o.get::<Option<T>>(key))
}

fn delimiter(options: &Option<Table>, function: &str) -> mlua::Result<u8> {
    match option::<String>(options, "delimiter")? {
        None => Ok(b','),
        Some(d) if d.len() == 1 => Ok(d.as_bytes()[0]),
        Some(d) => Err(mlua::Error::runtime(format!(
            "{function}: the delimiter must be one ASCII character, found {d:?}"
        ))),
    }
}

/// Rows of a CSV text: records keyed by the header row, or lists of fields.
pub(crate) fn decode_csv(text: &[u8], headers: bool, delimiter: u8) -> Result<Value, csv::Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(headers)
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text);
    let names = if headers {
        Some(reader.headers()?.clone())
    } else {
        None
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record?;
        rows.push(match &names {
            Some(names) => Value::Object(
                names
                    .iter()
                    .zip(record.iter())
                    .map(|(name, field)| (name.to_owned(), Value::String(field.to_owned())))
                    .collect(),
            ),
            None => Value::Array(record.iter().map(|f| Value::String(f.to_owned())).collect()),
        });
    }
    Ok(Value::Array(rows))
}

/// A CSV text from rows of records (with a header row: `columns`, or the
/// sorted keys of the first record) or of lists.
pub(crate) fn encode_csv(
    rows: &Value,
    columns: Option<Vec<String>>,
    delimiter: u8,
) -> Result<String, String> {
    let rows: &[Value] = match rows {
        Value::Array(rows) => rows,
        Value::Object(map) if map.is_empty() => &[],
        other => {
            return Err(format!(
                "rows must be a list, found {}",
                super::describe(other)
            ))
        }
    };
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_writer(Vec::new());
    let columns = columns.or_else(|| match rows.first() {
        Some(Value::Object(first)) => Some(first.keys().cloned().collect()),
        _ => None,
    });
    if let Some(columns) = &columns {
        writer.write_record(columns).map_err(|e| e.to_string())?;
    }
    for (index, row) in rows.iter().enumerate() {
        let fields: Vec<String> = match (row, &columns) {
            (Value::Object(record), Some(columns)) => columns
                .iter()
                .map(|c| record.get(c).map_or_else(String::new, csv_field))
                .collect(),
            (Value::Array(fields), _) => fields.iter().map(csv_field).collect(),
            (other, _) => {
                return Err(format!(
                    "row {} must be a record or a list, found {}",
                    index + 1,
                    super::describe(other)
                ))
            }
        };
        writer.write_record(&fields).map_err(|e| e.to_string())?;
    }
    let bytes = writer.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

fn csv_field(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `ctx.evidence.read(path) -> string` and `ctx.evidence.list(folder?) -> {path}`:
/// the ISMS's own evidence files first (when the call has them), then the
/// evidence folder (`--evidence DIR`), to which paths are confined.
fn register_evidence(
    lua: &Lua,
    api: &Table,
    dir: Option<PathBuf>,
    max_read: usize,
) -> mlua::Result<()> {
    let evidence = lua.create_table()?;
    let read_dir = dir.clone();
    evidence.raw_set(
        "read",
        lua.create_function(move |lua, path: String| {
            let too_big = |size: u64| {
                mlua::Error::runtime(format!(
                    "ctx.evidence.read: {path} has {size} bytes, more than the script may hold ({max_read})"
                ))
            };
            let stored = call_evidence(lua);
            if let Some(source) = &stored {
                let found = source
                    .read(&path)
                    .map_err(|err| mlua::Error::runtime(format!("ctx.evidence.read: {err}")))?;
                if let Some(bytes) = found {
                    if bytes.len() > max_read {
                        return Err(too_big(bytes.len() as u64));
                    }
                    return lua.create_string(bytes);
                }
                if read_dir.is_none() {
                    return Err(mlua::Error::runtime(format!(
                        "ctx.evidence.read: {path} is not among the ISMS's evidence files: add it on the Metrics page or with `mmsm isms evidence add ISMS FILE`"
                    )));
                }
            }
            let file = resolve_evidence(read_dir.as_deref(), &path)
                .map_err(|err| mlua::Error::runtime(format!("ctx.evidence.read: {err}")))?;
            let fail = |err: std::io::Error| mlua::Error::runtime(format!("ctx.evidence.read: cannot read {path}: {err}"));
            let size = std::fs::metadata(&file).map_err(fail)?.len();
            if size > max_read as u64 {
                return Err(too_big(size));
            }
            lua.create_string(std::fs::read(&file).map_err(fail)?)
        })?,
    )?;
    evidence.raw_set(
        "list",
        lua.create_function(move |lua, folder: Option<String>| {
            let folder = folder.unwrap_or_default();
            let top = folder.is_empty() || folder == ".";
            let mut names = Vec::new();
            let stored = call_evidence(lua);
            if let (Some(source), true) = (&stored, top) {
                names.extend(
                    source
                        .names()
                        .map_err(|err| mlua::Error::runtime(format!("ctx.evidence.list: {err}")))?,
                );
            }
            if stored.is_none() || dir.is_some() {
                names.extend(list_folder(dir.as_deref(), &folder)?);
            }
            names.sort();
            names.dedup();
            to_lua(lua, &Value::from(names))
        })?,
    )?;
    api.raw_set("evidence", evidence)
}

/// The ISMS evidence of the call in progress, if the kernel gave one.
fn call_evidence(lua: &Lua) -> Option<Arc<dyn EvidenceSource>> {
    lua.app_data_ref::<CallData>()
        .and_then(|call| call.0.evidence.as_ref().map(|h| Arc::clone(&h.0)))
}

/// The entries of `folder` inside the evidence folder (`name/` for a folder).
fn list_folder(dir: Option<&Path>, folder: &str) -> mlua::Result<Vec<String>> {
    let path = resolve_evidence(dir, if folder.is_empty() { "." } else { folder })
        .map_err(|err| mlua::Error::runtime(format!("ctx.evidence.list: {err}")))?;
    let entries = std::fs::read_dir(&path).map_err(|err| {
        mlua::Error::runtime(format!("ctx.evidence.list: cannot list {folder:?}: {err}"))
    })?;
    let prefix = folder.trim_end_matches('/');
    let mut names = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let slash = if entry.path().is_dir() { "/" } else { "" };
        names.push(if prefix.is_empty() || prefix == "." {
            format!("{name}{slash}")
        } else {
            format!("{prefix}/{name}{slash}")
        });
    }
    Ok(names)
}

/// The file `relative` names inside the evidence folder, refusing absolute
/// paths, `..`, and links leading outside.
pub(crate) fn resolve_evidence(dir: Option<&Path>, relative: &str) -> Result<PathBuf, String> {
    let dir = dir.ok_or("no evidence folder is configured (--evidence DIR)")?;
    let path = Path::new(relative);
    if path.is_absolute()
        || !path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "{relative:?} must be a relative path inside the evidence folder"
        ));
    }
    let file = dir
        .join(path)
        .canonicalize()
        .map_err(|err| format!("cannot read {relative}: {err}"))?;
    let root = dir.canonicalize().map_err(|err| {
        format!(
            "the evidence folder {} cannot be read: {err}",
            dir.display()
        )
    })?;
    if !file.starts_with(&root) {
        return Err(format!("{relative} leads outside the evidence folder"));
    }
    Ok(file)
}

/// The dotted names of every function of the API (`ctx.json.decode`), sorted.
#[cfg(test)]
pub(crate) fn api_functions(meta: &Table) -> mlua::Result<Vec<String>> {
    fn walk(prefix: &str, table: &Table, out: &mut Vec<String>) -> mlua::Result<()> {
        for pair in table.pairs::<String, LuaValue>() {
            let (key, value) = pair?;
            let name = format!("{prefix}.{key}");
            match value {
                LuaValue::Function(_) => out.push(name),
                LuaValue::Table(inner) => walk(&name, &inner, out)?,
                _ => {}
            }
        }
        Ok(())
    }
    let api: Table = meta.raw_get(API_KEY)?;
    let mut names = Vec::new();
    walk("ctx", &api, &mut names)?;
    names.sort();
    Ok(names)
}
