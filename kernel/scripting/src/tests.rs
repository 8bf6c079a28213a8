//! The Lua host through its public face: sandbox, limits, ctx API, errors.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, UNIX_EPOCH};

use serde_json::{json, Value};

use super::*;

fn config(memory: usize, time: Duration) -> HostConfig {
    HostConfig {
        limits: Limits { memory, time },
        ..HostConfig::default()
    }
}

fn small_limits() -> HostConfig {
    config(16 * 1024 * 1024, Duration::from_millis(300))
}

/// A metric whose `collect` runs `body`.
fn metric(id: &str, body: &str) -> String {
    format!(
        "return {{\n  id = {id:?}, kind = \"metric\", name = \"test\",\n  collect = function(ctx)\n{body}\n  end,\n}}\n"
    )
}

fn load(source: &str, config: &HostConfig) -> Result<LuaScript, ScriptError> {
    let file = PathBuf::from("scripts/metrics/test.lua");
    LuaScript::load(
        source.as_bytes(),
        &file,
        None,
        Some(ScriptKind::Metric),
        config,
    )
}

fn collect(script: &LuaScript, ctx: &CtxData) -> Result<Value, ScriptError> {
    script.call("collect", &[], Some(ctx))
}

fn collect_error(body: &str) -> String {
    let script = load(&metric("escape", body), &small_limits()).expect("the script loads");
    collect(&script, &CtxData::default())
        .unwrap_err()
        .to_string()
}

#[test]
fn sandbox_escapes_are_refused() {
    let cases = [
        (
            "return io.open('/etc/passwd')",
            "attempt to index a nil value (global 'io')",
        ),
        (
            "return os.execute('true')",
            "attempt to call a nil value (field 'execute')",
        ),
        (
            "return os.getenv('HOME')",
            "attempt to call a nil value (field 'getenv')",
        ),
        (
            "return load('\\27Lua')",
            "attempt to call a nil value (global 'load')",
        ),
        (
            "return dofile('/etc/passwd')",
            "attempt to call a nil value (global 'dofile')",
        ),
        (
            "return package.loadlib('libc.so.6', 'system')",
            "global 'package'",
        ),
        ("return debug.getinfo(1)", "global 'debug'"),
        ("return require('../../etc/passwd')", "dotted words"),
        (
            "return string.dump(function() end)",
            "attempt to call a nil value (field 'dump')",
        ),
    ];
    for (body, expected) in cases {
        let err = collect_error(body);
        assert!(err.contains(expected), "{body}: {err}");
        assert!(
            err.starts_with("metric escape (scripts/metrics/test.lua:4): collect: "),
            "{err}"
        );
    }
}

#[test]
fn a_binary_chunk_is_refused_as_a_script() {
    let unrestricted = mlua::Lua::new();
    let compiled: mlua::Function = unrestricted
        .load(metric("binary", "return 1").as_str())
        .into_function()
        .unwrap();
    let binary = compiled.dump(false);
    let file = PathBuf::from("scripts/metrics/binary.lua");
    let err = LuaScript::load(&binary, &file, None, None, &small_limits()).unwrap_err();
    assert!(
        err.to_string().contains("attempt to load a binary chunk"),
        "{err}"
    );
}

#[test]
fn require_reads_scripts_lib_only() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("scripts").join("lib");
    std::fs::create_dir_all(lib.join("util")).unwrap();
    std::fs::write(
        lib.join("util").join("twice.lua"),
        "return function(x) return 2 * x end",
    )
    .unwrap();
    std::fs::write(dir.path().join("secret.lua"), "return 'outside'").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret.lua"), lib.join("escape.lua")).unwrap();
    let file = PathBuf::from("scripts/metrics/test.lua");
    let source = metric(
        "req",
        "local twice = require('util.twice')\n assert(require('util.twice') == twice)\n return twice(21)",
    );
    let script =
        LuaScript::load(source.as_bytes(), &file, Some(&lib), None, &small_limits()).unwrap();
    assert_eq!(collect(&script, &CtxData::default()).unwrap(), json!(42));

    let outside = |module: &str| {
        let body = format!("return require({module:?})");
        let script = LuaScript::load(
            metric("req", &body).as_bytes(),
            &file,
            Some(&lib),
            None,
            &small_limits(),
        )
        .unwrap();
        collect(&script, &CtxData::default())
            .unwrap_err()
            .to_string()
    };
    assert!(outside("..secret").contains("dotted words"));
    assert!(outside("missing").contains("cannot read scripts/lib/missing.lua"));
    #[cfg(unix)]
    assert!(
        outside("escape").contains("leads outside scripts/lib"),
        "{}",
        outside("escape")
    );
}

#[test]
fn an_infinite_loop_is_stopped_with_the_scripts_id() {
    let started = Instant::now();
    let err = collect_error("while true do end");
    assert!(
        err.starts_with(
            "metric escape (scripts/metrics/test.lua:4): collect exceeded its time budget of 300ms"
        ),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn pcall_cannot_swallow_the_time_budget() {
    let err = collect_error("while true do pcall(function() while true do end end) end");
    assert!(err.contains("exceeded its time budget"), "{err}");
}

#[test]
fn a_loop_in_the_body_of_the_file_is_stopped_too() {
    let err = load("while true do end", &small_limits()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "scripts/metrics/test.lua:1: load exceeded its time budget of 300ms"
    );
}

#[test]
fn a_memory_bomb_is_stopped_with_the_scripts_id() {
    for body in [
        "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(1024) .. i end",
        "return ('x'):rep(1 << 30)",
        "local s = 'x' while true do s = s .. s end",
    ] {
        // A generous time budget, so that on a loaded machine the memory limit
        // (the one under test) is always the first to trip.
        let roomy = config(16 * 1024 * 1024, Duration::from_secs(30));
        let script = load(&metric("escape", body), &roomy).expect("the script loads");
        let err = collect(&script, &CtxData::default())
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("metric escape (scripts/metrics/test.lua): collect exceeded the memory limit of 16 MiB"),
            "{body}: {err}"
        );
    }
}

#[test]
fn a_script_keeps_working_after_running_out_of_time_or_memory() {
    let source = metric(
        "recovering",
        "if ctx.mode == 'loop' then while true do end end\n\
         if ctx.mode == 'bomb' then local s = 'x' while true do s = s .. s end end\n\
         return 7",
    );
    let script = load(&source, &small_limits()).unwrap();
    let mode = |m: &str| CtxData::from_value(json!({ "mode": m }));
    assert!(collect(&script, &mode("loop")).is_err());
    assert_eq!(collect(&script, &mode("none")).unwrap(), json!(7));
    assert!(collect(&script, &mode("bomb")).is_err());
    assert_eq!(collect(&script, &mode("none")).unwrap(), json!(7));
}

#[test]
fn runtime_errors_name_id_file_and_line() {
    let source = metric("failing", "local x = nil\n return x.field");
    let script = load(&source, &small_limits()).unwrap();
    let err = collect(&script, &CtxData::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric failing (scripts/metrics/test.lua:5): collect: attempt to index a nil value (local 'x')"
    );
    let err = load(
        &metric("thrower", "error('no backups found')"),
        &small_limits(),
    )
    .unwrap()
    .call("collect", &[], Some(&CtxData::default()))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "metric thrower (scripts/metrics/test.lua:4): collect: no backups found"
    );
}

#[test]
fn load_errors_say_what_is_wrong() {
    let limits = small_limits();
    let syntax = load("return {", &limits).unwrap_err();
    assert!(
        syntax
            .to_string()
            .starts_with("scripts/metrics/test.lua:1: "),
        "{syntax}"
    );
    let nothing = load("local x = 1", &limits).unwrap_err();
    assert_eq!(
        nothing.to_string(),
        "scripts/metrics/test.lua: the script must return its declaration table, it returned nil"
    );
    let wrong_kind = load(
        "return { id = 'imp', kind = 'importer', name = 'x', formats = {'csv'}, import = function() end }",
        &limits,
    )
    .unwrap_err();
    assert!(
        wrong_kind.to_string().contains("lives in scripts/metrics/"),
        "{wrong_kind}"
    );
    let no_collect = load("return { id = 'm', kind = 'metric', name = 'x' }", &limits).unwrap_err();
    assert!(no_collect
        .to_string()
        .ends_with("a metric must have a function collect"));
}

#[test]
fn results_must_be_data() {
    let script = load(&metric("fn", "return function() end"), &small_limits()).unwrap();
    let err = collect(&script, &CtxData::default()).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "metric fn (scripts/metrics/test.lua): collect returned a value that is not data"
        ),
        "{err}"
    );
    let script = load(&metric("nothing", "return nil"), &small_limits()).unwrap();
    assert_eq!(collect(&script, &CtxData::default()).unwrap(), Value::Null);
    assert!(matches!(
        script.call("score", &[json!(1)], None),
        Err(ScriptError::NoSuchFunction { .. })
    ));
}

#[test]
fn ctx_reads_the_data_of_the_call() {
    let source = metric(
        "data",
        "local active = 0\n\
         for _, user in ipairs(ctx.users) do if user.active ~= false then active = active + 1 end end\n\
         return { active = active, enterprise = ctx.enterprise.name, missing = ctx.assets == nil,\n\
                  manager = ctx.users[1].manager == nil, now = ctx.now() }",
    );
    let script = load(&source, &small_limits()).unwrap();
    let ctx = CtxData::from_value(json!({
        "enterprise": {"name": "Acme"},
        "users": [{"id": "ana", "manager": null}, {"id": "bo", "active": false}],
    }))
    .at(UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    assert_eq!(
        collect(&script, &ctx).unwrap(),
        json!({"active": 1, "enterprise": "Acme", "missing": true, "manager": true, "now": 1_700_000_000})
    );
}

#[test]
fn ctx_parses_and_writes_json_yaml_and_csv() {
    let source = metric(
        "formats",
        r#"local j = ctx.json.decode('{"a": [1, 2, {"b": null}], "c": "x"}')
        local y = ctx.yaml.decode("name: Acme\nsizes: [micro, small]\n")
        local rows = ctx.csv.decode("user;mfa\nana;yes\nbo;no\n", { delimiter = ";" })
        local plain = ctx.csv.decode("1,2\n3,4\n", { headers = false })
        return {
          json = ctx.json.encode(j), yaml_name = y.name, sizes = #y.sizes,
          mfa = rows[2].mfa, plain = plain[2][1],
          csv = ctx.csv.encode(rows, { columns = { "user", "mfa" } }),
          yaml = ctx.yaml.decode(ctx.yaml.encode({ k = "v" })).k,
          pretty = ctx.json.encode({ 1, 2 }, { pretty = true }),
        }"#,
    );
    let script = load(&source, &small_limits()).unwrap();
    let result = collect(&script, &CtxData::default()).unwrap();
    assert_eq!(result["json"], json!(r#"{"a":[1,2,{}],"c":"x"}"#));
    assert_eq!(result["yaml_name"], json!("Acme"));
    assert_eq!(result["sizes"], json!(2));
    assert_eq!(result["mfa"], json!("no"));
    assert_eq!(result["plain"], json!("3"));
    assert_eq!(result["csv"], json!("user,mfa\nana,yes\nbo,no\n"));
    assert_eq!(result["yaml"], json!("v"));
    assert_eq!(result["pretty"], json!("[\n  1,\n  2\n]"));

    let err = collect_error("return ctx.json.decode('{oops')");
    assert!(
        err.contains("collect: ctx.json.decode: key must be a string at line 1 column 2"),
        "{err}"
    );
}

#[test]
fn ctx_evidence_reads_inside_the_evidence_folder_only() {
    let dir = tempfile::tempdir().unwrap();
    let evidence = dir.path().join("evidence");
    std::fs::create_dir_all(evidence.join("logs")).unwrap();
    std::fs::write(evidence.join("logs").join("auth.log"), "ok\nfail\n").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), evidence.join("link.txt")).unwrap();
    let config = HostConfig {
        evidence_dir: Some(evidence),
        ..small_limits()
    };
    let run = |body: &str| {
        let script = load(&metric("evidence", body), &config).unwrap();
        collect(&script, &CtxData::default()).map_err(|e| e.to_string())
    };
    assert_eq!(
        run("return ctx.evidence.read('logs/auth.log')").unwrap(),
        json!("ok\nfail\n")
    );
    assert_eq!(
        run("return ctx.evidence.list('logs')").unwrap(),
        json!(["logs/auth.log"])
    );
    #[cfg(unix)]
    assert_eq!(
        run("return ctx.evidence.list()").unwrap(),
        json!(["link.txt", "logs/"])
    );
    for (path, expected) in [
        (
            "../secret.txt",
            "must be a relative path inside the evidence folder",
        ),
        (
            "/etc/passwd",
            "must be a relative path inside the evidence folder",
        ),
        (
            "logs/../../secret.txt",
            "must be a relative path inside the evidence folder",
        ),
        ("missing.csv", "cannot read missing.csv"),
    ] {
        let err = run(&format!("return ctx.evidence.read({path:?})")).unwrap_err();
        assert!(err.contains(expected), "{path}: {err}");
    }
    #[cfg(unix)]
    assert!(run("return ctx.evidence.read('link.txt')")
        .unwrap_err()
        .contains("leads outside the evidence folder"));

    let script = load(
        &metric("no-evidence", "return ctx.evidence.read('x')"),
        &small_limits(),
    )
    .unwrap();
    let err = collect(&script, &CtxData::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no evidence folder is configured (--evidence DIR)"),
        "{err}"
    );
}

/// An ISMS's own evidence, as the kernel hands it to a call.
struct Files(Vec<(&'static str, &'static str)>);

impl crate::EvidenceSource for Files {
    fn read(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self
            .0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| text.as_bytes().to_vec()))
    }

    fn names(&self) -> Result<Vec<String>, String> {
        Ok(self.0.iter().map(|(n, _)| n.to_string()).collect())
    }
}

#[test]
fn ctx_evidence_reads_the_isms_files_before_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("backups.csv"), "from the folder").unwrap();
    std::fs::write(dir.path().join("scans.csv"), "folder only").unwrap();
    let own = std::sync::Arc::new(Files(vec![("backups.csv", "from the ISMS")]));
    let ctx = CtxData::default().with_evidence(own);
    let with_folder = HostConfig {
        evidence_dir: Some(dir.path().to_owned()),
        ..small_limits()
    };
    let run = |config: &HostConfig, body: &str| {
        let script = load(&metric("evidence", body), config).unwrap();
        collect(&script, &ctx).map_err(|e| e.to_string())
    };
    assert_eq!(
        run(&with_folder, "return ctx.evidence.read('backups.csv')").unwrap(),
        json!("from the ISMS")
    );
    assert_eq!(
        run(&with_folder, "return ctx.evidence.read('scans.csv')").unwrap(),
        json!("folder only")
    );
    assert_eq!(
        run(&with_folder, "return ctx.evidence.list()").unwrap(),
        json!(["backups.csv", "scans.csv"])
    );
    // Without a folder, the ISMS's files alone, and a clear word on what is missing.
    assert_eq!(
        run(&small_limits(), "return ctx.evidence.list()").unwrap(),
        json!(["backups.csv"])
    );
    let err = run(&small_limits(), "return ctx.evidence.read('scans.csv')").unwrap_err();
    assert!(
        err.contains("scans.csv is not among the ISMS's evidence files"),
        "{err}"
    );
}

#[test]
fn ctx_log_and_print_reach_the_sink_with_the_scripts_id() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink_lines = Arc::clone(&lines);
    let config = HostConfig {
        log: Arc::new(move |record: &LogRecord<'_>| {
            sink_lines.lock().unwrap().push(format!(
                "{} {} {}",
                record.script,
                record.level.as_str(),
                record.message
            ));
        }),
        ..small_limits()
    };
    let script = load(
        &metric(
            "talker",
            "ctx.log.warn('late backup')\n print('a', 1, true)\n return 0",
        ),
        &config,
    )
    .unwrap();
    collect(&script, &CtxData::default()).unwrap();
    assert_eq!(
        *lines.lock().unwrap(),
        ["talker warn late backup", "talker info a\t1\ttrue"]
    );
}

/// `scripts/lib/mmsm.d.lua` declares exactly the functions `ctx` registers.
#[test]
fn the_luals_annotations_match_the_registered_api() {
    let meta = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/lib/mmsm.d.lua");
    let text = std::fs::read_to_string(&meta).expect("scripts/lib/mmsm.d.lua exists");
    assert!(text.starts_with("---@meta"));
    assert!(text.contains("error('Cannot require a meta file')"));
    let mut declared: Vec<String> = text
        .lines()
        .filter_map(|line| line.strip_prefix("function ctx."))
        .filter_map(|rest| rest.split('(').next())
        .map(|name| format!("ctx.{name}"))
        .collect();
    declared.sort();
    let script = load(&metric("api", "return 0"), &small_limits()).unwrap();
    assert_eq!(declared, script.ctx_functions());
    assert!(declared.len() >= 13, "{declared:?}");
}

#[test]
fn pattern_bombs_stop_within_the_budget_and_pcall_cannot_swallow_them() {
    // Lua's C matcher backtracks for hours on these; the hook never fires
    // inside a C function (issue 18).
    for body in [
        "return string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')",
        "return (string.rep('a', 40)):match(string.rep('a-', 40) .. 'b')",
        "return string.gsub(string.rep('a', 40), string.rep('.-', 40) .. 'b', 'x')",
        "for w in string.gmatch(string.rep('a', 40), string.rep('a*', 40) .. 'b') do end",
        "return string.find(string.rep('a', 300000), 'a*b')",
        "while true do pcall(string.find, string.rep('a', 40), string.rep('a*', 40) .. 'b') end",
    ] {
        let started = Instant::now();
        let err = collect_error(body);
        assert!(
            err.starts_with(
                "metric escape (scripts/metrics/test.lua:4): collect exceeded its time budget of 300ms"
            ),
            "{body}: {err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{body}: {:?}",
            started.elapsed()
        );
    }
}

/// Runs `calls` (Lua expressions over `s` and `p`) for every subject and
/// pattern, and returns what each gave, printed.
const DIFFERENTIAL: &str = r##"
local function show(ok, ...)
  if not ok then return "error" end
  local out = {}
  for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end
  return table.concat(out, ",")
end
local function gm(s, p)
  local out = {}
  for a, b in string.gmatch(s, p) do
    out[#out + 1] = tostring(a) .. "/" .. tostring(b)
    if #out > 50 then break end
  end
  return table.concat(out, ";")
end
local tokens = { "a", "b", "%a", "%d", "%s", "%W", ".", "[ab]", "[^a]", "[a-c]", "[%d)]",
  "*", "+", "-", "?", "(", ")", "()", "%b()", "%f[%a]", "^", "$", "%1", "%", "[" }
local subjects = { "", "a", "ab(1) b", "aab((b)) 12 ", "ba ab  (a(b)c)", "xyz 9a" }
local seed = 7
local function rand(n) seed = (seed * 1103515245 + 12345) % 2147483648 return seed % n + 1 end
local lines = {}
for _ = 1, 1500 do
  local parts = {}
  for _ = 1, rand(5) do parts[#parts + 1] = tokens[rand(#tokens)] end
  local p = table.concat(parts)
  local s = subjects[rand(#subjects)]
  local init = rand(5) - 2
  lines[#lines + 1] = table.concat({
    p, s,
    show(pcall(string.find, s, p, init)),
    show(pcall(string.find, s, p, 1, true)),
    show(pcall(string.match, s, p)),
    show(pcall(string.gsub, s, p, "<%0>")),
    show(pcall(string.gsub, s, p, function(a) return a == "a" and "A" or nil end)),
    show(pcall(string.gsub, s, p, { a = "1", b = false }, 2)),
    show(pcall(gm, s, p)),
  }, " | ")
end
return table.concat(lines, "\n")
"##;

#[test]
fn the_pattern_functions_give_what_luas_own_give() {
    let own = mlua::Lua::new();
    let expected: String = own.load(DIFFERENTIAL).eval().unwrap();
    let script = load(
        &metric(
            "patterns",
            &format!("return (function() {DIFFERENTIAL} end)()"),
        ),
        &config(64 * 1024 * 1024, Duration::from_secs(20)),
    )
    .unwrap();
    let got = collect(&script, &CtxData::default()).unwrap();
    let got = got.as_str().unwrap();
    let mismatches: Vec<(&str, &str)> = expected
        .lines()
        .zip(got.lines())
        .filter(|(a, b)| a != b)
        .take(5)
        .collect();
    assert!(mismatches.is_empty(), "Lua / ours: {mismatches:#?}");
    assert_eq!(expected.lines().count(), got.lines().count());
}
