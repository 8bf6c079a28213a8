//! Scripting benchmarks (BENCHMARKS.md, "Scripting"):
//! - the overhead of a Lua metric call (target <= 10 us);
//! - the hot-reload latency from a file write to the new version being
//!   active, through the real watcher (target <= 300 ms).
//!
//! Run with `cargo bench -p mmsm-kernel --bench scripting`.

use std::hint::black_box;
use std::path::Path;
use std::sync::mpsc::channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use mmsm_registry::{Registry, RegistryConfig, WatchEvent, Watcher};
use mmsm_scripting::{CtxData, HostConfig, LuaScript, ScriptKind};
use serde_json::json;

const CONSTANT: &str =
    "return { id = 'constant', kind = 'metric', name = 'c', collect = function(ctx) return 1 end }";

const MFA_SHARE: &str = r#"
return {
  id = "mfa-share", kind = "metric", name = "MFA share",
  collect = function(ctx)
    local total, with = 0, 0
    for _, user in ipairs(ctx.users) do
      if user.active ~= false then
        total = total + 1
        if user.mfa then with = with + 1 end
      end
    end
    return total == 0 and 1 or with / total
  end,
  score = function(value) return value end,
}"#;

fn users(count: usize) -> CtxData {
    let users: Vec<_> = (0..count)
        .map(|i| json!({"id": format!("user{i}"), "mfa": i % 3 != 0, "active": i % 10 != 0}))
        .collect();
    CtxData::from_value(json!({ "users": users, "enterprise": {"name": "Acme"} }))
}

fn load(source: &str) -> LuaScript {
    let config = HostConfig {
        log: Arc::new(|_| {}),
        ..HostConfig::default()
    };
    LuaScript::load(
        source.as_bytes(),
        Path::new("bench.lua"),
        None,
        Some(ScriptKind::Metric),
        &config,
    )
    .unwrap()
}

fn metric_calls(c: &mut Criterion) {
    let mut group = c.benchmark_group("lua_metric_call");
    let constant = load(CONSTANT);
    let empty = CtxData::default();
    group.bench_function("constant", |b| {
        b.iter(|| black_box(constant.call("collect", &[], Some(&empty)).unwrap()))
    });
    let share = load(MFA_SHARE);
    for count in [10, 100] {
        let ctx = users(count);
        group.bench_function(format!("mfa_share_{count}_users"), |b| {
            b.iter(|| black_box(share.call("collect", &[], Some(&ctx)).unwrap()))
        });
    }
    group.finish();
}

fn hot_reload(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let metrics = dir.path().join("scripts").join("metrics");
    std::fs::create_dir_all(&metrics).unwrap();
    let file = metrics.join("m.lua");
    let version = |n: u64| {
        format!("return {{ id = 'm', kind = 'metric', name = 'm', collect = function(ctx) return {n} end }}")
    };
    std::fs::write(&file, version(0)).unwrap();
    let mut config = RegistryConfig::new(dir.path().join("scripts"), None);
    config.host.log = Arc::new(|_| {});
    let (registry, _) = Registry::load(config);
    let registry = Arc::new(registry);
    let (sender, events) = channel();
    let _watcher = Watcher::start(Arc::clone(&registry), move |event| {
        let _ = sender.send(event);
    })
    .unwrap();

    let mut group = c.benchmark_group("hot_reload");
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    let mut next = 1u64;
    group.bench_function("write_to_active", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                let source = version(next);
                let hash = mmsm_registry::content_hash(source.as_bytes());
                next += 1;
                let written = Instant::now();
                std::fs::write(&file, &source).unwrap();
                loop {
                    match events
                        .recv_timeout(Duration::from_secs(5))
                        .expect("a reload")
                    {
                        WatchEvent::Reloaded { hash: loaded, .. } if loaded == hash => break,
                        _ => continue,
                    }
                }
                total += written.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// A metric that reads a CSV of `rows` lines with the pattern functions: a
/// line at a time with `gmatch`, fields with `match`, blanks squeezed with `gsub`.
const CSV_PATTERNS: &str = r#"
local csv = ctx.data
local rows, ok = 0, 0
for line in csv:gmatch("[^\n]+") do
  rows = rows + 1
  local host, days = line:match("^([%w%.%-]+),%s*(%d+)$")
  if host and tonumber(days) <= 7 then ok = ok + 1 end
end
local squeezed = csv:gsub("%s+", " ")
return #squeezed > 0 and ok / rows or 0
"#;

fn csv(rows: usize) -> String {
    (0..rows)
        .map(|i| format!("host-{i}.example.org, {}\n", i % 11))
        .collect()
}

/// The pattern functions (matched in Rust under the deadline, issue 18)
/// against Lua's own C matcher on the same script, 1,000 rows (about 30 KB).
fn patterns(c: &mut Criterion) {
    let mut group = c.benchmark_group("lua_patterns");
    let data = csv(1000);
    let ours = load(&format!(
        "return {{ id = 'csv', kind = 'metric', name = 'csv', collect = function(ctx) {CSV_PATTERNS} end }}"
    ));
    let ctx = CtxData::from_value(json!({ "data": data }));
    group.bench_function("csv_1000_rows_sandbox", |b| {
        b.iter(|| black_box(ours.call("collect", &[], Some(&ctx)).unwrap()))
    });
    let lua = mlua::Lua::new();
    let ctx_table = lua.create_table().unwrap();
    ctx_table.set("data", data.as_str()).unwrap();
    let function: mlua::Function = lua
        .load(format!("return function(ctx) {CSV_PATTERNS} end"))
        .eval()
        .unwrap();
    group.bench_function("csv_1000_rows_lua_c_matcher", |b| {
        b.iter(|| black_box(function.call::<f64>(&ctx_table).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, metric_calls, hot_reload, patterns);
criterion_main!(benches);
