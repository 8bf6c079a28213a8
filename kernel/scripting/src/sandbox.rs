//! The sandboxed Lua VM: an explicit standard library, nothing that reaches
//! the file system or the process, and `require` limited to `scripts/lib/`.
//!
//! What a script gets: the base functions without `load`, `loadfile`,
//! `dofile`, `collectgarbage`, `print` (replaced by a logger) and `warn`;
//! `string` (without `dump`), `table`, `math`, `utf8`; `os.time`, `os.date`,
//! `os.clock`; `require` of text modules under `scripts/lib/`. No `io`, no
//! `debug`, no `package`, no `coroutine`, no binary chunks, no finalizers
//! (`__gc`), which could run outside any call's budget.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use mlua::chunk::ChunkMode;
use mlua::{Function, Lua, LuaOptions, StdLib, Table, Value};

use super::limits::{Budget, Limits};

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
