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
mod postgres_backend;
mod schemas;
mod sled_backend;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throwaway;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use postgres_backend::PostgresBackend;
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
    /// The store refused an operation, or found its data inconsistent.
    #[error("store error: {0}")]
    Backend(String),
    /// The storage engine (sled, PostgreSQL, the file system) failed.
    #[error("{what}: {source}")]
    Engine {
        /// What the store was doing, e.g. "cannot read the isms repository".
        what: String,
        /// The engine's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
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

impl StoreError {
    /// A closure wrapping an engine's error with what the store was doing.
    pub fn engine<E>(what: impl Into<String>) -> impl FnOnce(E) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let what = what.into();
        move |source| StoreError::Engine {
            what,
            source: Box::new(source),
        }
    }
}

/// A key and its value, as stored.
pub type Pair = (Vec<u8>, Vec<u8>);

/// Key-value pairs of a scan, in key order.
pub type Pairs = Vec<Pair>;

/// How many pairs a scan reads at a time: scans stream page by page, so no
/// read holds a whole repository in memory.
pub const SCAN_PAGE: usize = 512;

/// Reads of the three repositories, outside or inside a transaction.
pub trait Reader: Send + Sync {
    /// The value at `key`, if any.
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// At most `limit` pairs whose key starts with `prefix` and comes after
    /// `after` (when given), in key order: a page of a range, read without
    /// touching the keys before it or past it.
    fn scan_page(
        &self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError>;
    /// The pair with the greatest key that starts with `prefix`: the latest
    /// of a time-keyed series, read without the series before it.
    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError>;
}

/// A reader that reads through another one: a backend through its trees, a
/// transaction through its backend's, a test wrapper through what it wraps.
pub trait ReadsThrough: Send + Sync {
    /// The reader every read goes to.
    fn reads_through(&self) -> &dyn Reader;
}

impl<T: ReadsThrough> Reader for T {
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.reads_through().get(repo, key)
    }

    fn scan_page(
        &self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        self.reads_through().scan_page(repo, prefix, after, limit)
    }

    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError> {
        self.reads_through().last(repo, prefix)
    }
}

/// The storage engine under the repositories.
///
/// The contract that makes several processes on one database safe: a write
/// runs in a [`Txn`] from [`Backend::begin`], and transactions are
/// serialised across every process of the store before their first read,
/// so a read inside one sees every committed write and nothing commits
/// between that read and the transaction's own commit. Ids, sequence
/// numbers and the audit chain's head are read there, so two writers can
/// never hand out the same id or fork the chain. As no two transactions
/// run at once, none fails on a serialisation conflict and none is retried.
pub trait Backend: Reader {
    /// Begins a write transaction, waiting for the one running (in any
    /// process) to end. Dropped without [`Txn::commit`], it rolls back.
    fn begin(&self) -> Result<Arc<dyn Txn>, StoreError>;
    /// Makes every committed transaction durable (on shutdown).
    fn flush(&self) -> Result<(), StoreError>;
    /// Which backend this is and where, for people: "sled folder ./mmsm-data".
    fn describe(&self) -> String;
    /// Whether a read travels to another process (a database server), and
    /// so blocks for a round trip, rather than reading this process's cache.
    fn is_remote(&self) -> bool {
        false
    }
}

/// A write transaction: its reads see the state its writes apply to.
pub trait Txn: Reader {
    /// Applies `ops` inside the transaction: nobody else sees them before
    /// [`Txn::commit`].
    fn apply(&self, ops: &[Op]) -> Result<(), StoreError>;
    /// Commits every applied operation, atomically and durably.
    fn commit(&self) -> Result<(), StoreError>;
}

/// Applies `ops` in one transaction of `backend`: all of them or none.
pub fn apply_ops(backend: &dyn Backend, ops: &[Op]) -> Result<(), StoreError> {
    let txn = backend.begin()?;
    txn.apply(ops)?;
    txn.commit()
}

/// Calls `each` with every page of the keys of `repo` that start with
/// `prefix`, in key order, [`SCAN_PAGE`] pairs at a time.
pub fn for_each_page(
    reader: &dyn Reader,
    repo: Repo,
    prefix: &[u8],
    page: usize,
    mut each: impl FnMut(Pairs) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut after: Option<Vec<u8>> = None;
    loop {
        let pairs = reader.scan_page(repo, prefix, after.as_deref(), page)?;
        let full = pairs.len() == page;
        let Some((last, _)) = pairs.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        each(pairs)?;
        if !full {
            return Ok(());
        }
    }
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
    /// Inside [`Store::write`]: the transaction every read goes through.
    txn: Option<Arc<dyn Txn>>,
    /// Serialises this process's writers before they reach the backend, so
    /// that they queue here and not on the database's lock.
    writer: Arc<Mutex<()>>,
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend.describe())
            .finish()
    }
}

/// Where a store lives: a sled folder, or a PostgreSQL database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded store: a sled folder, created on first use.
    Folder(PathBuf),
    /// A PostgreSQL database, by its connection URL.
    Postgres(String),
}

impl Location {
    /// `--store URL` when given (`postgres://...`, or a folder), else the
    /// folder of `--data`.
    pub fn choose(store: Option<&str>, data: &Path) -> Location {
        match store {
            Some(url) if postgres_backend::is_url(url) => Location::Postgres(url.to_owned()),
            Some(folder) if !folder.is_empty() => Location::Folder(PathBuf::from(folder)),
            _ => Location::Folder(data.to_path_buf()),
        }
    }

    /// The location for people: a folder's path, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::Folder(dir) => format!("sled folder {}", dir.display()),
            Location::Postgres(url) => format!("PostgreSQL {}", postgres_backend::redact(url)),
        }
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

    /// Opens the store at `location`: a sled folder (created on first use),
    /// or a PostgreSQL database (its tables migrated on first use) with a
    /// pool of `pool` connections.
    pub fn open_at(location: &Location, pool: u32) -> Result<Store, StoreError> {
        match location {
            Location::Folder(dir) => Store::open(dir),
            Location::Postgres(url) => Ok(Store::with_backend(
                Arc::new(PostgresBackend::connect(url, pool)?),
                None,
            )),
        }
    }

    /// A store that lives in memory only (tests, benchmarks). With
    /// `MMSM_TEST_BACKEND=postgres` it is a fresh database on this process's
    /// [throwaway cluster](throwaway), so that the same tests run on both
    /// backends.
    pub fn temporary() -> Result<Store, StoreError> {
        if std::env::var("MMSM_TEST_BACKEND").is_ok_and(|b| b == "postgres") {
            return Store::temporary_postgres();
        }
        Ok(Store::with_backend(
            Arc::new(SledBackend::temporary()?),
            None,
        ))
    }

    /// A fresh database on this process's [throwaway cluster](throwaway).
    pub fn temporary_postgres() -> Result<Store, StoreError> {
        let url = throwaway::shared()?.fresh_database()?;
        Store::open_at(&Location::Postgres(url), 4)
    }

    /// A store over any backend.
    pub fn with_backend(backend: Arc<dyn Backend>, path: Option<PathBuf>) -> Store {
        Store {
            backend,
            txn: None,
            writer: Arc::new(Mutex::new(())),
            path,
        }
    }

    /// The folder of the store, when it is a sled folder.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Which backend holds the store and where, for people.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// Whether reads travel to a database server ([`Backend::is_remote`]):
    /// an async caller then reads from its blocking pool.
    pub fn is_remote(&self) -> bool {
        self.backend.is_remote()
    }

    /// The backend under the store (copies, compaction).
    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.backend
    }

    /// Where reads go: the open transaction inside a write, else the backend.
    fn reader(&self) -> &dyn Reader {
        match &self.txn {
            Some(txn) => txn.as_ref(),
            None => self.backend.as_ref(),
        }
    }

    /// The record at `key`, decoded.
    pub fn get<T: DeserializeOwned>(&self, repo: Repo, key: &str) -> Result<Option<T>, StoreError> {
        self.reader()
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
        self.reader()
            .last(repo, prefix.as_bytes())?
            .map(|(k, v)| {
                let key = String::from_utf8_lossy(&k).into_owned();
                decode(repo, &key, &v).map(|value| (key, value))
            })
            .transpose()
    }

    /// Whether a record is stored at `key`.
    pub fn contains(&self, repo: Repo, key: &str) -> Result<bool, StoreError> {
        Ok(self.reader().get(repo, key.as_bytes())?.is_some())
    }

    /// Calls `each` with every stored pair whose key starts with `prefix`,
    /// undecoded, in key order, reading [`SCAN_PAGE`] pairs at a time.
    pub fn for_each_raw(
        &self,
        repo: Repo,
        prefix: &str,
        mut each: impl FnMut(&str, &[u8]) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        for_each_page(self.reader(), repo, prefix.as_bytes(), SCAN_PAGE, |page| {
            for (k, v) in page {
                each(&String::from_utf8_lossy(&k), &v)?;
            }
            Ok(())
        })
    }

    /// Every record whose key starts with `prefix`, decoded, in key order.
    pub fn scan<T: DeserializeOwned>(
        &self,
        repo: Repo,
        prefix: &str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let mut found = Vec::new();
        self.for_each_raw(repo, prefix, |key, bytes| {
            found.push((key.to_owned(), decode(repo, key, bytes)?));
            Ok(())
        })?;
        Ok(found)
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
        self.reader()
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
            .reader()
            .scan_page(repo, prefix.as_bytes(), None, 1)?
            .is_empty())
    }

    /// Every key that starts with `prefix`, in order, without decoding values.
    pub fn keys(&self, repo: Repo, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        self.for_each_raw(repo, prefix, |key, _| {
            keys.push(key.to_owned());
            Ok(())
        })?;
        Ok(keys)
    }

    /// Runs `build` in one write transaction and applies the batch it fills,
    /// atomically and durably. Every read `build` makes through the store it
    /// is given happens inside that transaction, and no other writer (of
    /// this process or another on the same database) commits until it ends.
    /// When `build` fails, nothing is written.
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
        let txn = self.backend.begin()?;
        let inside = self.inside(txn.clone());
        let mut batch = Batch::default();
        let result = build(&inside, &mut batch)?;
        batch.seal(&inside)?;
        if !batch.is_empty() {
            txn.apply(&batch.ops)?;
            txn.commit()?;
        }
        Ok(result)
    }

    /// This store with its reads going through `txn`.
    fn inside(&self, txn: Arc<dyn Txn>) -> Store {
        Store {
            backend: self.backend.clone(),
            txn: Some(txn),
            writer: self.writer.clone(),
            path: self.path.clone(),
        }
    }

    /// Runs `read` while no writer (of any process on the store) can commit:
    /// for a read of several keys that must agree and that optimistic retries
    /// could not get between writes. Inside [`Store::write`] it simply runs.
    pub fn read_locked<R>(
        &self,
        read: impl FnOnce(&Store) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        if self.txn.is_some() || HELD.with(Cell::get) {
            return read(self);
        }
        let _guard = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _held = Held::enter();
        let txn = self.backend.begin()?;
        read(&self.inside(txn))
    }

    /// Makes every applied batch durable (on shutdown).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.backend.flush()
    }

    /// Applies a prepared batch atomically and durably.
    pub fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        self.write(|_, pending| {
            *pending = batch.clone();
            Ok(())
        })
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

    /// A fresh store on each backend: the contract's tests run on both.
    fn each_backend() -> Vec<(&'static str, Store)> {
        let postgres =
            PostgresBackend::connect(&throwaway::shared().unwrap().fresh_database().unwrap(), 4)
                .unwrap();
        vec![
            (
                "sled",
                Store::with_backend(Arc::new(SledBackend::temporary().unwrap()), None),
            ),
            ("postgres", Store::with_backend(Arc::new(postgres), None)),
        ]
    }

    #[test]
    fn the_last_of_a_prefix_is_its_greatest_key() {
        for (name, store) in each_backend() {
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
            assert_eq!(last("m/a/").as_deref(), Some("m/a/003"), "{name}");
            assert_eq!(last("m/b/").as_deref(), Some("m/b/009"), "{name}");
            assert_eq!(last("m/c/"), None, "{name}");
            assert_eq!(last("").as_deref(), Some("m/b/009"), "{name}");
        }
    }

    #[test]
    fn a_failure_in_the_middle_of_a_batch_leaves_the_store_as_before() {
        for (name, store) in each_backend() {
            let mut first = Batch::default();
            first.put(Repo::Schemas, "a", &1);
            store.apply(&first).unwrap();

            let failing = Store::with_backend(
                Arc::new(testing::FailingBackend::new(store.backend().clone(), 2)),
                None,
            );
            let mut batch = Batch::default();
            batch.put(Repo::Schemas, "a", &2);
            batch.put(Repo::Isms, "b", &3);
            batch.put(Repo::Info, "c", &4);
            batch.audit(&"a write that fails");
            let err = failing.apply(&batch).unwrap_err();
            assert!(
                err.to_string().contains("injected failure"),
                "{name}: {err}"
            );

            assert_eq!(
                store.get::<i32>(Repo::Schemas, "a").unwrap(),
                Some(1),
                "{name}"
            );
            assert_eq!(store.get::<i32>(Repo::Isms, "b").unwrap(), None, "{name}");
            assert_eq!(store.get::<i32>(Repo::Info, "c").unwrap(), None, "{name}");
            assert!(chain::verify(&store).unwrap().is_ok(), "{name}");
            // The failed transaction released the write lock.
            store.apply(&batch).unwrap();
            assert_eq!(
                store.get::<i32>(Repo::Info, "c").unwrap(),
                Some(4),
                "{name}"
            );
        }
    }

    #[test]
    fn a_failure_leaves_a_sled_folder_as_before_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let sled: Arc<dyn Backend> = Arc::new(SledBackend::open(dir.path()).unwrap());
        let store = Store::with_backend(sled.clone(), None);
        let mut first = Batch::default();
        first.put(Repo::Schemas, "a", &1);
        store.apply(&first).unwrap();
        let failing = Store::with_backend(Arc::new(testing::FailingBackend::new(sled, 1)), None);
        let mut batch = Batch::default();
        batch.put(Repo::Schemas, "a", &2);
        batch.put(Repo::Isms, "b", &3);
        assert!(failing.apply(&batch).is_err());
        drop((store, failing));
        let reopened = Store::open(dir.path()).unwrap();
        assert_eq!(reopened.get::<i32>(Repo::Schemas, "a").unwrap(), Some(1));
        assert_eq!(reopened.get::<i32>(Repo::Isms, "b").unwrap(), None);
    }

    #[test]
    fn floats_read_back_bit_for_bit_so_the_audit_chain_never_cries_wolf() {
        // serde_json without `float_roundtrip` read this back one ulp off,
        // and `audit verify` called an untouched record edited.
        for (name, store) in each_backend() {
            let value = serde_json::json!({ "after": 53.239543057251396_f64 });
            let mut batch = Batch::default();
            batch.put(Repo::Info, "f", &value);
            store.apply(&batch).unwrap();
            let back: serde_json::Value = store.get(Repo::Info, "f").unwrap().unwrap();
            assert_eq!(
                back["after"].as_f64().unwrap().to_bits(),
                53.239543057251396_f64.to_bits(),
                "{name}"
            );
            assert_eq!(back.to_string(), value.to_string(), "{name}");
        }
    }

    #[test]
    fn a_page_holds_the_keys_after_the_cursor_within_the_prefix_and_no_more() {
        for (name, store) in each_backend() {
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
            assert_eq!(keys(None, 2), ["s/a", "s/b"], "{name}");
            assert_eq!(keys(Some("s/b"), 2), ["s/c", "s/d"], "{name}");
            assert_eq!(keys(Some("s/d"), 2), Vec::<String>::new(), "{name}");
            assert_eq!(keys(Some("a/9"), 1), ["s/a"], "{name}");
            assert_eq!(keys(Some("z"), 1), Vec::<String>::new(), "{name}");
            assert_eq!(keys(None, 10).len(), 4, "{name}");
            assert!(store.any(Repo::Isms, "t/").unwrap(), "{name}");
            assert!(!store.any(Repo::Isms, "u/").unwrap(), "{name}");
        }
    }

    #[test]
    fn a_scan_streams_past_one_page_in_key_order() {
        for (name, store) in each_backend() {
            let mut batch = Batch::default();
            let n = SCAN_PAGE * 2 + 7;
            for i in 0..n {
                batch.put(Repo::Info, format!("p/{i:05}"), &i);
            }
            batch.put(Repo::Info, "q/0", &0);
            store.apply(&batch).unwrap();
            let all = store.scan::<usize>(Repo::Info, "p/").unwrap();
            assert_eq!(all.len(), n, "{name}");
            assert!(all.iter().enumerate().all(|(i, (_, v))| *v == i), "{name}");
            assert_eq!(store.keys(Repo::Info, "").unwrap().len(), n + 1, "{name}");
        }
    }

    #[test]
    fn a_batch_that_puts_and_deletes_one_key_ends_as_its_last_operation_says() {
        for (name, store) in each_backend() {
            let mut batch = Batch::default();
            batch.put(Repo::Isms, "k", &1);
            batch.put(Repo::Isms, "k", &2);
            batch.delete(Repo::Isms, "gone");
            batch.put(Repo::Isms, "j", &1);
            batch.delete(Repo::Isms, "j");
            store.apply(&batch).unwrap();
            assert_eq!(
                store.get::<i32>(Repo::Isms, "k").unwrap(),
                Some(2),
                "{name}"
            );
            assert_eq!(store.get::<i32>(Repo::Isms, "j").unwrap(), None, "{name}");
        }
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
        for (name, store) in each_backend() {
            let mut batch = Batch::default();
            batch.put(Repo::Info, "x", &"hello");
            store.apply(&batch).unwrap();
            let raw = store.backend.get(Repo::Info, b"x").unwrap().unwrap();
            let record: serde_json::Value = serde_json::from_slice(&raw).unwrap();
            assert_eq!(record["format"], FORMAT_VERSION, "{name}");

            let newer = [Op {
                repo: Repo::Info,
                key: b"y".to_vec(),
                value: Some(br#"{"format": 99, "data": 1}"#.to_vec()),
            }];
            apply_ops(store.backend().as_ref(), &newer).unwrap();
            let err = store.get::<i32>(Repo::Info, "y").unwrap_err();
            assert!(
                matches!(err, StoreError::NewerFormat { found: 99, .. }),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn a_failing_write_closure_writes_nothing() {
        for (name, store) in each_backend() {
            let result: Result<(), StoreError> = store.write(|_, batch| {
                batch.put(Repo::Isms, "k", &1);
                batch.audit(&"refused");
                Err(StoreError::Backend("refused".into()))
            });
            assert!(result.is_err(), "{name}");
            assert_eq!(store.get::<i32>(Repo::Isms, "k").unwrap(), None, "{name}");
            assert!(
                !store.any(Repo::Info, chain::AUDIT_PREFIX).unwrap(),
                "{name}"
            );
        }
    }

    #[test]
    fn writers_of_two_processes_on_one_database_never_lose_an_update_nor_fork_the_chain() {
        // Two stores on one database, each with its own pool and its own
        // process lock: what two servers are. Each thread reads the counter
        // inside its write and puts it back plus one.
        let url = throwaway::shared().unwrap().fresh_database().unwrap();
        let open = || Store::open_at(&Location::Postgres(url.clone()), 4).unwrap();
        let stores = [open(), open()];
        let per_thread = 25;
        std::thread::scope(|scope| {
            for t in 0..8 {
                let store = stores[t % 2].clone();
                scope.spawn(move || {
                    for _ in 0..per_thread {
                        store
                            .write(|inside, batch| {
                                let n: u64 = inside.get(Repo::Isms, "counter")?.unwrap_or(0);
                                batch.put(Repo::Isms, "counter", &(n + 1));
                                batch.audit(&serde_json::json!({ "counter": n + 1 }));
                                Ok::<_, StoreError>(())
                            })
                            .unwrap();
                    }
                });
            }
        });
        let total = 8 * per_thread as u64;
        assert_eq!(
            stores[0].get::<u64>(Repo::Isms, "counter").unwrap(),
            Some(total)
        );
        let report = chain::verify(&stores[1]).unwrap().expect("the chain holds");
        assert_eq!(report.entries, total);
    }

    #[test]
    fn a_database_newer_than_this_release_is_refused_with_a_clear_error() {
        let url = throwaway::shared().unwrap().fresh_database().unwrap();
        drop(PostgresBackend::connect(&url, 2).unwrap());
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .batch_execute("INSERT INTO mmsm_migrations (version, name) VALUES (999, 'future')")
            .unwrap();
        let err = PostgresBackend::connect(&url, 2).err().unwrap();
        assert!(err.to_string().contains("newer than this release"), "{err}");
        // Reconnecting an up-to-date database runs nothing twice.
        client
            .batch_execute("DELETE FROM mmsm_migrations WHERE version = 999")
            .unwrap();
        drop(PostgresBackend::connect(&url, 2).unwrap());
    }

    #[test]
    fn an_unreachable_database_is_named_without_its_password() {
        let err = Store::open_at(
            &Location::Postgres("postgres://mmsm:secret@127.0.0.1:1/none".into()),
            2,
        )
        .err()
        .unwrap();
        let text = err.to_string();
        assert!(
            text.contains("cannot connect to PostgreSQL postgres://mmsm@127.0.0.1:1/none"),
            "{text}"
        );
        assert!(!text.contains("secret"), "{text}");
        assert!(
            std::error::Error::source(&err).is_some(),
            "the cause is kept"
        );
    }
}
