//! Drives the real `mmsm` binary on a temporary store.
#![allow(dead_code)]

pub mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary store and the binary to run against it.
pub struct Mmsm {
    pub dir: tempfile::TempDir,
}

/// The result of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts success and returns self.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts failure with exit code 1 and returns self.
    pub fn fails(self) -> Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Mmsm {
    pub fn new() -> Self {
        Mmsm {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The store folder.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// A path inside the temp dir (for files the test writes).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `mmsm --data STORE ARGS...`.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(&[], args)
    }

    /// Runs `mmsm --data STORE ARGS...` with extra environment variables.
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> Run {
        Command::new(env!("CARGO_BIN_EXE_mmsm"))
            .arg("--data")
            .arg(self.data())
            .args(args)
            .env_remove("MMSM_DATA")
            .env_remove("MMSM_STORE")
            .env_remove("MMSM_NOW")
            .env_remove("MMSM_EVIDENCE")
            .envs(env.iter().copied())
            .current_dir(repo_root())
            .output()
            .expect("mmsm runs")
            .into()
    }
}

/// The repository root (where `schemas/` and `tests/fixtures/` live).
/// The text of a PDF, as `pdftotext` (poppler-utils) reads it.
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("printed.pdf");
    std::fs::write(&file, bytes).unwrap();
    let out = std::process::Command::new("pdftotext")
        .args(["-layout", file.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (apt-get install -y poppler-utils)");
    assert!(
        out.status.success(),
        "pdftotext refused the PDF: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The shipped schema folders under `schemas/` (not the catalogues of
/// `standards/` nor the profiles of `examples/`), sorted.
pub fn shipped_schemas() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo_root().join("schemas"))
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (e.path().is_dir() && name != "standards" && name != "examples").then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// Writes the right answers of a shipped schema's whole culture bank to
/// `right.json` in `m`'s folder and returns its path, for `culture test --answers`.
pub fn right_culture_answers(m: &Mmsm, schema: &str) -> String {
    let schema = mmsm_schema::load_path(&repo_root().join("schemas").join(schema))
        .unwrap()
        .schema;
    let right: serde_json::Map<String, serde_json::Value> = schema
        .culture
        .unwrap()
        .questions
        .iter()
        .map(|q| (q.id.to_string(), serde_json::Value::from(q.answer)))
        .collect();
    let path = m.path("right.json");
    std::fs::write(&path, serde_json::Value::Object(right).to_string()).unwrap();
    path.display().to_string()
}

/// Imports the worked schema of `tests/fixtures/worked` and generates its
/// profile; the new ISMS's id.
pub fn worked_isms(m: &Mmsm) -> String {
    m.run(&["schema", "import", "tests/fixtures/worked"]).ok();
    m.run(&[
        "isms",
        "generate",
        "tests/fixtures/worked-profile.yaml",
        "--json",
    ])
    .ok()
    .json()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
