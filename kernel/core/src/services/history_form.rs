//! The stored form of a history event.
//!
//! An answer on a large schema re-values a few hundred values, and the
//! event keeps every one of them. Stored as the API shows them (a list of
//! `{"subject", "before", "after"}` objects) they were 12.5 KB an answer on
//! the large benchmark shape; stored here as `[subject, before, after]`
//! triples they take about half, with the same exact floats. Events written
//! in the list-of-objects form by earlier releases are still read.

use serde::{Deserialize, Serialize};

use mmsm_engine::{Change, Delta, Subject};

use super::HistoryEvent;

/// One changed value: subject, before, after.
type Triple = (Subject, Option<f64>, Option<f64>);

/// A [`HistoryEvent`] as it is written to the information repository.
#[derive(Serialize)]
pub(crate) struct StoredEventRef<'a> {
    at: u64,
    user: &'a str,
    cause: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    change: &'a Option<Change>,
    deltas: Vec<(&'a Subject, Option<f64>, Option<f64>)>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    refs: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    note: &'a Option<String>,
}

impl<'a> StoredEventRef<'a> {
    /// The stored form of `event`.
    pub(crate) fn of(event: &'a HistoryEvent) -> Self {
        StoredEventRef {
            at: event.at,
            user: &event.user,
            cause: &event.cause,
            change: &event.change,
            deltas: event
                .deltas
                .iter()
                .map(|d| (&d.subject, d.before, d.after))
                .collect(),
            refs: &event.refs,
            note: &event.note,
        }
    }
}

/// A history event as read back from the store, in either form.
#[derive(Deserialize)]
pub(crate) struct StoredEvent {
    at: u64,
    user: String,
    cause: String,
    #[serde(default)]
    change: Option<Change>,
    deltas: StoredDeltas,
    #[serde(default)]
    refs: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

/// The deltas of a stored event: triples, or the objects of earlier releases.
#[derive(Deserialize)]
#[serde(untagged)]
enum StoredDeltas {
    Triples(Vec<Triple>),
    Objects(Vec<Delta>),
}

impl From<StoredEvent> for HistoryEvent {
    fn from(stored: StoredEvent) -> Self {
        let deltas = match stored.deltas {
            StoredDeltas::Triples(triples) => triples
                .into_iter()
                .map(|(subject, before, after)| Delta {
                    subject,
                    before,
                    after,
                })
                .collect(),
            StoredDeltas::Objects(deltas) => deltas,
        };
        HistoryEvent {
            at: stored.at,
            user: stored.user,
            cause: stored.cause,
            change: stored.change,
            deltas,
            refs: stored.refs,
            note: stored.note,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_model::{Answer, ControlId, SubControlId};

    fn event() -> HistoryEvent {
        HistoryEvent {
            at: 1_764_000_000,
            user: "ana".into(),
            cause: "answer".into(),
            change: Some(Change::Answer {
                subcontrol: SubControlId::new("8.13.2"),
                answer: Some(Answer::Yes),
            }),
            deltas: vec![
                Delta {
                    subject: Subject::Control(ControlId::new("8.13")),
                    before: Some(53.239543057251396),
                    after: Some(61.0),
                },
                Delta {
                    subject: Subject::Isms,
                    before: None,
                    after: Some(0.1 + 0.2),
                },
            ],
            refs: vec!["control:8.13".into()],
            note: Some("a note".into()),
        }
    }

    #[test]
    fn an_event_reads_back_exactly_from_its_stored_form() {
        let event = event();
        let bytes = serde_json::to_vec(&StoredEventRef::of(&event)).unwrap();
        let back: StoredEvent = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(HistoryEvent::from(back), event);
        let objects = serde_json::to_vec(&event).unwrap();
        assert!(
            bytes.len() < objects.len(),
            "{} stored bytes against {} as objects",
            bytes.len(),
            objects.len()
        );
    }

    #[test]
    fn events_of_earlier_releases_are_still_read() {
        let event = event();
        let old = serde_json::to_vec(&event).unwrap();
        let back: StoredEvent = serde_json::from_slice(&old).unwrap();
        assert_eq!(HistoryEvent::from(back), event);
    }
}
