//! MSGS: the maintenance zone (paper 3.6, activities A3.1-A3.3; DESIGN.md 6).
//!
//! What an SME does with its ISMS week after week: manage its users
//! ([`users`]), certify their security culture ([`culture`]), execute its
//! procedures ([`procedures`]) whose incidents raise [`suggestions`] for the
//! risk model, follow the improvement [`plan`], and read the board's
//! history; and what the architect learns from every ISMS of a schema
//! ([`stats`]).
//!
//! Every operation takes the acting [`Principal`] and is one
//! [`mmsm_store::Store::write`] batch. Board figures move only through the
//! engine's [`Change`]s ([`Kernel::apply_changes`]), each recorded as a
//! [`HistoryEvent`] with its cause (`answer`, `metric`, `certificate`,
//! `suggestion`, `plan`). This module knows nothing about clap, Lua or HTTP:
//! phase actions come in through the [`PhaseActions`] trait.

pub mod actions;
pub mod culture;
pub mod history;
pub mod plan;
pub mod procedures;
pub mod registers;
pub mod stats;
pub mod suggestions;
pub mod users;

use serde::{Deserialize, Serialize};

use crate::access::{Forbidden, Principal};
use mmsm_engine::{Board, Change, Delta, Engine};
use mmsm_model::{IsmsId, Zone};
use mmsm_store::{Batch, Repo, Store};

use super::gsgs::record_history;
use super::listing::put_isms;
use super::{fresh_key, HistoryEvent, IsmsRecord, Kernel, Result, ServiceError};

pub use actions::{ActionOutcome, NoActions, PhaseActions};
pub use culture::{
    CertStatus, Certificate, CultureResult, CultureStatusRow, CultureTest, DrawnQuestion,
};
pub use history::{BoardPoint, HistoryFilter, MaturityPoint, RiskPoint};
pub use plan::{PlanFollowUp, PlanRow, PlanSet};
pub use procedures::{MaintenanceFigures, ProcedureInstance, ScheduleRow, Transition};
pub use stats::{AppliedSuggestions, SchemaStats, StatsSuggestion};
pub use suggestions::{Suggestion, SuggestionStatus};

/// The role of the responsible for security, who manages users, suggestions and the plan.
pub const SECURITY_OFFICER: &str = "Cl/RS";

/// An event of daily use, kept in the information repository (`event/{isms}/...`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// Who acted.
    pub user: String,
    /// What happened: `procedure.start`, `procedure.advance`, `certificate.issued`,
    /// `culture.failed`, `suggestion.created`, `suggestion.accepted`, `user.added`...
    pub kind: String,
    /// The ids concerned (instance, suggestion, user...).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Details of the event.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
}

/// Whether the principal acts for the consultancy (schemas, generation or audit zone),
/// which may work on any enterprise's ISMS.
pub(crate) fn is_consultancy(principal: &Principal) -> bool {
    principal.has_zone(Zone::Schemas)
        || principal.has_zone(Zone::Generation)
        || principal.has_zone(Zone::Audit)
}

/// Whether the principal manages an enterprise's users, suggestions, plan and
/// others' culture tests: the security officer (`Cl/RS`) or the consultant
/// who runs the ISMS for the client (generation zone, CoS). The auditor only reads.
pub fn manages(principal: &Principal) -> bool {
    principal.has_zone(Zone::Generation)
        || principal
            .roles
            .iter()
            .any(|r| r.as_str() == SECURITY_OFFICER)
}

/// Roles in words, as the schema names them: "IT manager (Cl/GDS)"; "no
/// role" when there is none.
pub(crate) fn role_words<'a>(
    schema: &mmsm_model::Schema,
    roles: impl Iterator<Item = &'a mmsm_model::RoleId>,
    separator: &str,
) -> String {
    let words: Vec<String> = roles
        .map(|id| match schema.roles.iter().find(|r| &r.id == id) {
            Some(role) => format!("{} ({id})", role.name),
            None => id.to_string(),
        })
        .collect();
    if words.is_empty() {
        "no role".into()
    } else {
        words.join(separator)
    }
}

fn forbidden(principal: &Principal, action: &str, needs: &str) -> ServiceError {
    ServiceError::Forbidden(Forbidden {
        user: principal.user.clone(),
        action: action.to_owned(),
        zone: "maintenance".into(),
        needs: needs.to_owned(),
        held: if principal.roles.is_empty() {
            "no role".into()
        } else {
            principal
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
    })
}

impl Kernel {
    /// The principal of `user` acting on ISMS `isms`: the user's roles as the
    /// ISMS lists them (what `--as USER` means in the maintenance zone).
    pub fn principal_for(&self, isms: &str, user: &str) -> Result<Principal> {
        let record = self.isms(&Principal::system(), isms)?;
        match record.users.iter().find(|u| u.id.as_str() == user) {
            Some(u) => Ok(Principal::new(u.id.as_str(), u.roles.iter().cloned())),
            None => Err(ServiceError::NotFound {
                kind: "user",
                id: user.to_owned(),
                hint: format!(
                    " in ISMS {isms}; its users are {}; add one with `mmsm isms user add {isms} USER --name NAME --role ROLE`",
                    users::user_list(&record)
                ),
            }),
        }
    }

    /// The ISMS, if the principal may work on it in the maintenance zone: a
    /// consultancy role, or a user of that ISMS holding a maintenance role.
    pub(crate) fn maintained(
        &self,
        principal: &Principal,
        isms: &str,
        action: &str,
    ) -> Result<IsmsRecord> {
        let record = self.isms(principal, isms)?;
        if is_consultancy(principal) {
            return Ok(record);
        }
        principal.require(Zone::Maintenance, action)?;
        if !record.users.iter().any(|u| u.id.as_str() == principal.user) {
            return Err(forbidden(
                principal,
                action,
                &format!("a user of ISMS {}", record.id),
            ));
        }
        Ok(record)
    }

    /// Like [`Kernel::maintained`], and the principal must also be the security
    /// officer (`Cl/RS`) or the consultant who runs the ISMS for the client
    /// (generation zone, CoS). The auditor (AuS) only reads.
    pub(crate) fn officer(
        &self,
        principal: &Principal,
        isms: &str,
        action: &str,
    ) -> Result<IsmsRecord> {
        let record = self.maintained(principal, isms, action)?;
        if manages(principal) {
            return Ok(record);
        }
        Err(forbidden(
            principal,
            action,
            &format!("{SECURITY_OFFICER}, or CoS for the consultancy"),
        ))
    }

    /// Adds an event of daily use to the batch.
    pub(crate) fn record_event(
        &self,
        store: &Store,
        batch: &mut Batch,
        isms: &IsmsId,
        event: &Event,
    ) -> Result<()> {
        let key = fresh_key(
            store,
            batch,
            Repo::Info,
            &format!("event/{isms}/"),
            self.now_nanos(),
        )?;
        batch.put(Repo::Info, key, event);
        Ok(())
    }

    /// The events of an ISMS, oldest first.
    pub fn events(&self, principal: &Principal, isms: &str) -> Result<Vec<Event>> {
        let record = self.maintained(principal, isms, "read the events of an ISMS")?;
        Ok(self
            .store()
            .scan::<Event>(Repo::Info, &format!("event/{}/", record.id))?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    /// Applies input changes through the engine inside an open batch: stores
    /// the new inputs and board in `record`, and one history event per change
    /// that moved a figure, with its cause, refs and note. Returns every delta.
    pub(crate) fn apply_changes(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        record: &mut IsmsRecord,
        changes: Vec<Change>,
        because: &Because,
    ) -> Result<Vec<Delta>> {
        let mut engine = self.take_engine(record)?;
        let mut all = Vec::new();
        let now = self.now();
        for change in changes {
            let deltas = engine
                .apply(change.clone())
                .map_err(|e| ServiceError::Refused(e.to_string()))?
                .to_vec();
            if deltas.is_empty() {
                continue;
            }
            let board = board_of(&engine, &record.id);
            record_history(
                store,
                batch,
                &record.id,
                self.now_nanos(),
                &HistoryEvent {
                    at: now,
                    user: principal.user.clone(),
                    cause: because.cause.clone(),
                    change: Some(change),
                    deltas: deltas.clone(),
                    refs: because.refs.clone(),
                    note: because.note.clone(),
                },
                &board,
            )?;
            all.extend(deltas);
        }
        record.inputs = engine.inputs();
        record.board = board_of(&engine, &record.id).into();
        put_isms(batch, record, now);
        self.keep_engine(record, engine);
        Ok(all)
    }

    /// Records an event of the board history that no engine figure carries
    /// (e.g. a plan item done), with the board as it is.
    pub(crate) fn record_note(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        record: &IsmsRecord,
        because: Because,
    ) -> Result<()> {
        record_history(
            store,
            batch,
            &record.id,
            self.now_nanos(),
            &HistoryEvent {
                at: self.now(),
                user: principal.user.clone(),
                cause: because.cause,
                change: None,
                deltas: Vec::new(),
                refs: because.refs,
                note: because.note,
            },
            &record.board,
        )
    }
}

/// Why the board moved: the cause of a history event, what it concerns, and a note.
#[derive(Debug, Clone, Default)]
pub(crate) struct Because {
    pub(crate) cause: String,
    pub(crate) refs: Vec<String>,
    pub(crate) note: Option<String>,
}

impl Because {
    pub(crate) fn new(cause: &str, refs: Vec<String>, note: impl Into<String>) -> Self {
        Because {
            cause: cause.to_owned(),
            refs,
            note: Some(note.into()),
        }
    }
}

fn board_of(engine: &Engine, id: &IsmsId) -> Board {
    let mut board = engine.board();
    board.isms = id.to_string();
    board
}

/// A small deterministic generator (splitmix64) for drawing questions: the
/// same seed gives the same draw on every platform.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Shuffles `items` in place (Fisher-Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests;
