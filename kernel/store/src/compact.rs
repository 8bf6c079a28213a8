//! Rewriting a store folder without the space sled has not reclaimed yet.
//!
//! sled writes every change to the end of its log; a rewritten page leaves
//! its old copy behind until segment cleaning reuses it, so a folder holds
//! more bytes than its records. [`compact`] copies every record of the three
//! repositories into a fresh folder beside the store and swaps the two, so
//! that the folder holds the records and nothing else.
//!
//! The swap survives a kill at any point ([`recover`], run by every open):
//! 1. copy into `{dir}.compacting`, flush, then write `COMPACTED` inside it;
//! 2. rename `{dir}` to `{dir}.before-compact`;
//! 3. rename `{dir}.compacting` to `{dir}`;
//! 4. remove `{dir}.before-compact` and the `COMPACTED` mark.
//!
//! A copy without its mark is incomplete and dropped; a folder missing
//! between steps 2 and 3 comes back from the complete copy, or from the
//! original when the copy is not complete.

use std::path::{Path, PathBuf};

use crate::{Backend, Op, Repo, SledBackend, StoreError};

/// Records copied per transaction.
const PAGE: usize = 1_000;

/// The mark of a complete copy.
const MARK: &str = "COMPACTED";

/// What a compaction did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Compacted {
    /// Records copied, over the three repositories.
    pub records: u64,
    /// Bytes of the folder before.
    pub bytes_before: u64,
    /// Bytes of the folder after.
    pub bytes_after: u64,
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    dir.with_file_name(name)
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError::engine(format!("cannot {what} {}", path.display()))(e)
}

/// The bytes of every file under `dir`.
pub fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => folder_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Finishes or rolls back a compaction of `dir` that was interrupted.
pub fn recover(dir: &Path) -> Result<(), StoreError> {
    let copy = sibling(dir, ".compacting");
    let before = sibling(dir, ".before-compact");
    let complete = copy.join(MARK).exists();
    if !dir.exists() {
        if complete {
            std::fs::rename(&copy, dir).map_err(|e| io("move back", &copy, e))?;
        } else if before.exists() {
            std::fs::rename(&before, dir).map_err(|e| io("move back", &before, e))?;
        }
    }
    if dir.join(MARK).exists() {
        // The swap happened: the original is no longer needed.
        if before.exists() {
            std::fs::remove_dir_all(&before).map_err(|e| io("remove", &before, e))?;
        }
        std::fs::remove_file(dir.join(MARK)).map_err(|e| io("remove", &dir.join(MARK), e))?;
    }
    if copy.exists() {
        // A copy that never became the store (the store is intact).
        std::fs::remove_dir_all(&copy).map_err(|e| io("remove", &copy, e))?;
    }
    Ok(())
}

/// Rewrites the store in `dir` (which no process may hold) into a fresh
/// folder and swaps them; `progress` hears the records copied so far.
pub fn compact(dir: &Path, progress: &dyn Fn(u64)) -> Result<Compacted, StoreError> {
    if !dir.join("conf").exists() {
        recover(dir)?;
    }
    if !dir.join("conf").exists() {
        return Err(StoreError::Backend(format!(
            "there is no store at {} to compact",
            dir.display()
        )));
    }
    let copy_dir = sibling(dir, ".compacting");
    let (records, bytes_before) = {
        // Holding the store: no other process writes to it or compacts it.
        let source = SledBackend::open(dir)?;
        recover(dir)?;
        let bytes_before = folder_bytes(dir);
        let copy = SledBackend::open(&copy_dir)?;
        let records = copy_all(&source, &copy, progress)?;
        copy.flush()?;
        (records, bytes_before)
    };
    let mark = copy_dir.join(MARK);
    std::fs::write(&mark, b"a complete copy of the store\n").map_err(|e| io("write", &mark, e))?;
    std::fs::File::open(&mark)
        .and_then(|f| f.sync_all())
        .map_err(|e| io("sync", &mark, e))?;
    let before = sibling(dir, ".before-compact");
    std::fs::rename(dir, &before).map_err(|e| io("move", dir, e))?;
    std::fs::rename(&copy_dir, dir).map_err(|e| io("move", &copy_dir, e))?;
    recover(dir)?;
    Ok(Compacted {
        records,
        bytes_before,
        bytes_after: folder_bytes(dir),
    })
}

/// Calls `each` with every page of `repo` in `backend`, in key order.
fn for_each_page(
    backend: &dyn Backend,
    repo: Repo,
    each: impl FnMut(crate::Pairs) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    crate::for_each_page(backend, repo, b"", PAGE, each)
}

/// Copies every pair of the three repositories of `source` into `copy`,
/// [`PAGE`] records per transaction, and checks that the copy holds as many
/// as the source. `progress` gets the records copied so far.
pub fn copy_all(
    source: &dyn Backend,
    copy: &dyn Backend,
    progress: &dyn Fn(u64),
) -> Result<u64, StoreError> {
    let mut records = 0;
    for repo in Repo::ALL {
        let mut copied = 0;
        for_each_page(source, repo, |page| {
            let n = page.len() as u64;
            let ops: Vec<Op> = page
                .into_iter()
                .map(|(key, value)| Op {
                    repo,
                    key,
                    value: Some(value),
                })
                .collect();
            crate::apply_ops(copy, &ops)?;
            copied += n;
            records += n;
            progress(records);
            Ok(())
        })?;
        let mut counted = 0;
        for_each_page(copy, repo, |page| {
            counted += page.len() as u64;
            Ok(())
        })?;
        if counted != copied {
            return Err(StoreError::Backend(format!(
                "the copy of the {} repository holds {counted} records where the store holds {copied}",
                repo.name()
            )));
        }
    }
    Ok(records)
}

/// Copies a whole store (schemas, ISMSs, daily records, audit trail) into
/// `target`, which must hold no record: a copy never merges into a store.
pub fn copy_store(
    source: &dyn Backend,
    target: &dyn Backend,
    progress: &dyn Fn(u64),
) -> Result<u64, StoreError> {
    for repo in Repo::ALL {
        if !target.scan_page(repo, b"", None, 1)?.is_empty() {
            return Err(StoreError::Backend(format!(
                "{} already holds records (its {} repository is not empty); copy into a new folder or an empty database",
                target.describe(),
                repo.name()
            )));
        }
    }
    copy_all(source, target, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Reader;

    fn fill(dir: &Path, n: usize) {
        let store = crate::Store::open(dir).unwrap();
        for i in 0..n {
            store
                .write(|_, batch| {
                    batch.put(Repo::Isms, format!("isms/{i:04}"), &vec![i; 200]);
                    batch.put(Repo::Isms, "isms/counter", &i);
                    batch.put(Repo::Info, format!("history/{i:04}"), &i);
                    batch.audit(&serde_json::json!({ "n": i }));
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
    }

    fn dump(dir: &Path) -> Vec<(Repo, Vec<u8>, Vec<u8>)> {
        let backend = SledBackend::open(dir).unwrap();
        Repo::ALL
            .into_iter()
            .flat_map(|repo| {
                backend
                    .scan_page(repo, b"", None, usize::MAX)
                    .unwrap()
                    .into_iter()
                    .map(move |(k, v)| (repo, k, v))
            })
            .collect()
    }

    #[test]
    fn a_compacted_store_holds_the_same_records_in_fewer_bytes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        fill(&dir, 300);
        let records = dump(&dir);
        let done = compact(&dir, &|_| {}).unwrap();
        assert_eq!(done.records, records.len() as u64);
        assert_eq!(dump(&dir), records, "every record, byte for byte");
        assert!(
            done.bytes_after < done.bytes_before,
            "{} bytes after, {} before",
            done.bytes_after,
            done.bytes_before
        );
        assert!(!sibling(&dir, ".before-compact").exists());
        assert!(!sibling(&dir, ".compacting").exists());
        assert!(!dir.join(MARK).exists());
    }

    #[test]
    fn a_compaction_killed_at_any_step_leaves_one_whole_store() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        fill(&dir, 50);
        let records = dump(&dir);
        let copy = sibling(&dir, ".compacting");
        let before = sibling(&dir, ".before-compact");
        let make_copy = || {
            let source = SledBackend::open(&dir).unwrap();
            let target = SledBackend::open(&copy).unwrap();
            copy_all(&source, &target, &|_| {}).unwrap();
            target.flush().unwrap();
        };
        // Killed during the copy: the copy is dropped, the store is intact.
        make_copy();
        recover(&dir).unwrap();
        assert!(!copy.exists());
        assert_eq!(dump(&dir), records);
        // Killed after the mark, before the first rename: the same.
        make_copy();
        std::fs::write(copy.join(MARK), b"").unwrap();
        recover(&dir).unwrap();
        assert_eq!(dump(&dir), records);
        // Killed between the two renames, with a complete copy: it becomes the store.
        make_copy();
        std::fs::write(copy.join(MARK), b"").unwrap();
        std::fs::rename(&dir, &before).unwrap();
        recover(&dir).unwrap();
        assert!(!before.exists() && !copy.exists());
        assert_eq!(dump(&dir), records);
        // The original moved aside and no complete copy: the original comes back.
        std::fs::rename(&dir, &before).unwrap();
        recover(&dir).unwrap();
        assert_eq!(dump(&dir), records);
        // Opening the store runs the same recovery.
        make_copy();
        std::fs::write(copy.join(MARK), b"").unwrap();
        std::fs::rename(&dir, &before).unwrap();
        let store = crate::Store::open(&dir).unwrap();
        assert_eq!(
            store.get::<usize>(Repo::Isms, "isms/counter").unwrap(),
            Some(49)
        );
    }
}
