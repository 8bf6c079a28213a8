//! The sandboxed Lua VM: an explicit standard library, nothing that reaches
//! the file system or the process, and `require` limited to `scripts/lib/`.
//!
//! What a script gets: the base functions without `load`, `loadfile`,
//! `dofile`, `collectgarbage`, `print` (replaced by a logger) and `warn`;
//! `string` (without `dump`; its pattern functions matched in Rust under the
//! call's deadline, [`super::patterns`]), `table`, `math`, `utf8`; `os.time`, `os.date`,
//! `os.clock`; `require` of text modules under `scripts/lib/`. No `io`, no
//! `debug`, no `package`, no `coroutine`, no binary chunks, no finalizers
//! (`__gc`), which could run outside any call's budget.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use super::limits::{Budget, Limits};
use super::patterns::{self, Capture, GMatch, GsubError, PatternError, Replacement};

const MODULES_KEY: &str = "mmsm.modules";

/// A fresh sandboxed VM with its limits set, and the budget driving its hook.
pub(crate) fn new_vm(lib_dir: Option<&Path>, limits: &Limits) -> mlua::Result<(Lua, Arc<Budget>)> {
    let lua = Lua::new_with(
        StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::OS,
        LuaOptions::new(),
    )?;
    let globals = lua.globals();
    for name in [
        "load",
        "loadfile",
        "dofile",
        "collectgarbage",
        "print",
        "warn",
        "require",
        "package",
    ] {
        globals.raw_set(name, Value::Nil)?;
    }
    globals
        .get::<Table>("string")?
        .raw_set("dump", Value::Nil)?;
    restrict_os(&lua, &globals)?;
    refuse_finalizers(&lua, &globals)?;
    install_require(&lua, &globals, lib_dir)?;
    let budget = Budget::install(&lua, limits.time)?;
    install_patterns(&lua, &globals, &budget)?;
    lua.set_memory_limit(limits.memory)?;
    Ok((lua, budget))
}

/// Replaces `os` with a table of `time`, `date` and `clock` only.
fn restrict_os(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let full: Table = globals.get("os")?;
    let os = lua.create_table()?;
    for name in ["time", "date", "clock"] {
        os.raw_set(name, full.get::<Function>(name)?)?;
    }
    globals.raw_set("os", os)
}

/// Wraps `setmetatable` so that a metatable with `__gc` is refused.
fn refuse_finalizers(lua: &Lua, globals: &Table) -> mlua::Result<()> {
    let original: Function = globals.get("setmetatable")?;
    let guarded = lua.create_function(move |_, (table, metatable): (Value, Value)| {
        if let Value::Table(mt) = &metatable {
            if !mt.raw_get::<Value>("__gc")?.is_nil() {
                return Err(mlua::Error::runtime(
                    "setmetatable: finalizers (__gc) are not allowed in scripts",
                ));
            }
        }
        original.call::<Value>((table, metatable))
    })?;
    globals.raw_set("setmetatable", guarded)
}

/// Replaces `string.find`, `match`, `gmatch` and `gsub` (also reached as
/// methods of strings) with [`patterns`], which stops at the call's deadline.
fn install_patterns(lua: &Lua, globals: &Table, budget: &Arc<Budget>) -> mlua::Result<()> {
    let string: Table = globals.get("string")?;
    let b = Arc::clone(budget);
    let find = lua.create_function(
        move |lua, (s, p, init, plain): (mlua::LuaString, mlua::LuaString, Option<i64>, Value)| {
            let plain = !matches!(plain, Value::Nil | Value::Boolean(false));
            find_or_match(lua, &b, (s, p, init), Some(plain))
        },
    )?;
    string.raw_set("find", find)?;
    let b = Arc::clone(budget);
    let matcher = lua.create_function(
        move |lua, (s, p, init): (mlua::LuaString, mlua::LuaString, Option<i64>)| {
            find_or_match(lua, &b, (s, p, init), None)
        },
    )?;
    string.raw_set("match", matcher)?;
    let b = Arc::clone(budget);
    let gmatch = lua.create_function(
        move |lua, (s, p, init): (mlua::LuaString, mlua::LuaString, Option<i64>)| {
            let len = s.as_bytes().len();
            let start = patterns::start_index(init.unwrap_or(1), len).unwrap_or(len + 1);
            let mut state = GMatch::new(start);
            let b = Arc::clone(&b);
            lua.create_function_mut(move |lua, ()| {
                let (src, pat) = (s.as_bytes(), p.as_bytes());
                let expired = || b.expired();
                match state.next(&src, &pat, &expired) {
                    Ok(Some(captures)) => to_values(lua, &src, &captures),
                    Ok(None) => Ok(MultiValue::new()),
                    Err(e) => Err(pattern_error(lua, &b, e)),
                }
            })
        },
    )?;
    string.raw_set("gmatch", gmatch)?;
    let b = Arc::clone(budget);
    let gsub = lua.create_function(
        move |lua, (s, p, repl, max): (mlua::LuaString, mlua::LuaString, Value, Option<i64>)| {
            gsub(lua, &b, (s, p), repl, max)
        },
    )?;
    string.raw_set("gsub", gsub)
}

fn find_or_match(
    lua: &Lua,
    budget: &Budget,
    (s, p, init): (mlua::LuaString, mlua::LuaString, Option<i64>),
    plain: Option<bool>,
) -> mlua::Result<MultiValue> {
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let Some(start) = patterns::start_index(init.unwrap_or(1), src.len()) else {
        return Ok(MultiValue::from_iter([Value::Nil]));
    };
    let expired = || budget.expired();
    let found = match plain {
        Some(plain) => patterns::find(&src, &pat, start, plain, &expired),
        None => patterns::search(&src, &pat, start, &expired),
    };
    let found = match found {
        Ok(Some(found)) => found,
        Ok(None) => return Ok(MultiValue::from_iter([Value::Nil])),
        Err(e) => return Err(pattern_error(lua, budget, e)),
    };
    let mut values = MultiValue::new();
    if plain.is_some() {
        values.push_back(Value::Integer(found.start as i64 + 1));
        values.push_back(Value::Integer(found.end as i64));
        if !found.has_captures {
            return Ok(values);
        }
    }
    values.extend(to_values(lua, &src, &found.captures)?);
    Ok(values)
}

fn gsub(
    lua: &Lua,
    budget: &Budget,
    (s, p): (mlua::LuaString, mlua::LuaString),
    repl: Value,
    max: Option<i64>,
) -> mlua::Result<MultiValue> {
    let (src, pat) = (s.as_bytes(), p.as_bytes());
    let max = max.map(|m| usize::try_from(m).unwrap_or(0));
    let expired = || budget.expired();
    let text;
    let mut lookup = |captures: &[Capture]| -> Result<Option<Vec<u8>>, String> {
        let value: Value = match &repl {
            Value::Table(table) => {
                let key = to_values(lua, &src, &captures[..1]).map_err(|e| e.to_string())?;
                table
                    .get(key.into_iter().next().unwrap_or(Value::Nil))
                    .map_err(|e| e.to_string())?
            }
            Value::Function(f) => f
                .call(to_values(lua, &src, captures).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?,
            _ => Value::Nil,
        };
        match value {
            Value::Nil | Value::Boolean(false) => Ok(None),
            Value::String(s) => Ok(Some(s.as_bytes().to_vec())),
            Value::Integer(i) => Ok(Some(i.to_string().into_bytes())),
            Value::Number(n) => Ok(Some(
                lua.coerce_string(Value::Number(n))
                    .ok()
                    .flatten()
                    .map_or_else(|| n.to_string().into_bytes(), |s| s.as_bytes().to_vec()),
            )),
            other => Err(format!(
                "invalid replacement value (a {})",
                other.type_name()
            )),
        }
    };
    let replacement = match &repl {
        Value::String(r) => {
            text = r.as_bytes();
            Replacement::Text(&text)
        }
        Value::Integer(_) | Value::Number(_) => {
            text = lua
                .coerce_string(repl.clone())?
                .map(|s| s.as_bytes())
                .ok_or_else(|| mlua::Error::runtime("bad argument #3 to 'gsub'"))?;
            Replacement::Text(&text)
        }
        Value::Table(_) | Value::Function(_) => Replacement::Lookup(&mut lookup),
        other => {
            return Err(mlua::Error::runtime(format!(
                "bad argument #3 to 'gsub' (string/function/table expected, got {})",
                other.type_name()
            )))
        }
    };
    match patterns::gsub(&src, &pat, replacement, max, &expired) {
        Ok((out, n)) => Ok(MultiValue::from_iter([
            Value::String(lua.create_string(out)?),
            Value::Integer(n as i64),
        ])),
        Err(GsubError::Pattern(e)) => Err(pattern_error(lua, budget, e)),
        Err(GsubError::Lua(message)) => Err(mlua::Error::runtime(message)),
    }
}

fn to_values(lua: &Lua, src: &[u8], captures: &[Capture]) -> mlua::Result<MultiValue> {
    captures
        .iter()
        .map(|c| match *c {
            Capture::Text(a, b) => lua.create_string(&src[a..b]).map(Value::String),
            Capture::Position(p) => Ok(Value::Integer(p as i64)),
        })
        .collect()
}

/// A malformed pattern is the script's error; a passed deadline stops the call.
fn pattern_error(lua: &Lua, budget: &Budget, e: PatternError) -> mlua::Error {
    match e {
        PatternError::Invalid(message) => mlua::Error::runtime(message),
        PatternError::OutOfTime => {
            // The nearest Lua caller's line (a `pcall` between has none).
            let line = (1..8)
                .find_map(|level| lua.inspect_stack(level, |d| d.current_line()).flatten())
                .and_then(|l| u32::try_from(l).ok());
            budget.trip(lua, line)
        }
    }
}

/// `require(name)`: loads `lib_dir/<name with dots as slashes>.lua` once per
/// VM, in text mode, and nothing outside `lib_dir`.
fn install_require(lua: &Lua, globals: &Table, lib_dir: Option<&Path>) -> mlua::Result<()> {
    lua.set_named_registry_value(MODULES_KEY, lua.create_table()?)?;
    let lib_dir = lib_dir.map(Path::to_path_buf);
    let require = lua.create_function(move |lua, name: String| {
        let modules: Table = lua.named_registry_value(MODULES_KEY)?;
        let cached: Value = modules.raw_get(name.as_str())?;
        if !cached.is_nil() {
            return Ok(cached);
        }
        check_module_name(&name).map_err(mlua::Error::runtime)?;
        let lib_dir = lib_dir.as_deref().ok_or_else(|| {
            mlua::Error::runtime(format!("require {name:?}: there is no scripts/lib folder"))
        })?;
        let (path, shown) = module_path(lib_dir, &name).map_err(mlua::Error::runtime)?;
        let source = std::fs::read(&path).map_err(|err| {
            mlua::Error::runtime(format!("require {name:?}: cannot read {shown}: {err}"))
        })?;
        let value: Value = lua
            .load(source)
            .set_name(format!("@{shown}"))
            .set_mode(ChunkMode::Text)
            .call(name.as_str())?;
        let value = if value.is_nil() {
            Value::Boolean(true)
        } else {
            value
        };
        modules.raw_set(name.as_str(), value.clone())?;
        Ok(value)
    })?;
    globals.raw_set("require", require)
}

/// A module name is dotted words: no path can be spelled with it.
fn check_module_name(name: &str) -> Result<(), String> {
    let valid_word = |word: &str| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if name.split('.').all(valid_word) {
        Ok(())
    } else {
        Err(format!(
            "require {name:?}: a module name is dotted words of letters, digits, '_' and '-', \
             found under scripts/lib/ only"
        ))
    }
}

/// The file of module `name` and its name as shown in messages
/// (`lib/isms.lua`). Refuses names that are not dotted words and files that
/// resolve (through links) outside `lib_dir`.
fn module_path(lib_dir: &Path, name: &str) -> Result<(PathBuf, String), String> {
    check_module_name(name)?;
    let relative: PathBuf = name.split('.').collect::<PathBuf>().with_extension("lua");
    let path = lib_dir.join(&relative);
    let folder = |dir: Option<&Path>| {
        dir.and_then(Path::file_name)
            .map_or_else(String::new, |name| format!("{}/", name.to_string_lossy()))
    };
    let shown = format!(
        "{}{}{}",
        folder(lib_dir.parent()),
        folder(Some(lib_dir)),
        relative.display()
    );
    let inside = match (path.canonicalize(), lib_dir.canonicalize()) {
        (Ok(file), Ok(dir)) => file.starts_with(dir),
        // A missing file is reported by the read that follows.
        _ => relative
            .components()
            .all(|c| matches!(c, Component::Normal(_))),
    };
    if !inside {
        return Err(format!(
            "require {name:?}: {shown} leads outside scripts/lib"
        ));
    }
    Ok((path, shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vm() -> Lua {
        new_vm(None, &Limits::default()).unwrap().0
    }

    #[test]
    fn only_the_allowed_globals_remain() {
        let lua = vm();
        let globals: Vec<String> = lua
            .globals()
            .pairs::<String, Value>()
            .map(|pair| pair.unwrap().0)
            .collect();
        for gone in [
            "io",
            "debug",
            "package",
            "load",
            "loadfile",
            "dofile",
            "coroutine",
            "print",
        ] {
            assert!(
                !globals.contains(&gone.to_string()),
                "{gone} must not be reachable"
            );
        }
        let os_keys: Vec<String> = lua
            .load("local keys = {} for k in pairs(os) do keys[#keys + 1] = k end table.sort(keys) return keys")
            .eval()
            .unwrap();
        assert_eq!(os_keys, ["clock", "date", "time"]);
        let dump: Value = lua.load("return string.dump").eval().unwrap();
        assert!(dump.is_nil());
    }

    #[test]
    fn finalizers_are_refused() {
        let lua = vm();
        let err = lua
            .load("setmetatable({}, { __gc = function() end })")
            .exec()
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("finalizers (__gc) are not allowed"),
            "{err}"
        );
        lua.load("assert(getmetatable(setmetatable({}, { __index = {} })))")
            .exec()
            .unwrap();
    }

    #[test]
    fn module_names_stay_inside_lib() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("scripts").join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        for name in ["../secret", "a/b", "", "a..b", "/etc/passwd"] {
            assert!(module_path(&lib, name).is_err(), "{name}");
        }
        let (path, shown) = module_path(&lib, "util.dates").unwrap();
        assert_eq!(path, lib.join("util").join("dates.lua"));
        assert_eq!(shown, "scripts/lib/util/dates.lua");
    }
}
