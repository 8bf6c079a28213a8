//! The sled backend: one tree per repository, one sled transaction across
//! the three trees per write.
//!
//! sled holds its folder for one process, and the [`Store`](crate::Store)
//! serialises that process's writers, so a [`Txn`] here reads the trees
//! directly: nobody else can commit between its reads and its commit. Its
//! operations wait in memory and land in one sled transaction at commit.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::{Backend, Op, Pair, Pairs, Reader, ReadsThrough, Repo, StoreError, Txn};

/// sled's page cache: bounded, so that a server's memory does not grow with
/// the store (sled's default is 1 GiB; 10,000 ISMSs are 350 MB on disk).
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Repositories as sled trees in one database folder.
pub struct SledBackend {
    db: sled::Db,
    trees: Trees,
    place: String,
}

impl SledBackend {
    /// Opens (creating on first use) the database in `dir`; a folder locked
    /// by another handle is waited for up to [`LOCK_WAIT`].
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        // A compaction killed between its two renames: finish or roll it back
        // (the rest of its leftovers are cleared by the next compaction).
        if !dir.exists() {
            crate::compact::recover(dir)?;
        }
        std::fs::create_dir_all(dir).map_err(StoreError::engine(format!(
            "cannot create the store folder {}",
            dir.display()
        )))?;
        // A process that just closed the folder (a stopped server, a finished
        // command) releases sled's lock from a background thread: wait a
        // moment for it before calling the folder in use.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        loop {
            match sled::Config::new()
                .path(dir)
                .cache_capacity(CACHE_BYTES)
                .open()
            {
                Ok(db) => return Self::over(db, format!("sled folder {}", dir.display())),
                Err(e) => match open_error(dir.to_path_buf(), e) {
                    StoreError::Locked { .. } if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(25));
                    }
                    other => return Err(other),
                },
            }
        }
    }

    /// A database that lives in memory (and a temp file) only.
    pub fn temporary() -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(StoreError::engine("cannot open a temporary sled store"))?;
        Self::over(db, "temporary sled store".into())
    }

    fn over(db: sled::Db, place: String) -> Result<Self, StoreError> {
        let tree = |repo: Repo| {
            db.open_tree(repo.name())
                .map_err(StoreError::engine(format!(
                    "cannot open the {} repository",
                    repo.name()
                )))
        };
        let trees = [tree(Repo::Schemas)?, tree(Repo::Isms)?, tree(Repo::Info)?];
        Ok(SledBackend {
            db,
            trees: Trees(trees),
            place,
        })
    }
}

fn index(repo: Repo) -> usize {
    match repo {
        Repo::Schemas => 0,
        Repo::Isms => 1,
        Repo::Info => 2,
    }
}

/// How long opening waits for another handle to release the folder.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

fn open_error(path: PathBuf, e: sled::Error) -> StoreError {
    let text = e.to_string();
    let locked = matches!(&e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock)
        || text.contains("could not acquire lock");
    if locked {
        StoreError::Locked { path }
    } else {
        StoreError::engine(format!("cannot open the store at {}", path.display()))(e)
    }
}

fn read_error(repo: Repo) -> impl FnOnce(sled::Error) -> StoreError {
    StoreError::engine(format!("cannot read the {} repository", repo.name()))
}

fn pair((k, v): (sled::IVec, sled::IVec)) -> Pair {
    (k.to_vec(), v.to_vec())
}

/// The reads of a backend and of its transactions: the three trees.
#[derive(Clone)]
struct Trees([sled::Tree; 3]);

impl Trees {
    fn tree(&self, repo: Repo) -> &sled::Tree {
        &self.0[index(repo)]
    }
}

impl Reader for Trees {
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree(repo)
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(read_error(repo))
    }

    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError> {
        self.tree(repo)
            .scan_prefix(prefix)
            .next_back()
            .transpose()
            .map(|kv| kv.map(pair))
            .map_err(read_error(repo))
    }

    fn scan_page(
        &self,
        repo: Repo,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        let tree = self.tree(repo);
        let iter = match after {
            Some(after) if after >= prefix => tree
                .range::<&[u8], _>((std::ops::Bound::Excluded(after), std::ops::Bound::Unbounded)),
            _ => tree.range::<&[u8], _>(prefix..),
        };
        iter.take_while(|kv| kv.as_ref().map_or(true, |(k, _)| k.starts_with(prefix)))
            .take(limit)
            .map(|kv| kv.map(pair).map_err(read_error(repo)))
            .collect()
    }
}

impl ReadsThrough for SledBackend {
    fn reads_through(&self) -> &dyn Reader {
        &self.trees
    }
}

impl Backend for SledBackend {
    fn begin(&self) -> Result<Arc<dyn Txn>, StoreError> {
        Ok(Arc::new(SledTxn {
            db: self.db.clone(),
            trees: self.trees.clone(),
            pending: Mutex::new(Vec::new()),
        }))
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(StoreError::engine("cannot flush the store to disk"))
    }

    fn describe(&self) -> String {
        self.place.clone()
    }
}

/// A write on sled: reads go to the trees, operations wait for the commit.
struct SledTxn {
    db: sled::Db,
    trees: Trees,
    pending: Mutex<Vec<Op>>,
}

impl ReadsThrough for SledTxn {
    fn reads_through(&self) -> &dyn Reader {
        &self.trees
    }
}

impl Txn for SledTxn {
    fn apply(&self, ops: &[Op]) -> Result<(), StoreError> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(ops);
        Ok(())
    }

    fn commit(&self) -> Result<(), StoreError> {
        let ops = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let [schemas, isms, info] = &self.trees.0;
        let result = (schemas, isms, info).transaction(|(schemas, isms, info)| {
            for op in &ops {
                let tree = match op.repo {
                    Repo::Schemas => schemas,
                    Repo::Isms => isms,
                    Repo::Info => info,
                };
                match &op.value {
                    Some(value) => tree.insert(op.key.as_slice(), value.as_slice())?,
                    None => tree.remove(op.key.as_slice())?,
                };
            }
            Ok::<_, ConflictableTransactionError<std::convert::Infallible>>(())
        });
        result.map_err(|e| match e {
            TransactionError::Abort(never) => match never {},
            TransactionError::Storage(e) => StoreError::engine("cannot write to the store")(e),
        })?;
        self.db
            .flush()
            .map(|_| ())
            .map_err(StoreError::engine("cannot flush the store to disk"))
    }
}
