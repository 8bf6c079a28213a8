//! Suggestions for the risk model (DESIGN.md 6.2, eMARISMA's dynamic risk):
//! an incident never changes the risk model by itself; closing it proposes
//! raising the probability of its threat for the affected asset types, or
//! their degradation where the observed damage is higher. The security
//! officer accepts (an input change that re-values the board incrementally)
//! or rejects; both stay in the history.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_engine::{Change, Delta, Engine, Subject};
use mmsm_model::{
    natural_cmp, AssetId, AssetTypeId, CriterionKind, Dimension, IsmsId, Schema, ThreatId,
};
use mmsm_store::{Batch, Repo, Store};

use super::{Because, Event, IsmsRecord, Kernel, Result, ServiceError};

/// Where a suggestion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SuggestionStatus {
    /// Waiting for the security officer.
    Open,
    /// Applied to the ISMS's inputs.
    Accepted,
    /// Declined; kept for the record.
    Rejected,
}

/// One proposed input change, with the value it replaces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedChange {
    /// The engine change.
    pub change: Change,
    /// The value in force now.
    pub before: Option<f64>,
    /// The value proposed (none when an action proposed it without saying).
    pub after: Option<f64>,
    /// Why, in words.
    pub why: String,
}

/// A suggestion (stored at `suggestion/{isms}/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// `s1`, `s2`... within the ISMS.
    pub id: String,
    /// The ISMS.
    pub isms: IsmsId,
    /// When it was raised.
    pub created_at: u64,
    /// The procedure instance that raised it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The threat observed, for incidents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<ThreatId>,
    /// The assets affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<AssetId>,
    /// Why, in words.
    pub reason: String,
    /// The input changes proposed.
    pub changes: Vec<ProposedChange>,
    /// Open, accepted or rejected.
    pub status: SuggestionStatus,
    /// When it was decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<u64>,
    /// Who decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    /// The decision's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The board figures that moved when it was accepted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effect: Vec<Delta>,
}

fn key(isms: &IsmsId, id: &str) -> String {
    format!("suggestion/{isms}/{id}")
}

/// The probability one band up: the lower bound of the next band of the
/// schema's `probability` criterion, or +20 without bands; capped at 100.
pub fn raise_probability(schema: &Schema, current: f64) -> f64 {
    let mut bands = schema
        .risk_criteria
        .iter()
        .find(|c| c.id == CriterionKind::Probability)
        .map(|c| c.bands.clone())
        .unwrap_or_default();
    bands.sort_by(|a, b| a.from.total_cmp(&b.from));
    let next = bands
        .iter()
        .map(|b| b.from)
        .find(|from| *from > current + 1e-9);
    next.unwrap_or(current + 20.0).min(100.0)
}

/// What an incident suggests: for each affected asset's type, P(T,t) one
/// band up, and Deg(T,t,d) raised to the observed damage where higher.
/// Also returns notes for assets the threat does not apply to.
pub fn incident_changes(
    engine: &Engine,
    record: &IsmsRecord,
    threat: &ThreatId,
    assets: &[AssetId],
    damage: &[(Dimension, f64)],
) -> (Vec<ProposedChange>, Vec<String>) {
    let risks = engine.risks();
    let mut changes = Vec::new();
    let mut notes = Vec::new();
    let mut seen_types: BTreeSet<AssetTypeId> = BTreeSet::new();
    for asset_id in assets {
        let Some(asset) = record.inputs.assets.iter().find(|a| &a.id == asset_id) else {
            continue;
        };
        if seen_types.contains(&asset.asset_type) {
            continue;
        }
        let Some(pair) = risks
            .iter()
            .find(|r| &r.asset == asset_id && &r.threat == threat)
        else {
            notes.push(format!(
                "threat {threat} does not apply to asset {asset_id} (type {}) in the schema's TAD matrix: no change proposed; the schema statistics count it",
                asset.asset_type
            ));
            continue;
        };
        seen_types.insert(asset.asset_type.clone());
        let raised = raise_probability(engine.schema(), pair.probability);
        if raised > pair.probability + 1e-9 {
            changes.push(ProposedChange {
                change: Change::Probability {
                    asset_type: asset.asset_type.clone(),
                    threat: threat.clone(),
                    value: Some(raised),
                },
                before: Some(pair.probability),
                after: Some(raised),
                why: format!(
                    "an incident of {threat} hit {asset_id}: P({threat}, {}) one band up",
                    asset.asset_type
                ),
            });
        }
        let explanation = engine
            .explain(&Subject::Impact {
                asset: asset_id.clone(),
                threat: threat.clone(),
            })
            .ok();
        for (dimension, observed) in damage {
            let name = format!("Deg({threat}, {})", dimension.letter());
            let current = explanation
                .as_ref()
                .and_then(|e| e.inputs.iter().find(|i| i.name == name))
                .and_then(|i| i.value);
            if current.is_none_or(|c| *observed > c + 1e-9) {
                changes.push(ProposedChange {
                    change: Change::Degradation {
                        asset_type: asset.asset_type.clone(),
                        threat: threat.clone(),
                        dimension: *dimension,
                        value: Some(*observed),
                    },
                    before: current,
                    after: Some(*observed),
                    why: format!(
                        "the incident damaged {} by {observed} %, more than the {} % the model assumes",
                        dimension.letter(),
                        current.map_or("0".to_owned(), |c| c.to_string())
                    ),
                });
            }
        }
    }
    (changes, notes)
}

impl Kernel {
    /// Stores a new open suggestion in the batch, numbered after those in the store.
    pub(crate) fn raise_suggestion(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        mut suggestion: Suggestion,
    ) -> Result<Suggestion> {
        let taken = store
            .keys(Repo::Isms, &format!("suggestion/{}/", suggestion.isms))?
            .len()
            + batch
                .ops
                .iter()
                .filter(|op| {
                    op.key
                        .starts_with(format!("suggestion/{}/", suggestion.isms).as_bytes())
                })
                .count();
        suggestion.id = format!("s{}", taken + 1);
        batch.put(
            Repo::Isms,
            key(&suggestion.isms, &suggestion.id),
            &suggestion,
        );
        self.record_event(
            store,
            batch,
            &suggestion.isms,
            &Event {
                at: self.now(),
                user: principal.user.clone(),
                kind: "suggestion.created".into(),
                ids: [Some(suggestion.id.clone()), suggestion.source.clone()]
                    .into_iter()
                    .flatten()
                    .collect(),
                data: serde_json::json!({ "reason": suggestion.reason }),
            },
        )?;
        Ok(suggestion)
    }

    /// The suggestions of an ISMS, in order.
    pub fn suggestions(&self, principal: &Principal, isms: &str) -> Result<Vec<Suggestion>> {
        let record = self.maintained(principal, isms, "list suggestions")?;
        let mut list: Vec<Suggestion> = self
            .store()
            .scan::<Suggestion>(Repo::Isms, &format!("suggestion/{}/", record.id))?
            .into_iter()
            .map(|(_, s)| s)
            .collect();
        list.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        Ok(list)
    }

    fn open_suggestion(&self, store: &Store, record: &IsmsRecord, id: &str) -> Result<Suggestion> {
        let Some(suggestion) = store.get::<Suggestion>(Repo::Isms, &key(&record.id, id))? else {
            return Err(ServiceError::NotFound {
                kind: "suggestion",
                id: id.to_owned(),
                hint: format!(
                    " in ISMS {}; run `mmsm suggestion list {}`",
                    record.id, record.id
                ),
            });
        };
        if suggestion.status != SuggestionStatus::Open {
            return Err(ServiceError::Refused(format!(
                "suggestion {id} was {} already{}",
                if suggestion.status == SuggestionStatus::Accepted {
                    "accepted"
                } else {
                    "rejected"
                },
                suggestion
                    .decided_by
                    .as_ref()
                    .map(|u| format!(" by {u}"))
                    .unwrap_or_default()
            )));
        }
        Ok(suggestion)
    }

    /// Accepts a suggestion: applies its changes through the engine
    /// (incrementally, cause `suggestion`) in one transaction.
    pub fn accept_suggestion(
        &self,
        principal: &Principal,
        isms: &str,
        id: &str,
    ) -> Result<Suggestion> {
        self.store().write(|store, batch| {
            let mut record = self.officer(principal, isms, "accept a suggestion")?;
            record.ensure_open()?;
            let mut suggestion = self.open_suggestion(store, &record, id)?;
            let changes = suggestion
                .changes
                .iter()
                .map(|c| c.change.clone())
                .collect();
            let because = Because::new(
                "suggestion",
                vec![format!("suggestion:{id}")],
                format!("accepted suggestion {id}: {}", suggestion.reason),
            );
            suggestion.effect =
                self.apply_changes(store, batch, principal, &mut record, changes, &because)?;
            suggestion.status = SuggestionStatus::Accepted;
            suggestion.decided_at = Some(self.now());
            suggestion.decided_by = Some(principal.user.clone());
            batch.put(Repo::Isms, key(&record.id, id), &suggestion);
            self.record_event(
                store,
                batch,
                &record.id,
                &Event {
                    at: self.now(),
                    user: principal.user.clone(),
                    kind: "suggestion.accepted".into(),
                    ids: vec![id.to_owned()],
                    data: serde_json::Value::Null,
                },
            )?;
            super::super::audit(
                batch,
                principal,
                "suggestion.accept",
                vec![record.id.to_string(), id.to_owned()],
            );
            Ok(suggestion)
        })
    }

    /// Rejects a suggestion: the inputs stay as they are; the decision is kept in the history.
    pub fn reject_suggestion(
        &self,
        principal: &Principal,
        isms: &str,
        id: &str,
        note: Option<String>,
    ) -> Result<Suggestion> {
        self.store().write(|store, batch| {
            let record = self.officer(principal, isms, "reject a suggestion")?;
            record.ensure_open()?;
            let mut suggestion = self.open_suggestion(store, &record, id)?;
            suggestion.status = SuggestionStatus::Rejected;
            suggestion.decided_at = Some(self.now());
            suggestion.decided_by = Some(principal.user.clone());
            suggestion.note = note.clone();
            batch.put(Repo::Isms, key(&record.id, id), &suggestion);
            self.record_note(
                store,
                batch,
                principal,
                &record,
                Because::new(
                    "suggestion",
                    vec![format!("suggestion:{id}")],
                    format!(
                        "rejected suggestion {id}: {}{}",
                        suggestion.reason,
                        note.as_ref().map(|n| format!(" ({n})")).unwrap_or_default()
                    ),
                ),
            )?;
            self.record_event(
                store,
                batch,
                &record.id,
                &Event {
                    at: self.now(),
                    user: principal.user.clone(),
                    kind: "suggestion.rejected".into(),
                    ids: vec![id.to_owned()],
                    data: serde_json::json!({ "note": note }),
                },
            )?;
            super::super::audit(
                batch,
                principal,
                "suggestion.reject",
                vec![record.id.to_string(), id.to_owned()],
            );
            Ok(suggestion)
        })
    }
}
