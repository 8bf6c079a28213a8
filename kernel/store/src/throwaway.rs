//! A throwaway PostgreSQL cluster for tests and benchmarks: `initdb` in a
//! temp folder, `pg_ctl start` on a free port of 127.0.0.1, and a fresh
//! database for each store that asks. A watchdog shell stops the cluster
//! and removes its folder when the process that started it ends, however
//! it ends. Run as root, the server runs as the `postgres` user, which
//! PostgreSQL requires.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use crate::StoreError;

/// A running cluster.
#[derive(Debug)]
pub struct Cluster {
    port: u16,
    next: AtomicU32,
}

/// Whether a store's writes reach the disk before they are acknowledged
/// (benchmarks), or not (tests, which lose nothing to a crash of their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync on, as a production server runs.
    Durable,
    /// fsync off, for speed.
    Fast,
}

static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// The cluster of this process, started on first use (fsync off).
pub fn shared() -> Result<&'static Cluster, StoreError> {
    SHARED
        .get_or_init(|| Cluster::start(Durability::Fast))
        .as_ref()
        .map_err(|e| StoreError::Backend(e.clone()))
}

/// The folder of PostgreSQL's server programs: where `initdb` is on the
/// PATH, else the newest `/usr/lib/postgresql/*/bin` (Debian's layout).
fn bin_dir() -> Result<PathBuf, String> {
    let on_path = std::env::var_os("PATH")
        .and_then(|path| std::env::split_paths(&path).find(|dir| dir.join("initdb").is_file()));
    if let Some(dir) = on_path {
        return Ok(dir);
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.retain(|dir| dir.join("initdb").is_file());
    versions.sort();
    versions.pop().ok_or_else(|| {
        "PostgreSQL's initdb is not installed (apt-get install postgresql) and MMSM_TEST_BACKEND=postgres asks for it".to_owned()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// `program` from PostgreSQL's folder, as the `postgres` user when we are root.
fn pg_command(bin: &Path, program: &str, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(bin.join(program));
        command
    } else {
        Command::new(bin.join(program))
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

impl Cluster {
    /// Creates and starts a cluster in a new temp folder.
    pub fn start(durability: Durability) -> Result<Cluster, String> {
        let bin = bin_dir()?;
        let root = is_root();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("mmsm-pg-{}-{nanos}", std::process::id()));
        let data = dir.join("data");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if root {
            let mut chown = Command::new("chown");
            chown.args(["postgres:postgres"]).arg(&dir);
            run(chown, "chown")?;
        }
        let mut initdb = pg_command(&bin, "initdb", root);
        initdb.arg("-D").arg(&data).args([
            "-U",
            "mmsm",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(initdb, "initdb")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let fsync = match durability {
            Durability::Durable => "",
            Durability::Fast => " -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        };
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300{fsync}",
            dir.display()
        );
        let mut start = pg_command(&bin, "pg_ctl", root);
        start
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("log"))
            .args(["-w", "-o", &options, "start"]);
        run(start, "pg_ctl start")?;
        watch(&bin, &dir, &data, root)?;
        Ok(Cluster {
            port,
            next: AtomicU32::new(0),
        })
    }

    /// The URL of database `name` on the cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://mmsm@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new, empty database and returns its URL.
    pub fn fresh_database(&self) -> Result<String, StoreError> {
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let name = format!("store_{n}");
        let mut client = postgres::Client::connect(&self.url("postgres"), postgres::NoTls)
            .map_err(StoreError::engine(
                "cannot connect to the throwaway cluster",
            ))?;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .map_err(StoreError::engine(format!("cannot create database {name}")))?;
        Ok(self.url(&name))
    }
}

/// Starts the watchdog: when this process is gone, stop the cluster and
/// remove its folder.
fn watch(bin: &Path, dir: &Path, data: &Path, root: bool) -> Result<(), String> {
    let as_postgres = if root { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {as_postgres}'{pg_ctl}' -D '{data}' -m immediate stop >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        pg_ctl = bin.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(|_| ())
        .map_err(|e| format!("cannot start the cluster's watchdog: {e}"))
}
