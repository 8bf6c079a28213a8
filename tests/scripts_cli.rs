//! `mmsm scripts` and `mmsm watch` through the real binary.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::Mmsm;

fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn metric(id: &str, value: &str) -> String {
    format!("return {{ id = {id:?}, kind = 'metric', name = 'test', collect = function(ctx) return {value} end }}\n")
}

/// The example plugin that `cargo test` builds (a dev-dependency).
fn example_plugin() -> PathBuf {
    let file = format!(
        "{}mmsm_example_metric.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    );
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps.join(&file), deps.parent().unwrap().join(&file)]
        .into_iter()
        .find(|p| p.is_file())
        .expect("the example plugin is built by cargo test")
}

#[test]
fn scripts_lists_every_script_and_plugin_with_its_state() {
    let mmsm = Mmsm::new();
    let scripts = mmsm.path("scripts");
    write(&scripts.join("metrics/good.lua"), &metric("good", "1"));
    write(&scripts.join("metrics/broken.lua"), "return {");
    let plugins = mmsm.data().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(example_plugin(), plugins.join("libmfa.so")).unwrap();
    let scripts_arg = scripts.to_str().unwrap();

    let listing = mmsm
        .run(&["--scripts", scripts_arg, "scripts", "--json"])
        .ok()
        .json();
    let entries = listing.as_array().unwrap();
    let ids: Vec<&str> = entries.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["good", "mfa-coverage", "scripts/metrics/broken.lua"]);
    assert_eq!(entries[0]["state"], "active");
    assert_eq!(entries[0]["kind"], "metric");
    assert_eq!(entries[0]["version"].as_str().unwrap().len(), 12);
    assert_eq!(entries[1]["runtime"], "plugin");
    assert_eq!(entries[2]["state"], "failed");
    assert!(entries[2]["error"]
        .as_str()
        .unwrap()
        .starts_with("scripts/metrics/broken.lua:1: "));
    assert!(entries[2]["version"].is_null());

    let text = mmsm.run(&["--scripts", scripts_arg, "scripts"]).ok().stdout;
    assert!(text.starts_with("ID "), "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("good ") && l.contains(" active ")));
    assert!(text
        .lines()
        .any(|l| l.contains("failed: scripts/metrics/broken.lua:1:")));
}

/// Kills the watcher when the test ends, passing or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn lines_of(child: &mut Child) -> Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (sender, lines) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if sender.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    lines
}

#[test]
fn watch_prints_one_line_per_change() {
    let mmsm = Mmsm::new();
    let scripts = mmsm.path("scripts");
    let file = scripts.join("metrics/m.lua");
    write(&file, &metric("m", "1"));
    let child = Command::new(env!("CARGO_BIN_EXE_mmsm"))
        .arg("--data")
        .arg(mmsm.data())
        .arg("--scripts")
        .arg(&scripts)
        .arg("watch")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let lines = lines_of(&mut running.0);
    let next = || {
        lines
            .recv_timeout(Duration::from_secs(5))
            .expect("a line from mmsm watch")
    };

    let first = next();
    assert!(first.starts_with("reloaded m "), "{first}");
    let kept = first.rsplit(' ').next().unwrap().to_owned();
    // Give the watcher time to start before changing files.
    std::thread::sleep(Duration::from_millis(300));

    write(&file, "return { id = 'm', kind = 'metric', name = 'm' }");
    assert_eq!(
        next(),
        format!("failed m: scripts/metrics/m.lua: a metric must have a function collect (keeping {kept})")
    );
    write(&file, &metric("m", "2"));
    let reloaded = next();
    assert!(
        reloaded.starts_with("reloaded m ") && !reloaded.ends_with(&kept),
        "{reloaded}"
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(next(), "removed m");
    write(&scripts.join("metrics/new.lua"), "return 42");
    assert_eq!(
        next(),
        "failed scripts/metrics/new.lua: scripts/metrics/new.lua: the script must return its declaration table, \
         it returned integer (keeping none)"
    );
}
