//! The hash-chained audit trail (issue 8.5).
//!
//! Services add audit entries to a [`Batch`](super::Batch) with
//! [`Batch::audit`](super::Batch::audit); when the batch is applied, under the
//! store's write lock, each entry is numbered, linked to the hash of the one
//! before it and stored at `audit/e/{seq}` in the info repository, and the
//! chain head `audit/head` moves in the same transaction. So the chain has no
//! gap and no fork, and [`verify`] detects an edited, reordered or deleted
//! record.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Repo, Store, StoreError};

/// The key of the chain head in the info repository.
pub const AUDIT_HEAD: &str = "audit/head";
/// The prefix of the chained entries in the info repository.
pub const AUDIT_PREFIX: &str = "audit/e/";
/// The `prev` of the first entry.
pub const GENESIS: &str = "genesis";

/// The last link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ChainHead {
    /// The number of entries (the seq of the last one).
    pub seq: u64,
    /// The hash of the last entry ([`GENESIS`] when empty).
    pub hash: String,
}

/// One stored link: the entry, its number, the previous hash and its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainedEntry {
    /// 1 for the first entry.
    pub seq: u64,
    /// The hash of the entry before ([`GENESIS`] for the first).
    pub prev: String,
    /// sha256 over seq, prev and the canonical JSON of `entry`.
    pub hash: String,
    /// The audit entry (who, when, what, which ids).
    pub entry: serde_json::Value,
}

/// The key of entry `seq`.
pub fn entry_key(seq: u64) -> String {
    format!("{AUDIT_PREFIX}{seq:016}")
}

/// The hash of an entry: sha256 over `seq`, `prev` and the canonical JSON of
/// `entry` (object keys sorted), in lowercase hex.
pub fn link_hash(seq: u64, prev: &str, entry: &serde_json::Value) -> String {
    let canonical = serde_json::to_string(entry).unwrap_or_default();
    let mut hasher = Sha256::new();
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(prev.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex(&hasher.finalize())
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a walk of an intact chain found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainReport {
    /// The number of entries checked.
    pub entries: u64,
    /// The hash of the last one.
    pub head: String,
}

/// The first broken link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("the audit trail is broken at {key}: {reason}{}", more_breaks(.others))]
pub struct ChainBreak {
    /// The first broken record.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
    /// How many records were read.
    pub checked: u64,
    /// Every other broken record after it: the walk goes on past a break, so
    /// an edit behind a first one is seen too.
    pub others: Vec<BrokenRecord>,
}

/// A broken record after the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenRecord {
    /// Its key.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

fn more_breaks(others: &[BrokenRecord]) -> String {
    if others.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = others
        .iter()
        .map(|b| format!("{} ({})", b.key, b.reason))
        .collect();
    format!("; and {} more: {}", others.len(), listed.join("; "))
}

/// Walks the whole chain, oldest first: `Ok` with the number of records and
/// the head when every link holds, else every broken record (the first with
/// the count of records read). An edited record does not hide the ones after
/// it: the walk goes on from its stored hash, and a gap resynchronises on the
/// next record found.
pub fn verify(store: &Store) -> Result<Result<ChainReport, ChainBreak>, StoreError> {
    let mut prev = GENESIS.to_owned();
    let mut seq = 0u64;
    let mut checked = 0u64;
    let mut breaks: Vec<BrokenRecord> = Vec::new();
    // A link after a broken record is that record's break, not a new one.
    let mut after_break = false;
    store.for_each_raw(Repo::Info, AUDIT_PREFIX, |key, v| {
        checked += 1;
        let key = key.to_owned();
        // The place the key gives the record: entry n at `audit/e/{n}`.
        let place = key[AUDIT_PREFIX.len()..].parse::<u64>().ok();
        let mut reasons: Vec<String> = Vec::new();
        let expected_place = seq + 1;
        match place {
            Some(n) if n > expected_place => {
                reasons.push(if n == expected_place + 1 {
                    format!("entry {expected_place} is missing (deleted)")
                } else {
                    format!(
                        "entries {expected_place} to {} are missing (deleted)",
                        n - 1
                    )
                });
            }
            Some(_) => {}
            None => reasons.push("its key is not an entry number".into()),
        }
        seq = place.unwrap_or(expected_place).max(expected_place);
        match super::decode::<ChainedEntry>(Repo::Info, &key, v) {
            Err(e) => reasons.push(format!("the record cannot be read ({e})")),
            Ok(link) => {
                if link.seq != seq {
                    reasons.push(format!("it holds entry {} (moved or reordered)", link.seq));
                }
                if reasons.is_empty() && !after_break && link.prev != prev {
                    reasons.push(format!(
                        "its link to the previous entry does not match (an entry before it was deleted, edited or reordered): expected {prev}, found {}",
                        link.prev
                    ));
                }
                if link_hash(link.seq, &link.prev, &link.entry) != link.hash {
                    reasons.push("its content was edited: the hash does not match".into());
                }
                prev = link.hash;
            }
        }
        after_break = !reasons.is_empty();
        if after_break {
            breaks.push(BrokenRecord {
                key,
                reason: reasons.join("; "),
            });
        }
        Ok(())
    })?;
    let head: ChainHead = store.get(Repo::Info, AUDIT_HEAD)?.unwrap_or(ChainHead {
        seq: 0,
        hash: GENESIS.into(),
    });
    if head.seq != seq || head.hash != prev {
        breaks.push(BrokenRecord {
            key: AUDIT_HEAD.into(),
            reason: format!(
                "the head names entry {} ({}), but the chain ends at entry {seq} ({prev}): the last entries were deleted",
                head.seq, head.hash
            ),
        });
    }
    let mut breaks = breaks.into_iter();
    Ok(match breaks.next() {
        None => Ok(ChainReport {
            entries: seq,
            head: prev,
        }),
        Some(first) => Err(ChainBreak {
            key: first.key,
            reason: first.reason,
            checked,
            others: breaks.collect(),
        }),
    })
}

/// Every entry of the chain, oldest first.
pub fn entries(store: &Store) -> Result<Vec<ChainedEntry>, StoreError> {
    Ok(store
        .scan::<ChainedEntry>(Repo::Info, AUDIT_PREFIX)?
        .into_iter()
        .map(|(_, e)| e)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Batch;

    #[test]
    fn entries_with_any_float_verify_after_a_read_back() {
        // Before float_roundtrip, a value like 53.239543057251396 read back one
        // ulp off and an untouched record was reported as edited.
        let store = Store::temporary().unwrap();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for n in 0..300 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let value = f64::from_bits(state >> 12 | 0x3ff0_0000_0000_0000) * 100.0 - 100.0;
            let mut batch = Batch::default();
            batch.audit(&serde_json::json!({ "n": n, "after": value, "before": value / 3.0 }));
            store.apply(&batch).unwrap();
        }
        let report = verify(&store)
            .unwrap()
            .expect("an untouched trail verifies");
        assert_eq!(report.entries, 300);
    }

    #[test]
    fn every_edited_record_is_reported_not_only_the_first() {
        let store = Store::temporary().unwrap();
        for n in 0..10 {
            let mut batch = Batch::default();
            batch.audit(&serde_json::json!({ "n": n, "user": "ana" }));
            store.apply(&batch).unwrap();
        }
        let mut batch = Batch::default();
        for seq in [3, 7] {
            let mut link: ChainedEntry = store.get(Repo::Info, &entry_key(seq)).unwrap().unwrap();
            link.entry["user"] = serde_json::json!("mallory");
            batch.put(Repo::Info, entry_key(seq), &link);
        }
        store.apply(&batch).unwrap();
        let broken = verify(&store).unwrap().unwrap_err();
        assert_eq!(broken.key, entry_key(3));
        assert!(broken.reason.contains("edited"), "{}", broken.reason);
        assert_eq!(broken.checked, 10);
        assert_eq!(broken.others.len(), 1, "{broken}");
        assert_eq!(broken.others[0].key, entry_key(7));
        assert!(broken.to_string().contains("and 1 more"), "{broken}");
    }

    #[test]
    fn a_reorder_and_a_deletion_blame_the_records_moved_and_the_gap_not_their_neighbours() {
        let store = Store::temporary().unwrap();
        for n in 0..10 {
            let mut batch = Batch::default();
            batch.audit(&serde_json::json!({ "n": n }));
            store.apply(&batch).unwrap();
        }
        let get =
            |seq| -> ChainedEntry { store.get(Repo::Info, &entry_key(seq)).unwrap().unwrap() };
        let (four, five) = (get(4), get(5));
        let mut batch = Batch::default();
        batch.put(Repo::Info, entry_key(4), &five);
        batch.put(Repo::Info, entry_key(5), &four);
        batch.delete(Repo::Info, entry_key(8));
        store.apply(&batch).unwrap();
        let broken = verify(&store).unwrap().unwrap_err();
        let keys: Vec<&str> = std::iter::once(broken.key.as_str())
            .chain(broken.others.iter().map(|b| b.key.as_str()))
            .collect();
        assert_eq!(keys, [entry_key(4), entry_key(5), entry_key(9)], "{broken}");
        assert!(
            broken.others[1].reason.contains("entry 8 is missing"),
            "{broken}"
        );
        assert_eq!(broken.checked, 9);
    }
}
