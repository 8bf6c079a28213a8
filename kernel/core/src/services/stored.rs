//! How an ISMS is laid out in the isms repository (issue 12): the kernel's
//! own serde types with a format version, apart from [`IsmsRecord`] (what the
//! services and the API hold), split so that one answer rewrites only the
//! small part it changes.
//!
//! - `isms/{id}`: the head ([`Head`]): enterprise, schema, users, inputs other
//!   than the answers, instantiated documents, with `record_format`;
//! - `isms-answers/{id}/{bucket}`: the technical-checklist answers, in
//!   [`BUCKETS`] buckets by a stable hash of the subcontrol id.
//!
//! The board is not stored: it is derived from the inputs, and the caller of
//! [`read`] derives it (from the kernel's live engine, or a new one). Every
//! write of any part writes the summary row ([`super::listing`]) with a new
//! revision: a reader that finds the same revision before and after reading
//! the parts saw no write in between. Records of format 1 (one whole record
//! at `isms/{id}`, board included) are still read, and are rewritten in
//! format 2 on their next write.

use std::collections::BTreeMap;
use std::hash::Hasher;

use serde::{Deserialize, Serialize};

use mmsm_engine::{Board, Inputs};
use mmsm_model::{Answer, Department, Enterprise, IsmsId, Speaker, SubControlId, User};
use mmsm_store::{Batch, Repo, Store, StoreError};

use super::gsgs::{Archived, Instantiated, IsmsRecord, SchemaChoice};

/// The layout this release writes.
pub(crate) const RECORD_FORMAT: u32 = 2;
/// How many buckets the answers of one ISMS are split into.
pub(crate) const BUCKETS: u64 = 16;
/// How often a read retries when writes keep landing in the middle of it.
const READ_ATTEMPTS: usize = 8;

/// The head of an ISMS: everything but its answers and its board.
#[derive(Serialize, Deserialize)]
struct Head {
    /// 2 for this layout; absent (1) for a whole record of earlier releases.
    #[serde(default = "whole_record")]
    record_format: u32,
    id: IsmsId,
    enterprise: Enterprise,
    schema: SchemaChoice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    speaker: Option<Speaker>,
    #[serde(default)]
    departments: Vec<Department>,
    #[serde(default)]
    users: Vec<User>,
    /// Without the answers in format 2; with them in format 1.
    inputs: Inputs,
    instantiated: Instantiated,
    created_at: u64,
    created_by: String,
    /// Format 1 only.
    #[serde(default, skip_serializing)]
    board: Option<Board>,
    /// Format 1 only.
    #[serde(default, skip_serializing)]
    revision: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    archived: Option<Archived>,
}

fn whole_record() -> u32 {
    1
}

/// Borrowed forms of the parts, to write without copying the record.
#[derive(Serialize)]
struct HeadRef<'a> {
    record_format: u32,
    id: &'a IsmsId,
    enterprise: &'a Enterprise,
    schema: &'a SchemaChoice,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker: &'a Option<Speaker>,
    departments: &'a [Department],
    users: &'a [User],
    inputs: &'a Inputs,
    instantiated: &'a Instantiated,
    created_at: u64,
    created_by: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    archived: &'a Option<Archived>,
}

/// The key of an ISMS's head.
pub(crate) fn head_key(id: &str) -> String {
    format!("isms/{id}")
}

fn answers_prefix(id: &str) -> String {
    format!("isms-answers/{id}/")
}

fn bucket_key(id: &str, bucket: u64) -> String {
    format!("isms-answers/{id}/{bucket:02}")
}

/// The bucket of a subcontrol's answer: FNV-1a of its id, stable across
/// releases and platforms (unlike the standard library's hasher).
fn bucket_of(subcontrol: &SubControlId) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(subcontrol.as_str().as_bytes());
    hasher.finish() % BUCKETS
}

/// Writes every part of `record` (at its current revision) into `batch`.
pub(crate) fn write_whole(batch: &mut Batch, record: &mut IsmsRecord) {
    let answers = std::mem::take(&mut record.inputs.answers);
    batch.put(Repo::Isms, head_key(record.id.as_str()), &head_ref(record));
    record.inputs.answers = answers;
    let mut buckets: Vec<BTreeMap<&SubControlId, &Answer>> =
        (0..BUCKETS).map(|_| BTreeMap::new()).collect();
    for (subcontrol, answer) in &record.inputs.answers {
        buckets[bucket_of(subcontrol) as usize].insert(subcontrol, answer);
    }
    for (bucket, answers) in buckets.iter().enumerate() {
        let key = bucket_key(record.id.as_str(), bucket as u64);
        if answers.is_empty() {
            batch.delete(Repo::Isms, key);
        } else {
            batch.put(Repo::Isms, key, answers);
        }
    }
}

/// Writes the part of `record` that holds `subcontrol`'s answer: all that one
/// answer changes (with the summary row, written by the caller). The head must be in format 2 already
/// (the caller read the record through [`read`], which tells).
pub(crate) fn write_answer(batch: &mut Batch, record: &IsmsRecord, subcontrol: &SubControlId) {
    let bucket = bucket_of(subcontrol);
    let key = bucket_key(record.id.as_str(), bucket);
    // One pass over the answers: hashing each id is most of this write's cost.
    let answers: Vec<(&SubControlId, &Answer)> = record
        .inputs
        .answers
        .iter()
        .filter(|(s, _)| bucket_of(s) == bucket)
        .collect();
    if answers.is_empty() {
        batch.delete(Repo::Isms, key);
    } else {
        batch.put(Repo::Isms, key, &Bucket(answers));
    }
}

/// The answers of one bucket, in subcontrol order, serialised as a map.
struct Bucket<'a>(Vec<(&'a SubControlId, &'a Answer)>);

impl Serialize for Bucket<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().copied())
    }
}

fn head_ref(record: &IsmsRecord) -> HeadRef<'_> {
    HeadRef {
        record_format: RECORD_FORMAT,
        id: &record.id,
        enterprise: &record.enterprise,
        schema: &record.schema,
        speaker: &record.speaker,
        departments: &record.departments,
        users: &record.users,
        inputs: &record.inputs,
        instantiated: &record.instantiated,
        created_at: record.created_at,
        created_by: &record.created_by,
        archived: &record.archived,
    }
}

/// A record read back, and whether it is in this release's layout (an
/// answer may then rewrite only its part).
pub(crate) struct Read {
    pub(crate) record: IsmsRecord,
    pub(crate) current_format: bool,
}

/// What the board of a stored ISMS is derived from.
pub(crate) struct Unboarded<'a> {
    pub(crate) id: &'a IsmsId,
    pub(crate) schema: &'a SchemaChoice,
    pub(crate) revision: u64,
    pub(crate) inputs: &'a Inputs,
}

/// The ISMS `id` as stored, whole, or `None` if there is none. `revision`
/// reads the summary row's revision, before and after the parts: when they
/// differ a write landed in the middle and the read starts again. `board`
/// derives the board of a record of format 2 from its inputs.
pub(crate) fn read<E: From<StoreError>>(
    store: &Store,
    id: &str,
    revision: impl Fn() -> Result<Option<u64>, StoreError>,
    board: impl FnOnce(Unboarded<'_>) -> Result<Board, E>,
) -> Result<Option<Read>, E> {
    // Optimistic first: readers never wait for writers. Under a stream of
    // writes to the same ISMS (16 clients answering, the soak test) every
    // attempt can be overtaken; the last one then reads under the writer lock.
    let mut parts = None;
    for _ in 0..READ_ATTEMPTS {
        if let Some(found) = read_parts(store, id, &revision)? {
            parts = Some(found);
            break;
        }
    }
    let parts = match parts {
        Some(parts) => parts,
        None => store
            .read_locked(|store| read_parts(store, id, &revision))?
            .ok_or_else(|| {
                StoreError::Backend(format!(
                    "ISMS `{id}` kept changing while it was read under the lock"
                ))
            })?,
    };
    let (head, at) = match parts {
        Parts::Missing => return Ok(None),
        Parts::Old(read) => return Ok(Some(*read)),
        Parts::Current(head, at) => (*head, at),
    };
    let board = board(Unboarded {
        id: &head.id,
        schema: &head.schema,
        revision: at,
        inputs: &head.inputs,
    })?;
    Ok(Some(Read {
        record: assemble(head, board, at),
        current_format: true,
    }))
}

/// What one read of the parts found.
enum Parts {
    /// No such ISMS.
    Missing,
    /// A record of an older layout, whole in its head.
    Old(Box<Read>),
    /// The head with its answers, at this revision.
    Current(Box<Head>, u64),
}

/// Reads the head and the answer buckets of `id`; `None` when a write landed
/// in the middle (the revision moved).
fn read_parts(
    store: &Store,
    id: &str,
    revision: &impl Fn() -> Result<Option<u64>, StoreError>,
) -> Result<Option<Parts>, StoreError> {
    let before = revision()?;
    let Some(mut head) = store.get::<Head>(Repo::Isms, &head_key(id))? else {
        return Ok(Some(Parts::Missing));
    };
    if head.record_format > RECORD_FORMAT {
        return Err(StoreError::NewerFormat {
            key: head_key(id),
            found: head.record_format,
        });
    }
    if head.record_format < RECORD_FORMAT {
        let Some(board) = head.board.take() else {
            return Err(missing(id, "its board"));
        };
        let revision = head.revision;
        return Ok(Some(Parts::Old(Box::new(Read {
            record: assemble(head, board, revision),
            current_format: false,
        }))));
    }
    for (_, bucket) in
        store.scan::<BTreeMap<SubControlId, Answer>>(Repo::Isms, &answers_prefix(id))?
    {
        head.inputs.answers.extend(bucket);
    }
    if revision()? != before {
        return Ok(None);
    }
    // Without a summary row (a store whose index is being rebuilt) the
    // revision is 0, which no write gives: nothing live is mistaken for it.
    Ok(Some(Parts::Current(Box::new(head), before.unwrap_or(0))))
}

fn missing(id: &str, what: &str) -> StoreError {
    StoreError::Corrupt {
        repo: Repo::Isms.name(),
        key: head_key(id),
        message: format!("the ISMS record is incomplete: {what} is missing"),
    }
}

fn assemble(head: Head, board: Board, revision: u64) -> IsmsRecord {
    IsmsRecord {
        id: head.id,
        enterprise: head.enterprise,
        schema: head.schema,
        speaker: head.speaker,
        departments: head.departments,
        users: head.users,
        inputs: head.inputs,
        instantiated: head.instantiated,
        created_at: head.created_at,
        created_by: head.created_by,
        board: board.into(),
        revision,
        archived: head.archived,
    }
}

/// The users of ISMS `id`, read from its head alone (the answers and the
/// board are not touched), or `None` if there is no such ISMS: what a login
/// account of the enterprise holds on each request.
pub(crate) fn users(store: &Store, id: &str) -> Result<Option<Vec<User>>, StoreError> {
    #[derive(Deserialize)]
    struct UsersOnly {
        #[serde(default)]
        users: Vec<User>,
    }
    Ok(store
        .get::<UsersOnly>(Repo::Isms, &head_key(id))?
        .map(|h| h.users))
}

/// The ids of every ISMS, in key order.
pub(crate) fn ids(store: &Store) -> Result<Vec<String>, StoreError> {
    Ok(store
        .keys(Repo::Isms, "isms/")?
        .into_iter()
        .filter_map(|k| k.strip_prefix("isms/").map(str::to_owned))
        .collect())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use mmsm_engine::Change;

    use super::super::{fixture, Kernel, ServiceError};
    use super::*;
    use crate::access::Principal;

    fn generated(dir: &Path) -> (Kernel, String) {
        let (kernel, ids) = fixture::msgs_kernel(Store::open(dir).unwrap(), &["Taller Gil"]);
        (kernel, ids[0].clone())
    }

    fn answer(kernel: &Kernel, id: &str, subcontrol: &SubControlId, answer: Answer) {
        let change = Change::Answer {
            subcontrol: subcontrol.clone(),
            answer: Some(answer),
        };
        kernel
            .update_isms(&Principal::local_operator(), id, change, "answer")
            .unwrap();
    }

    #[test]
    fn a_whole_record_of_format_1_is_read_and_its_next_answer_rewrites_it_in_format_2() {
        let dir = tempfile::tempdir().unwrap();
        let local = Principal::local_operator();
        let (kernel, id) = generated(dir.path());
        let record = kernel.isms(&local, &id).unwrap();
        // As earlier releases stored it: the whole record at `isms/{id}`.
        kernel
            .store()
            .write(|_, batch| {
                batch.put(Repo::Isms, head_key(&id), &record);
                for bucket in 0..BUCKETS {
                    batch.delete(Repo::Isms, bucket_key(&id, bucket));
                }
                Ok::<_, ServiceError>(())
            })
            .unwrap();
        drop(kernel);

        // A new process (no live engine kept) reads it whole.
        let kernel = Kernel::new(Store::open(dir.path()).unwrap());
        assert_eq!(kernel.isms(&local, &id).unwrap(), record);
        let first = record.inputs.answers.keys().next().unwrap().clone();
        let flipped = match record.inputs.answers[&first] {
            Answer::Yes => Answer::No,
            _ => Answer::Yes,
        };
        answer(&kernel, &id, &first, flipped);

        let head: serde_json::Value = kernel
            .store()
            .get(Repo::Isms, &head_key(&id))
            .unwrap()
            .unwrap();
        assert_eq!(head["record_format"], 2);
        assert!(head["inputs"].get("answers").is_none(), "{head}");
        assert!(head.get("board").is_none());
        let read = kernel.isms(&local, &id).unwrap();
        let mut expected = record.inputs.answers.clone();
        expected.insert(first, flipped);
        assert_eq!(read.inputs.answers, expected);
        assert_eq!(read.users, record.users);
        assert_eq!(read.instantiated, record.instantiated);
    }

    #[test]
    fn answers_rewrite_their_buckets_and_the_whole_reads_back_with_the_engines_board() {
        let dir = tempfile::tempdir().unwrap();
        let local = Principal::local_operator();
        let (kernel, id) = generated(dir.path());
        let before = kernel.isms(&local, &id).unwrap();
        let subs: Vec<SubControlId> = before.inputs.answers.keys().cloned().collect();
        for sub in &subs {
            answer(&kernel, &id, sub, Answer::Partial);
        }
        // Read by a process that keeps nothing live: only what is stored.
        drop(kernel);
        let kernel = Kernel::new(Store::open(dir.path()).unwrap());
        let after = kernel.isms(&local, &id).unwrap();
        assert_eq!(after.inputs.answers.len(), subs.len());
        assert!(after.inputs.answers.values().all(|a| *a == Answer::Partial));
        let (_, engine) = kernel.isms_engine(&local, &id).unwrap();
        let mut board = engine.board();
        board.isms = id.clone();
        assert_eq!(*after.board, board, "the board read is the engine's");
        assert_ne!(after.board, before.board);
    }

    #[test]
    fn a_read_that_a_write_overtook_starts_again_and_one_that_never_settles_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let (kernel, id) = generated(dir.path());
        let store = kernel.store();
        let revision = super::super::listing::summary_revision(store, &id)
            .unwrap()
            .unwrap();
        let board = kernel
            .isms(&Principal::local_operator(), &id)
            .unwrap()
            .board;
        // A write landed between the first look at the summary and the second.
        let calls = std::cell::Cell::new(0);
        let read = read(
            store,
            &id,
            || {
                calls.set(calls.get() + 1);
                Ok(Some(if calls.get() == 1 {
                    revision ^ 1
                } else {
                    revision
                }))
            },
            |parts| {
                assert_eq!(parts.revision, revision);
                Ok::<_, ServiceError>((*board).clone())
            },
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            calls.get(),
            4,
            "read twice, the revision looked at twice each time"
        );
        assert_eq!(read.record.revision, revision);
        assert!(read.current_format);

        let calls = std::cell::Cell::new(0u64);
        let never = super::read(
            store,
            &id,
            || {
                calls.set(calls.get() + 1);
                Ok(Some(calls.get()))
            },
            |_| Ok::<_, ServiceError>((*board).clone()),
        );
        let Err(error) = never else {
            panic!("a read that never settles must fail");
        };
        assert!(error.to_string().contains("kept changing"), "{error}");
    }
}
