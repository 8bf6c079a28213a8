//! The sled backend: one tree per repository, one transaction per batch.

use std::path::{Path, PathBuf};

use sled::transaction::{ConflictableTransactionError, TransactionError};
use sled::Transactional;

use super::{Backend, Batch, Pair, Pairs, Repo, StoreError};

/// sled's page cache: bounded, so that a server's memory does not grow with
/// the store (sled's default is 1 GiB; 10,000 ISMSs are 350 MB on disk).
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// Repositories as sled trees in one database folder.
pub struct SledBackend {
    db: sled::Db,
    trees: [sled::Tree; 3],
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
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Backend(format!(
                "cannot create the store folder {}: {e}",
                dir.display()
            ))
        })?;
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
                Ok(db) => return Self::over(db),
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
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Self::over(db)
    }

    fn over(db: sled::Db) -> Result<Self, StoreError> {
        let tree = |repo: Repo| {
            db.open_tree(repo.name())
                .map_err(|e| StoreError::Backend(e.to_string()))
        };
        let trees = [tree(Repo::Schemas)?, tree(Repo::Isms)?, tree(Repo::Info)?];
        Ok(SledBackend { db, trees })
    }

    fn tree(&self, repo: Repo) -> &sled::Tree {
        &self.trees[index(repo)]
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
        StoreError::Backend(format!(
            "cannot open the store at {}: {text}",
            path.display()
        ))
    }
}

impl Backend for SledBackend {
    fn get(&self, repo: Repo, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.tree(repo)
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| StoreError::Backend(e.to_string()))
    }

    fn scan(&self, repo: Repo, prefix: &[u8]) -> Result<Pairs, StoreError> {
        self.tree(repo)
            .scan_prefix(prefix)
            .map(|kv| {
                kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| StoreError::Backend(e.to_string()))
            })
            .collect()
    }

    fn last(&self, repo: Repo, prefix: &[u8]) -> Result<Option<Pair>, StoreError> {
        self.tree(repo)
            .scan_prefix(prefix)
            .next_back()
            .transpose()
            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .map_err(|e| StoreError::Backend(e.to_string()))
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
            .map(|kv| {
                kv.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| StoreError::Backend(e.to_string()))
            })
            .collect()
    }

    fn apply(&self, batch: &Batch) -> Result<(), StoreError> {
        let [schemas, isms, info] = &self.trees;
        let result = (schemas, isms, info).transaction(|(schemas, isms, info)| {
            for (n, op) in batch.ops.iter().enumerate() {
                if batch.fail_after == Some(n) {
                    return Err(ConflictableTransactionError::Abort(format!(
                        "injected failure after {n} operations"
                    )));
                }
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
            Ok(())
        });
        result.map_err(|e: TransactionError<String>| match e {
            TransactionError::Abort(message) => StoreError::Backend(message),
            TransactionError::Storage(e) => StoreError::Backend(e.to_string()),
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError::Backend(e.to_string()))
    }
}
