//! The kernel's live engines (issue 12): a bounded cache of one engine per
//! ISMS, keyed by the record's revision and schema version, so that an
//! answer, an asset value, a metric, a certificate or an accepted suggestion
//! goes through `Engine::apply` instead of rebuilding the engine.
//!
//! A cached engine is used only for the revision it was kept for: any write
//! of the record (through `put_isms`) changes the revision, so a re-base, a
//! failed batch or a write that bypassed the cache can never serve a stale
//! engine; the next use builds anew.

use std::collections::HashMap;

use mmsm_engine::{Board, Engine};
use mmsm_model::IsmsId;

use crate::access::Principal;

use super::stored::Unboarded;
use super::{IsmsRecord, Kernel, Result, SchemaChoice};

/// How many live engines a kernel keeps: an engine of the base schema holds
/// a few hundred kilobytes, the large benchmark shape a few megabytes.
pub const LIVE_ENGINES: usize = 64;

struct Live {
    revision: u64,
    schema: (String, u32),
    engine: Engine,
    /// The record at that revision, when the last writer kept it too.
    record: Option<IsmsRecord>,
    used: u64,
}

/// Live engines by ISMS, least recently used dropped first.
#[derive(Default)]
pub(crate) struct EngineCache {
    entries: HashMap<IsmsId, Live>,
    tick: u64,
}

fn schema_of(record: &IsmsRecord) -> (String, u32) {
    schema_key(&record.schema)
}

fn schema_key(schema: &SchemaChoice) -> (String, u32) {
    (schema.id.to_string(), schema.version)
}

impl EngineCache {
    fn take(&mut self, record: &IsmsRecord) -> Option<Engine> {
        self.take_parts(&record.id, record.revision, &schema_of(record))
    }

    fn take_parts(&mut self, id: &IsmsId, revision: u64, schema: &(String, u32)) -> Option<Engine> {
        let live = self.entries.remove(id)?;
        (live.revision == revision && live.schema == *schema).then_some(live.engine)
    }

    /// The record and engine kept for `id` at exactly `revision`; an engine
    /// kept without its record stays for [`EngineCache::take`].
    fn take_at(&mut self, id: &IsmsId, revision: u64) -> Option<(IsmsRecord, Engine)> {
        let live = self.entries.get(id)?;
        if live.revision != revision || live.record.is_none() {
            return None;
        }
        let live = self.entries.remove(id)?;
        let record = live.record?;
        (record.revision == revision && live.schema == schema_of(&record))
            .then_some((record, live.engine))
    }

    fn keep(&mut self, record: &IsmsRecord, engine: Engine) {
        let schema = schema_of(record);
        self.keep_parts(record.id.clone(), record.revision, schema, engine, None);
    }

    fn keep_parts(
        &mut self,
        id: IsmsId,
        revision: u64,
        schema: (String, u32),
        engine: Engine,
        record: Option<IsmsRecord>,
    ) {
        self.tick += 1;
        if self.entries.len() >= LIVE_ENGINES && !self.entries.contains_key(&id) {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, live)| live.used)
                .map(|(id, _)| id.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(
            id,
            Live {
                revision,
                schema,
                engine,
                record,
                used: self.tick,
            },
        );
    }

    /// A copy of the record kept for `id` at exactly `revision`, left in
    /// place: a read at the revision a writer (or an earlier read) saw needs
    /// none of the record's parts from the store.
    fn record_at(&mut self, id: &IsmsId, revision: u64) -> Option<IsmsRecord> {
        self.tick += 1;
        let live = self.entries.get_mut(id)?;
        let record = live.record.as_ref()?;
        if live.revision != revision || record.revision != revision {
            return None;
        }
        live.used = self.tick;
        Some(record.clone())
    }

    /// Keeps `record`, just read whole, beside the engine kept at its
    /// revision, for [`EngineCache::record_at`].
    fn remember(&mut self, record: &IsmsRecord) {
        if let Some(live) = self.entries.get_mut(&record.id) {
            if live.revision == record.revision && live.schema == schema_of(record) {
                live.record = Some(record.clone());
            }
        }
    }

    /// How many engines are kept.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl Kernel {
    /// The live engine of `record`, taken out of the cache (the caller hands
    /// it back with [`Kernel::keep_engine`] once the record is written), or
    /// built from the record's schema version and inputs.
    pub(crate) fn take_engine(&self, record: &IsmsRecord) -> Result<Engine> {
        if let Some(engine) = self.engines().take(record) {
            return Ok(engine);
        }
        self.build_engine(record)
    }

    /// Keeps `engine` as the live engine of `record` at its current revision.
    pub(crate) fn keep_engine(&self, record: &IsmsRecord, engine: Engine) {
        self.engines().keep(record, engine);
    }

    /// The record of ISMS `id` as stored and its live engine, for a change:
    /// both from the cache when the stored revision (read from the small
    /// summary row, written in the same batch as the record) is the one they
    /// were kept at, so that a change decodes no record; else read and built.
    /// The third value tells whether the stored layout is current (a record
    /// kept here was written by this release, so it is). The principal must
    /// see the ISMS.
    pub(crate) fn take_live(
        &self,
        principal: &Principal,
        id: &str,
    ) -> Result<(IsmsRecord, Engine, bool)> {
        if let Some(revision) = self.stored_revision(id)? {
            let cached = self.engines().take_at(&IsmsId::new(id), revision);
            if let Some((record, engine)) = cached {
                if self.may_see(principal, &record) {
                    return Ok((record, engine, true));
                }
            }
        }
        let read = self.isms_read(principal, id)?;
        let engine = self.take_engine(&read.record)?;
        Ok((read.record, engine, read.current_format))
    }

    /// The board of a stored ISMS ([`super::stored::read`]): from its live
    /// engine at that revision, or a new one, kept for the next use.
    pub(crate) fn derived_board(&self, parts: Unboarded<'_>) -> Result<Board> {
        let schema = schema_key(parts.schema);
        let cached = self.engines().take_parts(parts.id, parts.revision, &schema);
        let engine = match cached {
            Some(engine) => engine,
            None => {
                let index = self.schema_index(
                    &Principal::system(),
                    parts.schema.id.as_str(),
                    parts.schema.version,
                )?;
                Engine::with_index(index, parts.inputs.clone())
            }
        };
        let mut board = engine.board();
        board.isms = parts.id.to_string();
        self.engines()
            .keep_parts(parts.id.clone(), parts.revision, schema, engine, None);
        Ok(board)
    }

    /// The record of `id` kept at `revision`, if the cache holds it.
    pub(crate) fn kept_record(&self, id: &str, revision: u64) -> Option<IsmsRecord> {
        self.engines().record_at(&IsmsId::new(id), revision)
    }

    /// Keeps a record just read whole beside its live engine.
    pub(crate) fn remember_record(&self, record: &IsmsRecord) {
        self.engines().remember(record);
    }

    /// Keeps `record` (as just written) and its engine for the next change.
    pub(crate) fn keep_live(&self, record: IsmsRecord, engine: Engine) {
        let (id, revision, schema) = (record.id.clone(), record.revision, schema_of(&record));
        self.engines()
            .keep_parts(id, revision, schema, engine, Some(record));
    }

    /// A copy of the live engine of `record` (built and kept when there is none).
    pub(crate) fn engine_copy(&self, record: &IsmsRecord) -> Result<Engine> {
        let engine = self.take_engine(record)?;
        let copy = engine.clone();
        self.keep_engine(record, engine);
        Ok(copy)
    }

    /// How many live engines the kernel keeps now.
    pub fn live_engines(&self) -> usize {
        self.engines().len()
    }

    fn build_engine(&self, record: &IsmsRecord) -> Result<Engine> {
        let index = self.schema_index(
            &Principal::system(),
            record.schema.id.as_str(),
            record.schema.version,
        )?;
        Ok(Engine::with_index(index, record.inputs.clone()))
    }

    fn engines(&self) -> std::sync::MutexGuard<'_, EngineCache> {
        self.engines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use mmsm_engine::Change;
    use mmsm_model::Answer;
    use mmsm_store::Store;

    use super::super::fixture;
    use super::*;

    #[test]
    fn changes_through_the_live_engine_equal_a_fresh_build_and_a_foreign_write_is_not_served_stale()
    {
        let (kernel, ids) = fixture::msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = ids[0].clone();
        let local = Principal::local_operator();
        let subs: Vec<_> = kernel
            .isms(&local, &id)
            .unwrap()
            .inputs
            .answers
            .keys()
            .cloned()
            .collect();
        for (n, sub) in subs.iter().enumerate() {
            let answer = [Answer::Yes, Answer::No, Answer::Partial][n % 3];
            kernel
                .update_isms(
                    &local,
                    &id,
                    Change::Answer {
                        subcontrol: sub.clone(),
                        answer: Some(answer),
                    },
                    "answer",
                )
                .unwrap();
        }
        assert_eq!(kernel.live_engines(), 1);
        let record = kernel.isms(&local, &id).unwrap();
        let fresh = kernel.build_engine(&record).unwrap();
        let mut board = fresh.board();
        board.isms = id.clone();
        assert_eq!(
            *record.board, board,
            "the stored board is a full recompute's"
        );
        let (_, live) = kernel.isms_engine(&local, &id).unwrap();
        assert_eq!(live.inputs(), fresh.inputs());

        // A write that bypasses the cache (here: by hand) changes the revision:
        // the next change builds anew from what is stored.
        let mut edited = record.clone();
        edited.inputs.answers.clear();
        kernel
            .store()
            .write(|_, batch| {
                super::super::listing::put_isms(batch, &mut edited, 0);
                Ok::<_, super::super::ServiceError>(())
            })
            .unwrap();
        let updated = kernel
            .update_isms(
                &local,
                &id,
                Change::Answer {
                    subcontrol: subs[0].clone(),
                    answer: Some(Answer::Yes),
                },
                "answer",
            )
            .unwrap();
        let stored = kernel.isms(&local, &id).unwrap();
        assert_eq!(
            stored.inputs.answers.len(),
            1,
            "built from the stored inputs, not the stale engine"
        );
        let fresh = kernel.build_engine(&stored).unwrap();
        assert_eq!(updated.board.compliance, fresh.board().compliance);
    }

    #[test]
    fn a_read_from_the_kept_record_equals_a_full_read_and_follows_another_servers_write() {
        let (first, ids) = fixture::msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = ids[0].clone();
        // A second kernel on the same store: what a second server is.
        let second = Kernel::new(first.store().clone());
        let local = Principal::local_operator();
        let answer = |kernel: &Kernel, n: usize, answer| {
            let sub = kernel
                .isms(&local, &id)
                .unwrap()
                .inputs
                .answers
                .keys()
                .nth(n)
                .cloned();
            kernel
                .update_isms(
                    &local,
                    &id,
                    Change::Answer {
                        subcontrol: sub.unwrap(),
                        answer: Some(answer),
                    },
                    "answer",
                )
                .unwrap();
        };
        let full = |kernel: &Kernel| {
            let fresh = Kernel::new(kernel.store().clone());
            fresh.isms(&local, &id).unwrap()
        };
        answer(&first, 0, Answer::No);
        let kept = first.isms(&local, &id).unwrap();
        assert!(
            first.kept_record(&id, kept.revision).is_some(),
            "served from the kept record"
        );
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            serde_json::to_value(full(&first)).unwrap()
        );
        // The second server reads (and keeps) the record, then the first writes:
        // the second's next read is the new revision, not its kept copy.
        let before = second.isms(&local, &id).unwrap();
        assert_eq!(before.revision, kept.revision);
        answer(&first, 1, Answer::No);
        let after = second.isms(&local, &id).unwrap();
        assert_ne!(after.revision, before.revision);
        assert_eq!(
            serde_json::to_value(&after).unwrap(),
            serde_json::to_value(full(&second)).unwrap()
        );
        assert_eq!(
            after.board.compliance,
            first.isms(&local, &id).unwrap().board.compliance
        );
    }
}
