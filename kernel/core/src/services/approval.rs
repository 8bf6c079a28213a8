//! The speaker's approval of a generated ISMS (issue 15.1): the paper's
//! speaker (Int) "will be the responsible for approving the final result".
//! An ISMS is a draft until a user of it holding `Int` approves it; the
//! approval records who, when, the schema version, the target level and a
//! digest of what was approved (the board's figures, the plan, the SoA's
//! applicability, the documents in force). A re-base or a change of the
//! target level makes it *pending* again, saying what changed since.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::access::Principal;
use mmsm_store::{chain::hex, Repo};

use super::gsgs::IsmsRecord;
use super::{audit_detail, Kernel, Result, ServiceError};

/// The role of the client's speaker, who approves.
pub const SPEAKER: &str = "Int";

/// An approval as stored (`approval/{isms}` in the isms repository).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    /// The speaker who approved.
    pub by: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// The schema version approved.
    pub schema_version: u32,
    /// The target level approved.
    pub target: u8,
    /// The sha256 of what was approved.
    pub digest: String,
    /// The speaker's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where an ISMS stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Never approved.
    Draft,
    /// Approved, and nothing it depends on changed since.
    Approved {
        /// The approval.
        approval: Approval,
    },
    /// Approved once; the schema version or the target level changed since.
    Pending {
        /// The last approval.
        approval: Approval,
        /// What changed since, in words.
        changed: Vec<String>,
    },
}

impl ApprovalStatus {
    /// In words, for the report, the board and `isms show`.
    pub fn words(&self) -> String {
        let date = |at: u64| {
            chrono::DateTime::from_timestamp(at as i64, 0)
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default()
        };
        match self {
            ApprovalStatus::Draft => "draft, not approved by the speaker".into(),
            ApprovalStatus::Approved { approval } => {
                format!("approved by {} on {}", approval.by, date(approval.at))
            }
            ApprovalStatus::Pending { approval, changed } => format!(
                "approval pending: approved by {} on {}, then {}",
                approval.by,
                date(approval.at),
                changed.join(" and ")
            ),
        }
    }
}

fn approval_key(isms: &str) -> String {
    format!("approval/{isms}")
}

/// The digest of what the speaker approves: the board's headline figures,
/// the plan's controls in order, each control's applicability and the
/// documents in force.
fn digest(record: &IsmsRecord, plan: &[mmsm_engine::PlanItem]) -> String {
    let board = &record.board;
    let what = serde_json::json!({
        "schema": [board.schema.id, board.schema.version],
        "compliance": board.compliance.map(|c| (c * 100.0).round() / 100.0),
        "maturity": [board.maturity.current, board.maturity.target],
        "applicable": board.controls.iter().map(|c| (c.id.to_string(), c.compliance.is_some())).collect::<Vec<_>>(),
        "plan": plan.iter().map(|p| format!("{}@{}", p.control, p.level)).collect::<Vec<_>>(),
        "documents": record.instantiated,
    });
    hex(&Sha256::digest(what.to_string().as_bytes()))
}

impl Kernel {
    /// The approval state of ISMS `isms`.
    pub fn approval_status(&self, principal: &Principal, isms: &str) -> Result<ApprovalStatus> {
        let record = self.isms(principal, isms)?;
        self.status_of(&record)
    }

    /// The approval state of `record`, already read (no second read of it).
    pub fn status_of(&self, record: &IsmsRecord) -> Result<ApprovalStatus> {
        let Some(approval) = self
            .store()
            .get::<Approval>(Repo::Isms, &approval_key(record.id.as_str()))?
        else {
            return Ok(ApprovalStatus::Draft);
        };
        let mut changed = Vec::new();
        if approval.schema_version != record.schema.version {
            changed.push(format!(
                "re-based from schema version {} to {}",
                approval.schema_version, record.schema.version
            ));
        }
        if approval.target != record.board.maturity.target {
            changed.push(format!(
                "the target level moved from {} to {}",
                approval.target, record.board.maturity.target
            ));
        }
        Ok(if changed.is_empty() {
            ApprovalStatus::Approved { approval }
        } else {
            ApprovalStatus::Pending { approval, changed }
        })
    }

    /// The speaker approves ISMS `isms`: only a user of it holding the
    /// speaker's role `Int` (the client accepts, not the consultancy).
    pub fn approve_isms(
        &self,
        principal: &Principal,
        isms: &str,
        note: Option<String>,
    ) -> Result<ApprovalStatus> {
        let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if let Some(n) = &note {
            mmsm_model::check_length("the note", n, mmsm_model::MAX_TEXT)
                .map_err(ServiceError::Refused)?;
        }
        let now = self.now();
        self.store().write(|_, batch| {
            let record = self.isms(principal, isms)?;
            record.ensure_open()?;
            let is_user = record.users.iter().any(|u| {
                u.id.as_str() == principal.user && u.roles.iter().any(|r| r.as_str() == SPEAKER)
            });
            if !is_user || !principal.roles.iter().any(|r| r.as_str() == SPEAKER) {
                return Err(ServiceError::Refused(format!(
                    "only the enterprise's speaker approves its ISMS: a user of {} holding the role Int; `{}` is not (the security officer gives the role on the Users page)",
                    record.id, principal.user
                )));
            }
            let approval = Approval {
                by: principal.user.clone(),
                at: now,
                schema_version: record.schema.version,
                target: record.board.maturity.target,
                digest: digest(&record, &self.engine_copy(&record)?.plan()),
                note: note.clone(),
            };
            batch.put(Repo::Isms, approval_key(record.id.as_str()), &approval);
            audit_detail(
                batch,
                principal,
                "isms.approve",
                vec![record.id.to_string()],
                Some(serde_json::json!({ "digest": approval.digest, "schema_version": approval.schema_version, "target": approval.target })),
            );
            Ok(ApprovalStatus::Approved { approval })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;
    use mmsm_model::{RoleId, User, UserId};
    use mmsm_store::Store;

    #[test]
    fn the_speaker_approves_and_a_target_change_makes_it_pending() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let (local, id) = (Principal::local_operator(), &ids[0]);
        assert_eq!(
            k.approval_status(&local, id).unwrap(),
            ApprovalStatus::Draft
        );
        k.add_user(
            &local,
            id,
            User {
                id: UserId::new("marta"),
                name: "Marta".into(),
                roles: vec![RoleId::new("Int")],
                department: None,
                email: None,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let ana = k.principal_for(id, "ana").unwrap();
        match k.approve_isms(&ana, id, None) {
            Err(ServiceError::Refused(m)) => {
                assert!(m.contains("only the enterprise's speaker"), "{m}")
            }
            other => panic!("{other:?}"),
        }
        let marta = k.principal_for(id, "marta").unwrap();
        let approved = k
            .approve_isms(&marta, id, Some("looks right".into()))
            .unwrap();
        assert!(
            approved.words().starts_with("approved by marta"),
            "{}",
            approved.words()
        );
        assert!(matches!(
            k.approval_status(&local, id).unwrap(),
            ApprovalStatus::Approved { .. }
        ));
        k.update_isms(
            &local,
            id,
            mmsm_engine::Change::TargetLevel { level: Some(2) },
            "target",
        )
        .unwrap();
        let pending = k.approval_status(&local, id).unwrap();
        assert!(
            pending
                .words()
                .contains("the target level moved from 1 to 2"),
            "{}",
            pending.words()
        );
        let trail = k.audit_log(&local, None).unwrap();
        assert!(trail.iter().any(|e| e.action == "isms.approve"));
    }
}
