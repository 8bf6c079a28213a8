//! The audit programme (issue 15.4): the audits a schema schedules
//! (`certification.audits`, internal or external, every `1y`...), the
//! audits an ISMS underwent, and which are due. Not the audit *trail*
//! (`mmsm audit`, [`super::auditing`]): these are audits of the ISMS.
//!
//! An audit held is kept at `audit-done/{isms}/{YYYY-MM-DD}-{audit}` in the
//! isms repository; the metrics read them as `ctx.audits`.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_model::{AuditKind, AuditPlan, AuditPlanId, Zone};
use mmsm_store::Repo;

use super::gsgs::IsmsRecord;
use super::{audit_detail, Kernel, Result, ServiceError};

/// An audit an ISMS underwent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditHeld {
    /// The audit of the programme.
    pub audit: AuditPlanId,
    /// Internal or external (as the programme said then).
    pub kind: AuditKind,
    /// The day it was held.
    pub on: NaiveDate,
    /// Who recorded it (the auditor).
    pub by: String,
    /// When it was recorded (seconds since the Unix epoch).
    pub at: u64,
    /// The auditor's note: scope, conclusion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An audit of the programme for one ISMS: when it was last held and when
/// it is due.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRow {
    /// The audit as the schema schedules it.
    #[serde(flatten)]
    pub plan: AuditPlan,
    /// How often, in words ("every 1 year").
    pub every_words: String,
    /// The last time it was held.
    pub last: Option<NaiveDate>,
    /// When it is due next: a period after the last one, or after the
    /// ISMS was generated when it was never held.
    pub due: NaiveDate,
    /// Past its due date.
    pub overdue: bool,
    /// Every time it was held, latest first.
    pub held: Vec<AuditHeld>,
    /// Findings raised in it.
    pub findings: usize,
}

fn held_key(isms: &str, on: NaiveDate, audit: &str) -> String {
    format!("audit-done/{isms}/{on}-{audit}")
}

impl Kernel {
    /// Records that ISMS `isms` underwent audit `audit` of its programme on
    /// day `on` (today or before): the auditor (AuS) or the consultant (CoS).
    pub fn record_audit(
        &self,
        principal: &Principal,
        isms: &str,
        audit: &str,
        on: NaiveDate,
        note: Option<String>,
    ) -> Result<AuditHeld> {
        let action = "record an audit";
        principal
            .require(Zone::Audit, action)
            .or_else(|_| principal.require(Zone::Generation, action))?;
        let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
        if let Some(n) = &note {
            mmsm_model::check_length("the note", n, mmsm_model::MAX_TEXT)
                .map_err(ServiceError::Refused)?;
        }
        let now = self.now();
        let today = self.now_utc().date_naive();
        if on > today {
            return Err(ServiceError::Refused(format!(
                "{on} is in the future; record an audit once it was held (today is {today})"
            )));
        }
        self.store().write(|_, batch| {
            let record = self.isms(principal, isms)?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let programme = schema.certification().audits;
            let Some(plan) = programme.iter().find(|a| a.id.as_str() == audit.trim()) else {
                let known: Vec<String> = programme.iter().map(|a| a.id.to_string()).collect();
                return Err(ServiceError::NotFound {
                    kind: "audit",
                    id: audit.to_owned(),
                    hint: if known.is_empty() {
                        format!("; schema {} schedules no audit", schema.schema.id)
                    } else {
                        format!("; the audits of the programme are {}", known.join(", "))
                    },
                });
            };
            let held = AuditHeld {
                audit: plan.id.clone(),
                kind: plan.kind,
                on,
                by: principal.user.clone(),
                at: now,
                note: note.clone(),
            };
            batch.put(
                Repo::Isms,
                held_key(record.id.as_str(), on, plan.id.as_str()),
                &held,
            );
            audit_detail(
                batch,
                principal,
                "isms.audit.record",
                vec![record.id.to_string(), plan.id.to_string()],
                Some(serde_json::json!({ "on": on, "kind": plan.kind })),
            );
            Ok(held)
        })
    }

    /// The audit programme of ISMS `isms`: each scheduled audit with its last
    /// and next date.
    pub fn audit_programme(&self, principal: &Principal, isms: &str) -> Result<Vec<AuditRow>> {
        let record = self.isms(principal, isms)?;
        self.programme_of(&record)
    }

    /// The audit programme of `record`, already read.
    pub fn programme_of(&self, record: &IsmsRecord) -> Result<Vec<AuditRow>> {
        let schema = self.isms_schema(record)?;
        let today = self.now_utc().date_naive();
        let mut held: Vec<AuditHeld> = self
            .store()
            .scan::<AuditHeld>(Repo::Isms, &format!("audit-done/{}/", record.id))?
            .into_iter()
            .map(|(_, h)| h)
            .collect();
        held.reverse();
        let findings = self.findings_of(record)?;
        let generated = chrono::DateTime::from_timestamp(record.created_at as i64, 0)
            .map(|d| d.date_naive())
            .unwrap_or(today);
        Ok(schema
            .certification()
            .audits
            .into_iter()
            .map(|plan| {
                let mine: Vec<AuditHeld> = held
                    .iter()
                    .filter(|h| h.audit == plan.id)
                    .cloned()
                    .collect();
                let last = mine.first().map(|h| h.on);
                let days = (plan.every.seconds() / 86_400).max(1) as i64;
                let due = last.unwrap_or(generated) + Duration::days(days);
                AuditRow {
                    every_words: format!("every {}", plan.every.words()),
                    findings: findings
                        .iter()
                        .filter(|f| f.audit.as_ref() == Some(&plan.id))
                        .count(),
                    plan,
                    last,
                    due,
                    overdue: due < today,
                    held: mine,
                }
            })
            .collect())
    }
}
