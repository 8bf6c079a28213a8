//! The three repositories of the paper (3.1): `schemas`, `isms` and `info`,
//! behind a small [`Backend`] trait so that the services never see sled.
//!
//! Every value is a [`Record`]: JSON with a format version, so that a later
//! release can migrate it. Every write is one [`Batch`], applied atomically
//! across the three repositories: a failure or a kill leaves the store as it
//! was. Only this module knows sled.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod chain;
pub mod compact;
mod schemas;
mod sled_backend;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use schemas::{SchemaSummary, StoredSchema};
pub use sled_backend::SledBackend;

/// The format version written into every record by this release.
pub const FORMAT_VERSION: u32 = 1;

/// One of the three repositories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repo {
    /// Every schema version.
    Schemas,
    /// Every enterprise's ISMS.
    Isms,
    /// What daily use produces: values over time, events, audit trail.
    Info,
}

impl Repo {
    /// Every repository.
    pub const ALL: [Repo; 3] = [Repo::Schemas, Repo::Isms, Repo::Info];

    /// The repository's name (also its sled tree).
    pub fn name(self) -> &'static str {
        match self {
            Repo::Schemas => "schemas",
            Repo::Isms => "isms",
            Repo::Info => "info",
        }
    }
}

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the store.
    #[error("the store at {} is in use by another mmsm process; stop it, or point --data (or MMSM_DATA) at another folder", path.display())]
    Locked {
        /// The store folder.
        path: PathBuf,
    },
    /// The backend failed.
    #[error("store error: {0}")]
    Backend(String),
    /// A record could not be read.
    #[error("the record `{key}` in the {repo} repository cannot be read: {message}")]
    Corrupt {
        /// The repository.
        repo: &'static str,
        /// The key.
        key: String,
        /// What went wrong.
        message: String,
    },
    /// A record written by a newer release.
    #[error("the record `{key}` has format {found}, newer than this release reads ({FORMAT_VERSION}); upgrade mmsm")]
    NewerFormat {
        /// The key.
        key: String,
        /// The format found.
        found: u32,
    },
}

/// A key and its value, as stored.
pub type Pair = (Vec<u8>, Vec<u8>);

/// Key-value pairs of a scan, in key order.
pub type Pairs = Vec<Pair>;

/// The storage engine under the repositories.
pub trait Backend: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Every pair whose key starts with `prefix`, in key order.
    fn scan(&self, repo: Repo, prefix: &[u8]) -> Result<Pairs, StoreError>;
    /// At most `limit` pairs whose key starts with `prefix` and comes after
    /// `after` (when given), in key order: a page of a listing, read without
    /// touching the keys before it or past it.
    fn scan_page(
        &self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        Ok(self
            .scan(repo, prefix)?
            .into_iter()
            .filter(|(k, _)| after.is_none_or(|a| k.as_slice() > a))
            .take(limit)
            .collect())
    }
    /// The pair with the greatest key that starts with `prefix`: the latest
    /// of a time-keyed series, read without the series before it.
    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError> {
        Ok(self.scan(repo, prefix)?.pop())
    }
    /// Applies every operation of `batch`, or none.
    fn apply(&self, batch: &Batch) -> Result<(), StoreError>;
    /// Makes every applied batch durable.
    fn flush(&self) -> Result<(), StoreError>;
}

/// A value with its format version, as stored.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record<T> {
    /// The format version of `data`.
    pub format: u32,
    /// The value.
    pub data: T,
}

/// One write operation: put a value, or delete with `None`.
#[derive(Debug, Clone)]
pub struct Op {
    /// The repository.
    pub repo: Repo,
    /// The key.
    pub key: Vec<u8>,
    /// The new value, or `None` to delete.
    pub value: Option<Vec<u8>>,
}

/// Operations applied atomically, across repositories.
#[derive(Debug, Default, Clone)]
pub struct Batch {
    /// The operations, in order.
    pub ops: Vec<Op>,
    /// Test-only: fail after applying this many operations inside the transaction.
    #[doc(hidden)]
    pub fail_after: Option<usize>,
    /// Audit entries, chained and stored when the batch is applied ([`chain`]).
    pub audit: Vec<serde_json::Value>,
}

impl Batch {
    /// Puts `value` as a versioned record at `key`.
    pub fn put<T: Serialize>(&mut self, repo: Repo, key: impl Into<String>, value: &T) {
        let record = Record {
            format: FORMAT_VERSION,
            data: value,
        };
        let bytes = serde_json::to_vec(&record).expect("records serialise to JSON");
        self.ops.push(Op {
            repo,
            key: key.into().into_bytes(),
            value: Some(bytes),
        });
    }

    /// Deletes `key`.
    pub fn delete(&mut self, repo: Repo, key: impl Into<String>) {
        self.ops.push(Op {
            repo,
            key: key.into().into_bytes(),
            value: None,
        });
    }

    /// Adds an audit entry: when the batch is applied, it is linked to the
    /// chain's head and stored in the same transaction ([`chain`]).
    pub fn audit<T: Serialize>(&mut self, entry: &T) {
        self.audit
            .push(serde_json::to_value(entry).expect("audit entries serialise to JSON"));
    }

    /// Whether the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.audit.is_empty()
    }

    /// Links the pending audit entries to the chain head read from `store`
    /// (under the write lock) and turns them into puts.
    fn seal(&mut self, store: &Store) -> Result<(), StoreError> {
        if self.audit.is_empty() {
            return Ok(());
        }
        let mut head: chain::ChainHead =
            store
                .get(Repo::Info, chain::AUDIT_HEAD)?
                .unwrap_or(chain::ChainHead {
                    seq: 0,
                    hash: chain::GENESIS.into(),
                });
        for entry in std::mem::take(&mut self.audit) {
            let seq = head.seq + 1;
            let hash = chain::link_hash(seq, &head.hash, &entry);
            let link = chain::ChainedEntry {
                seq,
                prev: head.hash.clone(),
                hash: hash.clone(),
                entry,
            };
            self.put(Repo::Info, chain::entry_key(seq), &link);
            head = chain::ChainHead { seq, hash };
        }
        self.put(Repo::Info, chain::AUDIT_HEAD, &head);
        Ok(())
    }
}

/// The repositories: typed reads and atomic writes over a [`Backend`].
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    writer: Arc<Mutex<()>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (and creates on first use) the store in `dir`.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let backend = SledBackend::open(dir)?;
        Ok(Store::with_backend(
            Arc::new(backend),
            Some(dir.to_path_buf()),
        ))
    }

    /// A store that lives in memory only (tests, benchmarks).
    pub fn temporary() -> Result<Store, StoreError> {
        Ok(Store::with_backend(
            Arc::new(SledBackend::temporary()?),
            None,
        ))
    }

    /// A store over any backend.
    pub fn with_backend(backend: Arc<dyn Backend>, path: Option<PathBuf>) -> Store {
        Store {
            backend,
            writer: Arc::new(Mutex::new(())),
            path,
        }
    }

    /// The folder of the store, when it is on disk.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The record at `key`, decoded.
    pub fn get<T: DeserializeOwned>(&self, repo: Repo, key: &str) -> Result<Option<T>, StoreError> {
        self.backend
            .get(repo, key.as_bytes())?
            .map(|bytes| decode(repo, key, &bytes))
            .transpose()
    }

    /// The record with the greatest key that starts with `prefix`, decoded.
    pub fn last<T: DeserializeOwned>(
        &self,
        repo: Repo,
        prefix: &str,
    ) -> Result<Option<(String, T)>, StoreError> {
        self.backend
            .last(repo, prefix.as_bytes())?
            .map(|(k, v)| {
                let key = String::from_utf8_lossy(&k).into_owned();
                decode(repo, &key, &v).map(|value| (key, value))
            })
            .transpose()
    }

    /// Whether a record is stored at `key`.
    pub fn contains(&self, repo: Repo, key: &str) -> Result<bool, StoreError> {
        Ok(self.backend.get(repo, key.as_bytes())?.is_some())
    }

    /// Every record whose key starts with `prefix`, decoded, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        repo: Repo,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.backend
            .scan(repo, prefix.as_bytes())?
            .into_iter()
            .map(|(k, v)| {
                let key = String::from_utf8_lossy(&k).into_owned();
                let value = decode(repo, &key, &v)?;
                Ok((key, value))
            })
            .collect()
    }

    /// At most `limit` records whose key starts with `prefix` and comes
    /// strictly after `after`, decoded, in key order.
    pub fn scan_page<T: DeserializeOwned>(
        &self,
        repo: Repo,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, T)>, StoreError> {
        self.backend
            .scan_page(repo, prefix.as_bytes(), after.map(str::as_bytes), limit)?
            .into_iter()
            .map(|(k, v)| {
                let key = String::from_utf8_lossy(&k).into_owned();
                let value = decode(repo, &key, &v)?;
                Ok((key, value))
            })
            .collect()
    }

    /// Whether any key starts with `prefix` (reads one key at most).
    pub fn any(&self, repo: Repo, prefix: &str) -> Result<bool, StoreError> {
        Ok(!self
            .backend
            .scan_page(repo, prefix.as_bytes(), None, 1)?
            .is_empty())
    }

    /// Every key that starts with `prefix`, in order, without decoding values.
    pub fn keys(&self, repo: Repo, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .backend
            .scan(repo, prefix.as_bytes())?
            .into_iter()
            .map(|(k, _)| String::from_utf8_lossy(&k).into_owned())
            .collect())
    }

    /// Runs `build` under the store's write lock and applies the batch it
    /// fills, atomically and durably. Reads inside `build` see a state that no
    /// other writer of this process changes until the batch lands. When
    /// `build` fails, nothing is written.
    pub fn write<R, E>(
        &self,
        build: impl FnOnce(&Store, &mut Batch) -> Result<R, E>,
    ) -> Result<R, E>
    where
        E: From<StoreError>,
    {
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _held = Held::enter();
        let mut batch = Batch::default();
        let result = build(self, &mut batch)?;
        batch.seal(self)?;
        if !batch.is_empty() {
            self.backend.apply(&batch)?;
            self.backend.flush()?;
        }
        Ok(result)
    }

    /// Runs `read` while no writer of this process can land a batch: for a
    /// read of several keys that must agree and that optimistic retries could
    /// not get between writes. Inside [`Store::write`] (the same thread already
    /// holds the lock) it simply runs.
    pub fn read_locked<R>(&self, read: impl FnOnce(&Store) -> R) -> R {
        if HELD.with(Cell::get) {
            return read(self);
        }
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _held = Held::enter();
        read(self)
    }

    /// Makes every applied batch durable (on shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.backend.flush()
    }

    /// Applies a prepared batch atomically and durably.
    pub fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut batch = batch.clone();
        batch.seal(self)?;
        self.backend.apply(&batch)?;
        self.backend.flush()
    }
}

thread_local! {
    /// Whether this thread holds a store's writer lock.
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Marks the writer lock held by this thread until dropped.
struct Held;

impl Held {
    fn enter() -> Held {
        HELD.with(|h| h.set(true));
        Held
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.with(|h| h.set(false));
    }
}

fn decode<T: DeserializeOwned>(repo: Repo, key: &str, bytes: &[u8]) -> Result<T, StoreError> {
    let corrupt = |message: String| StoreError::Corrupt {
        repo: repo.name(),
        key: key.to_owned(),
        message,
    };
    let newer = |found: u32| StoreError::NewerFormat {
        key: key.to_owned(),
        found,
    };
    // One pass straight into `T` (no intermediate JSON tree); only when that
    // fails is the format read alone, to tell a newer record from a corrupt one.
    match serde_json::from_slice::<Record<T>>(bytes) {
        Ok(record) if record.format <= FORMAT_VERSION => Ok(record.data),
        Ok(record) => Err(newer(record.format)),
        Err(e) => {
            #[derive(Deserialize)]
            struct Format {
                format: u32,
            }
            match serde_json::from_slice::<Format>(bytes) {
                Ok(Format { format }) if format > FORMAT_VERSION => Err(newer(format)),
                _ => Err(corrupt(e.to_string())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_of_a_prefix_is_its_greatest_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        for key in ["m/a/001", "m/a/003", "m/a/002", "m/b/009", "m/"] {
            batch.put(Repo::Info, key, &key);
        }
        store.apply(&batch).unwrap();
        let last = |prefix| {
            store
                .last::<String>(Repo::Info, prefix)
                .unwrap()
                .map(|(k, _)| k)
        };
        assert_eq!(last("m/a/").as_deref(), Some("m/a/003"));
        assert_eq!(last("m/b/").as_deref(), Some("m/b/009"));
        assert_eq!(last("m/c/"), None);
        let memory = SledBackend::temporary().unwrap();
        memory.apply(&batch).unwrap();
        assert_eq!(
            Backend::last(&memory, Repo::Info, b"m/a/")
                .unwrap()
                .map(|(k, _)| k),
            Some(b"m/a/003".to_vec())
        );
    }

    #[test]
    fn a_failure_in_the_middle_of_a_batch_leaves_the_store_as_before() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut first = Batch::default();
        first.put(Repo::Schemas, "a", &1);
        store.apply(&first).unwrap();

        let mut batch = Batch::default();
        batch.put(Repo::Schemas, "a", &2);
        batch.put(Repo::Isms, "b", &3);
        batch.put(Repo::Info, "c", &4);
        batch.fail_after = Some(2);
        let err = store.apply(&batch).unwrap_err();
        assert!(err.to_string().contains("injected failure"), "{err}");

        assert_eq!(store.get::<i32>(Repo::Schemas, "a").unwrap(), Some(1));
        assert_eq!(store.get::<i32>(Repo::Isms, "b").unwrap(), None);
        assert_eq!(store.get::<i32>(Repo::Info, "c").unwrap(), None);
        drop(store);
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(reopened.get::<i32>(Repo::Schemas, "a").unwrap(), Some(1));
        assert_eq!(reopened.get::<i32>(Repo::Isms, "b").unwrap(), None);
    }

    #[test]
    fn floats_read_back_bit_for_bit_so_the_audit_chain_never_cries_wolf() {
        // serde_json without `float_roundtrip` read this back one ulp off,
        // and `audit verify` called an untouched record edited.
        let store = Store::temporary().unwrap();
        let value = serde_json::json!({ "after": 53.239543057251396_f64 });
        let mut batch = Batch::default();
        batch.put(Repo::Info, "f", &value);
        store.apply(&batch).unwrap();
        let back: serde_json::Value = store.get(Repo::Info, "f").unwrap().unwrap();
        assert_eq!(
            back["after"].as_f64().unwrap().to_bits(),
            53.239543057251396_f64.to_bits()
        );
        assert_eq!(back.to_string(), value.to_string());
    }

    #[test]
    fn a_page_holds_the_keys_after_the_cursor_within_the_prefix_and_no_more() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut batch = Batch::default();
        for key in ["a/1", "s/a", "s/b", "s/c", "s/d", "t/1"] {
            batch.put(Repo::Isms, key, &key.to_owned());
        }
        store.apply(&batch).unwrap();
        let keys = |after: Option<&str>, limit| -> Vec<String> {
            store
                .scan_page::<String>(Repo::Isms, "s/", after, limit)
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        assert_eq!(keys(None, 2), ["s/a", "s/b"]);
        assert_eq!(keys(Some("s/b"), 2), ["s/c", "s/d"]);
        assert_eq!(keys(Some("s/d"), 2), Vec::<String>::new());
        assert_eq!(keys(Some("a/9"), 1), ["s/a"]);
        assert_eq!(keys(None, 10).len(), 4);
        assert!(store.any(Repo::Isms, "t/").unwrap());
        assert!(!store.any(Repo::Isms, "u/").unwrap());
    }

    #[test]
    fn a_second_open_of_the_same_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let _first = Store::open(dir.path()).unwrap();
        let err = Store::open(dir.path()).unwrap_err();
        assert!(matches!(err, StoreError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("in use by another mmsm process"));
    }

    #[test]
    fn records_carry_their_format_and_refuse_newer_ones() {
        let store = Store::temporary().unwrap();
        let mut batch = Batch::default();
        batch.put(Repo::Info, "x", &"hello");
        store.apply(&batch).unwrap();
        let raw = store.backend.get(Repo::Info, b"x").unwrap().unwrap();
        let record: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(record["format"], FORMAT_VERSION);

        let newer = Batch {
            ops: vec![Op {
                repo: Repo::Info,
                key: b"y".to_vec(),
                value: Some(br#"{"format": 99, "data": 1}"#.to_vec()),
            }],
            ..Batch::default()
        };
        store.apply(&newer).unwrap();
        let err = store.get::<i32>(Repo::Info, "y").unwrap_err();
        assert!(
            matches!(err, StoreError::NewerFormat { found: 99, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_failing_write_closure_writes_nothing() {
        let store = Store::temporary().unwrap();
        let result: Result<(), StoreError> = store.write(|_, batch| {
            batch.put(Repo::Isms, "k", &1);
            Err(StoreError::Backend("refused".into()))
        });
        assert!(result.is_err());
        assert_eq!(store.get::<i32>(Repo::Isms, "k").unwrap(), None);
    }
}
