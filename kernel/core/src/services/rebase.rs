//! Re-basing an ISMS on a newer version of its schema (DESIGN.md 2: "an ISMS
//! records the schema id and version it was generated from, and can be
//! re-based on a newer version explicitly"). The knowledge loop ends here:
//! the architect refines a schema from what its enterprises taught, and the
//! consultant moves each enterprise to the new version when it suits it.
//!
//! The enterprise's inputs carry over where the new version still has what
//! they refer to; what it no longer has is dropped and listed (answers and
//! measured values of removed subcontrols, accepted probability and
//! degradation changes of removed asset types or threats, roles a user held
//! that the version no longer has). An asset of an asset type the version no
//! longer has refuses the re-base, naming it: its type must be changed first.
//! The board is computed anew, the regulations, artefacts, procedures and
//! metrics in force are instantiated anew, and certificates of regulations
//! whose text changed are revoked (their status is computed when read), all
//! in one transaction with one history event and one audit entry.

use serde::Serialize;

use crate::access::Principal;
use mmsm_engine::{Board, Delta, Engine, Inputs, Subject};
use mmsm_model::{IsmsId, Schema, Zone};

use super::gsgs::{instantiate, record_history, SchemaChoice};
use super::listing::put_isms;
use super::{audit_detail, HistoryEvent, IsmsRecord, Kernel, Result, ServiceError};

/// What a re-base did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rebased {
    /// The ISMS.
    pub isms: IsmsId,
    /// The schema.
    pub schema: String,
    /// The version it was on.
    pub from: u32,
    /// The version it is on now.
    pub to: u32,
    /// The inputs the new version has no place for, in words.
    pub dropped: Vec<String>,
    /// What came into force and what left (regulations, procedures, artefacts, metrics), in words.
    pub instantiated: Vec<String>,
    /// The headline figures that moved: compliance, maturity, risk.
    pub changed: Vec<Delta>,
    /// The board on the new version.
    pub board: Board,
}

/// The inputs of `record` that `schema` still has a place for, and what was dropped.
fn carry_over(
    record: &IsmsRecord,
    schema: &Schema,
) -> Result<(Inputs, Vec<mmsm_model::User>, Vec<String>)> {
    let subcontrols: std::collections::BTreeSet<&str> =
        schema.subcontrols().map(|(_, s)| s.id.as_str()).collect();
    let has_type = |t: &str| schema.asset_types.iter().any(|a| a.id.as_str() == t);
    let has_threat = |t: &str| schema.threats.iter().any(|x| x.id.as_str() == t);
    let has_role = |r: &str| schema.roles.iter().any(|x| x.id.as_str() == r);
    let mut inputs = record.inputs.clone();
    let mut dropped = Vec::new();
    let orphans: Vec<String> = record
        .inputs
        .assets
        .iter()
        .filter(|a| !has_type(a.asset_type.as_str()))
        .map(|a| format!("`{}` (type {})", a.id, a.asset_type))
        .collect();
    if !orphans.is_empty() {
        return Err(ServiceError::Refused(format!(
            "version {} of schema {} has no asset type for the assets {}; give them a type it has first (`mmsm isms asset`, or the Assets page)",
            schema.schema.version,
            schema.schema.id,
            orphans.join(", ")
        )));
    }
    inputs.answers.retain(|id, answer| {
        let keep = subcontrols.contains(id.as_str());
        if !keep {
            dropped.push(format!("answer {id}: {}", answer.as_str()));
        }
        keep
    });
    inputs.measured.retain(|id, _| {
        let keep = subcontrols.contains(id.as_str());
        if !keep {
            dropped.push(format!("measured value of {id}"));
        }
        keep
    });
    inputs.probability.retain(|(t, threat), _| {
        let keep = has_type(t.as_str()) && has_threat(threat.as_str());
        if !keep {
            dropped.push(format!("accepted probability of {threat} on {t}"));
        }
        keep
    });
    inputs.degradation.retain(|(t, threat, d), _| {
        let keep = has_type(t.as_str()) && has_threat(threat.as_str());
        if !keep {
            dropped.push(format!("accepted degradation of {threat} on {t} ({d:?})"));
        }
        keep
    });
    let mut users = record.users.clone();
    let mut roleless = Vec::new();
    for user in &mut users {
        let before = user.roles.clone();
        user.roles.retain(|r| has_role(r.as_str()));
        for gone in before.iter().filter(|r| !user.roles.contains(r)) {
            dropped.push(format!("role {gone} of user {}", user.id));
        }
        if user.roles.is_empty() && !before.is_empty() {
            roleless.push(user.id.to_string());
        }
    }
    if !roleless.is_empty() {
        return Err(ServiceError::Refused(format!(
            "version {} of schema {} has none of the roles of the users {}; give them a role it has first",
            schema.schema.version,
            schema.schema.id,
            roleless.join(", ")
        )));
    }
    Ok((inputs, users, dropped))
}

/// Ids as text.
fn ids<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

/// The differences between two instantiations, in words.
fn instantiation_changes(old: &super::Instantiated, new: &super::Instantiated) -> Vec<String> {
    let mut said = Vec::new();
    let mut compare = |kind: &str, a: Vec<String>, b: Vec<String>| {
        for id in b.iter().filter(|id| !a.contains(id)) {
            said.push(format!("{kind} {id} comes into force"));
        }
        for id in a.iter().filter(|id| !b.contains(id)) {
            said.push(format!("{kind} {id} is no longer in force"));
        }
    };
    compare("regulation", ids(&old.regulations), ids(&new.regulations));
    compare("procedure", ids(&old.procedures), ids(&new.procedures));
    compare("artefact", ids(&old.artefacts), ids(&new.artefacts));
    compare("metric", ids(&old.metrics), ids(&new.metrics));
    said
}

/// The headline figures that moved between two boards.
fn headline(old: &Board, new: &Board) -> Vec<Delta> {
    let mut deltas = Vec::new();
    let mut push = |subject: Subject, before: Option<f64>, after: Option<f64>| {
        if before != after {
            deltas.push(Delta {
                subject,
                before,
                after,
            });
        }
    };
    push(Subject::Isms, old.compliance, new.compliance);
    push(
        Subject::MaturityCurrent,
        Some(f64::from(old.maturity.current)),
        Some(f64::from(new.maturity.current)),
    );
    push(
        Subject::MaturityTarget,
        Some(f64::from(old.maturity.target)),
        Some(f64::from(new.maturity.target)),
    );
    push(Subject::RiskMax, Some(old.risk.max), Some(new.risk.max));
    push(Subject::RiskMean, Some(old.risk.mean), Some(new.risk.mean));
    deltas
}

impl Kernel {
    /// Moves ISMS `id` to `version` of its schema (the newest without one).
    /// For the consultancy's generation zone (CoS).
    pub fn rebase_isms(
        &self,
        principal: &Principal,
        id: &str,
        version: Option<u32>,
    ) -> Result<Rebased> {
        principal.require(
            Zone::Generation,
            "re-base an ISMS on a newer schema version",
        )?;
        let now = self.now();
        let nanos = self.now_nanos();
        self.store().write(|store, batch| {
            let mut record = self.isms(principal, id)?;
            record.ensure_open()?;
            let from = record.schema.version;
            let schema_id = record.schema.id.to_string();
            let to = match version {
                Some(v) => v,
                None => self.newest_version(&schema_id)?,
            };
            if to <= from {
                return Err(ServiceError::Refused(format!(
                    "ISMS {} is on version {from} of schema {schema_id}; {} (`mmsm schema show {schema_id}` lists the versions)",
                    record.id,
                    if to == from {
                        "it is already there".to_owned()
                    } else {
                        format!("a re-base only moves forward, not to version {to}")
                    }
                )));
            }
            let index = self.schema_index(principal, &schema_id, to)?;
            let target = index.schema().clone();
            let (inputs, users, dropped) = carry_over(&record, &target)?;
            let engine = Engine::with_index(index, inputs);
            let mut board = engine.board();
            board.isms = record.id.to_string();
            let instantiated = instantiate(&target, &board);
            let said = instantiation_changes(&record.instantiated, &instantiated);
            let changed = headline(&record.board, &board);
            record.schema = SchemaChoice {
                id: record.schema.id.clone(),
                version: to,
                reason: format!("re-based from version {from} by {}", principal.user),
            };
            record.inputs = engine.inputs();
            record.users = users;
            record.instantiated = instantiated;
            record.board = board.clone().into();
            put_isms(batch, &mut record, now);
            self.keep_engine(&record, engine);
            record_history(
                store,
                batch,
                &record.id,
                nanos,
                &HistoryEvent {
                    at: now,
                    user: principal.user.clone(),
                    cause: "rebase".into(),
                    change: None,
                    deltas: changed.clone(),
                    refs: vec![format!("schema:{schema_id}@{to}")],
                    note: Some(format!(
                        "re-based from {schema_id}@{from} to {schema_id}@{to}{}",
                        if dropped.is_empty() {
                            String::new()
                        } else {
                            format!("; dropped {}", dropped.join(", "))
                        }
                    )),
                },
                &board,
            )?;
            // Certificates of changed regulations are revoked from now on: the
            // culture share follows.
            self.culture_refresh(store, batch, principal, &mut record, None)?;
            audit_detail(
                batch,
                principal,
                "isms.rebase",
                vec![record.id.to_string(), format!("{schema_id}@{from}"), format!("{schema_id}@{to}")],
                Some(serde_json::json!({ "dropped": dropped, "instantiated": said })),
            );
            Ok(Rebased {
                isms: record.id.clone(),
                schema: schema_id,
                from,
                to,
                dropped,
                instantiated: said,
                changed,
                board: (*record.board).clone(),
            })
        })
    }
}

/// What `rebase --all` did to one ISMS.
#[derive(Debug, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum RebaseOne {
    /// Moved to the version.
    Rebased {
        /// The ISMS.
        isms: IsmsId,
        /// From this version.
        from: u32,
    },
    /// Already on the version (or a newer one): left as it was.
    Current {
        /// The ISMS.
        isms: IsmsId,
    },
    /// Refused: its own transaction changed nothing.
    Failed {
        /// The ISMS.
        isms: IsmsId,
        /// Why, in words.
        error: String,
    },
}

impl Kernel {
    /// The newest stored version of schema `id`.
    pub(crate) fn newest_version(&self, id: &str) -> Result<u32> {
        match self.store().schema_versions(id)?.into_iter().max() {
            Some(v) => Ok(v),
            None => Err(self.schema_not_found(id, None)?),
        }
    }

    /// `mmsm isms rebase --all --schema ID [--version N]`: re-bases every ISMS
    /// of schema `schema` the principal may see on `version` (default: the
    /// newest), each in its own transaction, so that one refusal (an asset
    /// whose type is gone) stops nothing else. `progress(done, total)` is
    /// called after each.
    pub fn rebase_all(
        &self,
        principal: &Principal,
        schema: &str,
        version: Option<u32>,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<(u32, Vec<RebaseOne>)> {
        principal.require(
            Zone::Generation,
            "re-base an ISMS on a newer schema version",
        )?;
        let to = match version {
            Some(v) => v,
            None => self.newest_version(schema)?,
        };
        self.schema_index(principal, schema, to)?;
        let prefix = format!("{schema}@");
        let ids: Vec<(IsmsId, u32)> = self
            .list_isms(principal)?
            .into_iter()
            .filter_map(|i| {
                let v = i.schema.strip_prefix(&prefix)?.parse().ok()?;
                Some((i.id, v))
            })
            .collect();
        let total = ids.len();
        let mut outcomes = Vec::with_capacity(total);
        for (n, (isms, from)) in ids.into_iter().enumerate() {
            outcomes.push(if from >= to {
                RebaseOne::Current { isms }
            } else {
                match self.rebase_isms(principal, isms.as_str(), Some(to)) {
                    Ok(_) => RebaseOne::Rebased { isms, from },
                    Err(e) => RebaseOne::Failed {
                        isms,
                        error: e.to_string(),
                    },
                }
            });
            progress(n + 1, total);
        }
        Ok((to, outcomes))
    }
}
