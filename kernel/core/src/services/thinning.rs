//! Thinning old history: the part of `mmsm store compact` that bounds the
//! store's growth (BENCHMARKS.md, "Store growth").
//!
//! Every change keeps a history event with every value it moved, so that a
//! board's past can be explained value by value. Past a retention period the
//! values are dropped from the event; what stays is who changed what and
//! when (its cause, change and note, and the controls it moved as
//! references), the board as it was after it (its trend point) and the
//! audit trail, which is never touched.

use mmsm_engine::Subject;
use mmsm_store::Repo;

use super::history_form::{StoredEvent, StoredEventRef};
use super::{audit_detail, HistoryEvent, Kernel, Result};
use crate::access::Principal;

/// Events rewritten per transaction.
const PAGE: usize = 500;

/// What a thinning did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Thinned {
    /// Events read.
    pub events: u64,
    /// Events whose changed values were dropped.
    pub thinned: u64,
    /// Changed values dropped, over those events.
    pub values: u64,
}

/// The time of a history key `history/{isms}/{nanos:020}[-NNN]`, in nanoseconds.
fn stamp_nanos(key: &str) -> Option<u128> {
    let stamp = key.rsplit('/').next()?;
    stamp.get(..20)?.parse().ok()
}

impl Kernel {
    /// Drops the changed values of every history event older than `before`
    /// (seconds since the Unix epoch), in transactions of a few hundred
    /// events; `progress` hears the events read so far. With `dry_run`
    /// nothing is written. Administrators only; one audit entry says what
    /// was thinned.
    pub fn thin_history(
        &self,
        principal: &Principal,
        before: u64,
        dry_run: bool,
        progress: &dyn Fn(u64),
    ) -> Result<Thinned> {
        principal.require_admin("thin the history of the store")?;
        let cutoff = u128::from(before) * 1_000_000_000;
        let day = chrono::DateTime::from_timestamp(self.now() as i64, 0)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        let mut done = Thinned::default();
        let mut after: Option<String> = None;
        loop {
            let page: Vec<(String, StoredEvent)> =
                self.store()
                    .scan_page(Repo::Info, "history/", after.as_deref(), PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            let mut rewrites: Vec<(String, HistoryEvent)> = Vec::new();
            for (key, stored) in page {
                done.events += 1;
                if stamp_nanos(&key).is_none_or(|nanos| nanos >= cutoff) {
                    continue;
                }
                let mut event = HistoryEvent::from(stored);
                if event.deltas.is_empty() {
                    continue;
                }
                let values = event.deltas.len();
                done.thinned += 1;
                done.values += values as u64;
                // The controls it moved stay as references: `--control` still finds it.
                for delta in std::mem::take(&mut event.deltas) {
                    if let Subject::Control(control) = delta.subject {
                        let reference = format!("control:{control}");
                        if !event.refs.contains(&reference) {
                            event.refs.push(reference);
                        }
                    }
                }
                let said = format!(
                    "its {values} changed values were dropped by `mmsm store compact` on {day}"
                );
                event.note = Some(match event.note.take() {
                    Some(note) => format!("{note}; {said}"),
                    None => said,
                });
                rewrites.push((key, event));
            }
            if !dry_run && !rewrites.is_empty() {
                self.store().write(|_, batch| {
                    for (key, event) in &rewrites {
                        batch.put(Repo::Info, key.clone(), &StoredEventRef::of(event));
                    }
                    Ok::<_, super::ServiceError>(())
                })?;
            }
            progress(done.events);
        }
        if !dry_run && done.thinned > 0 {
            self.store().write(|_, batch| {
                audit_detail(
                    batch,
                    principal,
                    "store.thin-history",
                    Vec::new(),
                    Some(serde_json::json!({
                        "before": before,
                        "events": done.thinned,
                        "values": done.values,
                    })),
                );
                Ok::<_, super::ServiceError>(())
            })?;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use mmsm_engine::Change;
    use mmsm_model::{Answer, SubControlId};
    use mmsm_store::Store;

    use super::super::fixture;
    use super::*;

    #[test]
    fn old_events_lose_their_values_and_keep_their_change() {
        let (kernel, ids) = fixture::msgs_kernel(Store::temporary().unwrap(), &["Taller"]);
        let id = ids[0].clone();
        let who = Principal::local_operator();
        let (subcontrol, was): (SubControlId, Answer) = kernel
            .isms(&who, &id)
            .unwrap()
            .inputs
            .answers
            .iter()
            .find(|(_, a)| **a == Answer::Yes)
            .map(|(s, a)| (s.clone(), *a))
            .expect("the fixture answers a question yes");
        let answer = |a| Change::Answer {
            subcontrol: subcontrol.clone(),
            answer: Some(a),
        };
        kernel
            .update_isms(&who, &id, answer(Answer::No), "answer")
            .unwrap();
        assert_eq!(was, Answer::Yes);
        let cut = kernel.now() + 1;
        let history = kernel.isms_history(&who, &id).unwrap();
        assert!(history.iter().any(|e| !e.deltas.is_empty()));

        let dry = kernel.thin_history(&who, cut, true, &|_| {}).unwrap();
        assert_eq!(
            kernel.isms_history(&who, &id).unwrap(),
            history,
            "a dry run writes nothing"
        );
        let done = kernel.thin_history(&who, cut, false, &|_| {}).unwrap();
        assert_eq!((done.thinned, done.values), (dry.thinned, dry.values));
        assert_eq!(
            done.thinned as usize,
            history.iter().filter(|e| !e.deltas.is_empty()).count()
        );

        let thinned = kernel.isms_history(&who, &id).unwrap();
        assert_eq!(thinned.len(), history.len(), "no event is removed");
        for (old, new) in history.iter().zip(&thinned) {
            assert!(new.deltas.is_empty());
            assert_eq!(
                (&old.change, &old.cause, old.at),
                (&new.change, &new.cause, new.at)
            );
            if !old.deltas.is_empty() {
                assert!(new
                    .note
                    .as_deref()
                    .unwrap()
                    .contains("changed values were dropped"));
            }
        }
        assert!(kernel.audit_verify(&who).unwrap().is_ok());
        // An event is still found by the controls it moved.
        for (old, new) in history.iter().zip(&thinned) {
            for delta in &old.deltas {
                if let Subject::Control(control) = &delta.subject {
                    let filter = super::super::msgs::HistoryFilter {
                        control: Some(control.clone()),
                        since: None,
                    };
                    assert!(filter.keeps(old) && filter.keeps(new), "{control}");
                }
            }
        }

        // Events after the cut keep their values.
        kernel
            .update_isms(&who, &id, answer(Answer::Yes), "answer")
            .unwrap();
        let again = kernel.thin_history(&who, cut - 60, false, &|_| {}).unwrap();
        assert_eq!(again.thinned, 0);
        assert!(!kernel
            .isms_history(&who, &id)
            .unwrap()
            .last()
            .unwrap()
            .deltas
            .is_empty());
    }

    #[test]
    fn only_an_administrator_thins() {
        let (kernel, _) = fixture::msgs_kernel(Store::temporary().unwrap(), &["Taller"]);
        let ana = Principal::new("ana", ["Cl/RS"]);
        assert!(kernel
            .thin_history(&ana, u64::MAX / 2, false, &|_| {})
            .is_err());
    }
}
