//! Findings and corrective actions (issue 15.3): what an auditor (AuS), or
//! the consultant, finds on an ISMS, the security officer's corrective
//! action, and the auditor's closing.
//!
//! An open *major* non-conformity holds its control at the schema's
//! `certification.major_finding_cap` (default 0: not implemented until
//! closed) through the engine's [`Change::Cap`], in the same transaction as
//! the finding, and suspends the level certificates it touches. Kept at
//! `finding/{isms}/{number:06}` in the isms repository; evidence files in the
//! info repository with their hash (`evidence/{isms}/finding-F{n}-{name}`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_engine::Change;
use mmsm_model::{AuditPlanId, ControlId, ProcedureId, Schema, Zone};
use mmsm_store::{Batch, Repo};

use super::evidence::put_evidence;
use super::gsgs::IsmsRecord;
use super::msgs::manages;
use super::{audit_detail, Kernel, Result, ServiceError};

/// What a finding is, as ISO 19011 and certification bodies grade them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A requirement not met in a way that puts the system's result in doubt.
    Major,
    /// A requirement not met in part, or once.
    Minor,
    /// Not a non-conformity yet: worth watching.
    Observation,
    /// An opportunity for improvement.
    Opportunity,
}

impl FindingKind {
    /// Every kind, gravest first.
    pub const ALL: [FindingKind; 4] = [
        FindingKind::Major,
        FindingKind::Minor,
        FindingKind::Observation,
        FindingKind::Opportunity,
    ];

    /// `major`, `minor`, `observation` or `opportunity`.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::Major => "major",
            FindingKind::Minor => "minor",
            FindingKind::Observation => "observation",
            FindingKind::Opportunity => "opportunity",
        }
    }

    /// In words: "major non-conformity".
    pub fn words(self) -> &'static str {
        match self {
            FindingKind::Major => "major non-conformity",
            FindingKind::Minor => "minor non-conformity",
            FindingKind::Observation => "observation",
            FindingKind::Opportunity => "opportunity for improvement",
        }
    }

    /// Whether it is a non-conformity, which needs a corrective action.
    pub fn is_nonconformity(self) -> bool {
        matches!(self, FindingKind::Major | FindingKind::Minor)
    }

    /// Parses `major`, `minor`, `observation` or `opportunity`.
    pub fn parse(text: &str) -> std::result::Result<FindingKind, String> {
        FindingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text.trim())
            .ok_or_else(|| {
                format!("`{text}` is not a kind of finding; expected major, minor, observation or opportunity")
            })
    }
}

/// An evidence file a finding points to, as stored with the ISMS's evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEvidence {
    /// The evidence file's name.
    pub name: String,
    /// Its sha256, hex.
    pub sha256: String,
}

/// The officer's corrective action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectiveAction {
    /// What will be done.
    pub action: String,
    /// The user of the ISMS who does it.
    pub owner: String,
    /// By when (YYYY-MM-DD).
    pub due: NaiveDate,
    /// Who set it.
    pub by: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// When it was reported done, and by whom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Stamp>,
}

/// Who did something, when, and what they said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stamp {
    /// The user.
    pub by: String,
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// Their note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A finding on an ISMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Its number in the ISMS, from 1 (shown `F1`).
    pub number: u32,
    /// The control it is about.
    pub control: ControlId,
    /// The procedure it is about, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procedure: Option<ProcedureId>,
    /// The audit of the programme it was raised in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditPlanId>,
    /// Major, minor, observation or opportunity.
    pub kind: FindingKind,
    /// What was found.
    pub text: String,
    /// The evidence file behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<FindingEvidence>,
    /// Who raised it, and when.
    pub raised: Stamp,
    /// The corrective action, once the officer responded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<CorrectiveAction>,
    /// The auditor's closing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Stamp>,
}

impl Finding {
    /// `F3`.
    pub fn label(&self) -> String {
        format!("F{}", self.number)
    }

    /// Not closed.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }

    /// An open major non-conformity: it holds its control down.
    pub fn holds_control(&self) -> bool {
        self.is_open() && self.kind == FindingKind::Major
    }

    /// Its corrective action is past its due date and not done.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open()
            && self
                .response
                .as_ref()
                .is_some_and(|r| r.done.is_none() && r.due < today)
    }

    /// Where it stands, in words.
    pub fn state_words(&self, today: NaiveDate) -> String {
        if let Some(closed) = &self.closed {
            return format!("closed by {} on {}", closed.by, date(closed.at));
        }
        match &self.response {
            None if self.kind.is_nonconformity() => "open, awaiting a corrective action".into(),
            None => "open".into(),
            Some(r) if r.done.is_some() => format!(
                "corrective action done by {}, awaiting the auditor's closing",
                r.owner
            ),
            Some(r) if r.due < today => {
                format!(
                    "corrective action overdue since {} (owner {})",
                    r.due, r.owner
                )
            }
            Some(r) => format!("corrective action due {} (owner {})", r.due, r.owner),
        }
    }
}

/// A finding as the CLI, the API and the pages show it: with its state now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingView {
    /// `F3`.
    pub id: String,
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// `major non-conformity`...
    pub kind_words: &'static str,
    /// The control's title.
    pub control_title: String,
    /// Open, awaiting..., overdue..., closed... in words.
    pub state: String,
    /// Past its due date and not done.
    pub overdue: bool,
}

/// A new finding.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    /// The control.
    pub control: String,
    /// The procedure, if any.
    pub procedure: Option<String>,
    /// The audit of the programme, if any.
    pub audit: Option<String>,
    /// Its kind.
    pub kind: FindingKind,
    /// What was found.
    pub text: String,
    /// An evidence file: its name and contents.
    pub evidence: Option<(String, Vec<u8>)>,
}

/// The officer's response to a finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    /// What will be done.
    pub action: String,
    /// The user of the ISMS who does it.
    pub owner: String,
    /// By when.
    pub due: NaiveDate,
}

/// The findings figures of the board.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FindingFigures {
    /// Findings not closed.
    pub open: usize,
    /// Major non-conformities not closed.
    pub open_major: usize,
    /// Corrective actions past their due date and not done.
    pub overdue: usize,
}

fn date(at: u64) -> String {
    chrono::DateTime::from_timestamp(at as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn finding_key(isms: &str, number: u32) -> String {
    format!("finding/{isms}/{number:06}")
}

/// Stores `finding` of ISMS `isms` with its audit entry `isms.finding.{act}`.
fn put_finding(
    batch: &mut Batch,
    principal: &Principal,
    isms: &str,
    finding: &Finding,
    act: &str,
    detail: Option<serde_json::Value>,
) {
    batch.put(Repo::Isms, finding_key(isms, finding.number), finding);
    audit_detail(
        batch,
        principal,
        &format!("isms.finding.{act}"),
        vec![isms.to_owned(), finding.label()],
        detail,
    );
}

fn tidy(note: Option<String>) -> Result<Option<String>> {
    let note = note.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if let Some(n) = &note {
        mmsm_model::check_length("the note", n, mmsm_model::MAX_TEXT)
            .map_err(ServiceError::Refused)?;
    }
    Ok(note)
}

/// The number in `F3` or `3`.
fn parse_label(label: &str) -> Result<u32> {
    let digits = label.trim().trim_start_matches(['F', 'f']);
    digits.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        ServiceError::Refused(format!(
            "`{label}` is not a finding; expected its label, e.g. F3 (`mmsm finding list` shows them)"
        ))
    })
}

/// The evidence file name of a finding: `finding-F3-` and the file's name
/// with what an evidence name may not hold replaced by `-`.
fn evidence_name(number: u32, file: &str) -> String {
    let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(80)
        .collect();
    format!("finding-F{number}-{}", clean.trim_start_matches('.'))
}

impl Kernel {
    /// Records a finding on ISMS `isms`: the auditor (AuS) or the consultant
    /// (CoS). A major non-conformity holds its control at the schema's cap
    /// until it is closed, in the same transaction.
    pub fn add_finding(
        &self,
        principal: &Principal,
        isms: &str,
        new: NewFinding,
    ) -> Result<FindingView> {
        let action = "record a finding";
        principal
            .require(Zone::Audit, action)
            .or_else(|_| principal.require(Zone::Generation, action))?;
        let text = new.text.trim().to_owned();
        if text.is_empty() {
            return Err(ServiceError::Refused(
                "a finding needs its text: what was found, against which requirement".into(),
            ));
        }
        mmsm_model::check_length("the finding's text", &text, mmsm_model::MAX_TEXT)
            .map_err(ServiceError::Refused)?;
        let (now, nanos) = (self.now(), self.now_nanos());
        self.store().write(|store, batch| {
            let record = self.isms(principal, isms)?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let control = known_control(&schema, &record, &new.control)?;
            let procedure = match &new.procedure {
                Some(p) => Some(known_procedure(&schema, p)?),
                None => None,
            };
            let audit = match &new.audit {
                Some(a) => Some(known_audit(&schema, a)?),
                None => None,
            };
            let number = store
                .keys(Repo::Isms, &format!("finding/{}/", record.id))?
                .last()
                .and_then(|k| k.rsplit('/').next()?.parse::<u32>().ok())
                .unwrap_or(0)
                + 1;
            let evidence = match &new.evidence {
                Some((file, contents)) => {
                    let name = evidence_name(number, file);
                    let stored =
                        put_evidence(batch, principal, record.id.as_str(), &name, contents, now)?;
                    Some(FindingEvidence {
                        name: stored.name,
                        sha256: stored.sha256,
                    })
                }
                None => None,
            };
            let finding = Finding {
                number,
                control: control.clone(),
                procedure,
                audit,
                kind: new.kind,
                text: text.clone(),
                evidence,
                raised: Stamp {
                    by: principal.user.clone(),
                    at: now,
                    note: None,
                },
                response: None,
                closed: None,
            };
            put_finding(
                batch,
                principal,
                record.id.as_str(),
                &finding,
                "add",
                Some(serde_json::json!({ "control": control, "kind": new.kind })),
            );
            if new.kind == FindingKind::Major {
                let cap = schema.certification().major_finding_cap;
                self.apply_change_in(
                    store,
                    batch,
                    principal,
                    record.id.as_str(),
                    Change::Cap {
                        control,
                        value: Some(cap),
                    },
                    "finding",
                    (now, nanos),
                )?;
            }
            Ok(self.view(&schema, finding))
        })
    }

    /// The findings of ISMS `isms`, oldest first; only the open ones with `open_only`.
    pub fn list_findings(
        &self,
        principal: &Principal,
        isms: &str,
        open_only: bool,
    ) -> Result<Vec<FindingView>> {
        let record = self.isms(principal, isms)?;
        let schema = self.isms_schema(&record)?;
        Ok(self
            .findings_of(&record)?
            .into_iter()
            .filter(|f| !open_only || f.is_open())
            .map(|f| self.view(&schema, f))
            .collect())
    }

    /// One finding of ISMS `isms`, by its label (`F3`).
    pub fn finding(&self, principal: &Principal, isms: &str, label: &str) -> Result<FindingView> {
        let record = self.isms(principal, isms)?;
        let schema = self.isms_schema(&record)?;
        let finding = self.stored_finding(&record, label)?;
        Ok(self.view(&schema, finding))
    }

    /// The findings of `record`, already read, oldest first.
    pub fn findings_of(&self, record: &IsmsRecord) -> Result<Vec<Finding>> {
        Ok(self
            .store()
            .scan::<Finding>(Repo::Isms, &format!("finding/{}/", record.id))?
            .into_iter()
            .map(|(_, f)| f)
            .collect())
    }

    /// The board's findings figures for `record`.
    pub fn finding_figures(&self, record: &IsmsRecord) -> Result<FindingFigures> {
        let today = self.now_utc().date_naive();
        let findings = self.findings_of(record)?;
        Ok(FindingFigures {
            open: findings.iter().filter(|f| f.is_open()).count(),
            open_major: findings.iter().filter(|f| f.holds_control()).count(),
            overdue: findings.iter().filter(|f| f.is_overdue(today)).count(),
        })
    }

    /// The security officer (or the consultant) answers a finding with a
    /// corrective action: what, who (a user of the ISMS), by when.
    pub fn respond_finding(
        &self,
        principal: &Principal,
        isms: &str,
        label: &str,
        response: Response,
    ) -> Result<FindingView> {
        let action_text = response.action.trim().to_owned();
        if action_text.is_empty() {
            return Err(ServiceError::Refused(
                "a corrective action needs its text: what will be done".into(),
            ));
        }
        mmsm_model::check_length("the corrective action", &action_text, mmsm_model::MAX_TEXT)
            .map_err(ServiceError::Refused)?;
        let now = self.now();
        let today = self.now_utc().date_naive();
        if response.due < today {
            return Err(ServiceError::Refused(format!(
                "the due date {} is in the past; expected today ({today}) or later",
                response.due
            )));
        }
        self.store().write(|_, batch| {
            let record = self.officer(principal, isms, "respond to a finding")?;
            record.ensure_open()?;
            if !record.users.iter().any(|u| u.id.as_str() == response.owner) {
                return Err(super::msgs::users::unknown_user(&record, &response.owner));
            }
            let mut finding = self.stored_finding(&record, label)?;
            if !finding.is_open() {
                return Err(ServiceError::Refused(format!(
                    "{} is closed; record a new finding if the problem came back",
                    finding.label()
                )));
            }
            finding.response = Some(CorrectiveAction {
                action: action_text.clone(),
                owner: response.owner.clone(),
                due: response.due,
                by: principal.user.clone(),
                at: now,
                done: None,
            });
            put_finding(
                batch,
                principal,
                record.id.as_str(),
                &finding,
                "respond",
                Some(serde_json::json!({ "owner": response.owner, "due": response.due })),
            );
            let schema = self.isms_schema(&record)?;
            Ok(self.view(&schema, finding))
        })
    }

    /// The owner of the corrective action (or the officer) reports it done;
    /// the finding stays open until the auditor closes it.
    pub fn finding_action_done(
        &self,
        principal: &Principal,
        isms: &str,
        label: &str,
        note: Option<String>,
    ) -> Result<FindingView> {
        let note = tidy(note)?;
        let now = self.now();
        self.store().write(|_, batch| {
            let record = self.maintained(principal, isms, "report a corrective action done")?;
            record.ensure_open()?;
            let mut finding = self.stored_finding(&record, label)?;
            let label = finding.label();
            let open = finding.is_open();
            let Some(response) = finding.response.as_mut().filter(|_| open) else {
                return Err(ServiceError::Refused(format!(
                    "{label} has no open corrective action to report done"
                )));
            };
            if response.owner != principal.user && !manages(principal) {
                return Err(ServiceError::Refused(format!(
                    "the corrective action of {label} is {}'s; they or the security officer report it done",
                    response.owner
                )));
            }
            response.done = Some(Stamp {
                by: principal.user.clone(),
                at: now,
                note: note.clone(),
            });
            put_finding(
                batch,
                principal,
                record.id.as_str(),
                &finding,
                "done",
                None,
            );
            let schema = self.isms_schema(&record)?;
            Ok(self.view(&schema, finding))
        })
    }

    /// The auditor closes a finding: a non-conformity only once it has a
    /// corrective action (closing verifies it done). Closing the last open
    /// major non-conformity of a control frees the control.
    pub fn close_finding(
        &self,
        principal: &Principal,
        isms: &str,
        label: &str,
        note: Option<String>,
    ) -> Result<FindingView> {
        principal.require(Zone::Audit, "close a finding")?;
        let note = tidy(note)?;
        let (now, nanos) = (self.now(), self.now_nanos());
        self.store().write(|store, batch| {
            let record = self.isms(principal, isms)?;
            record.ensure_open()?;
            let schema = self.isms_schema(&record)?;
            let findings = self.findings_of(&record)?;
            let number = parse_label(label)?;
            let Some(mut finding) = findings.iter().find(|f| f.number == number).cloned() else {
                return Err(unknown_finding(&record, label));
            };
            if !finding.is_open() {
                return Err(ServiceError::Refused(format!(
                    "{} is closed already",
                    finding.label()
                )));
            }
            if finding.kind.is_nonconformity() {
                let Some(response) = finding.response.as_mut() else {
                    return Err(ServiceError::Refused(format!(
                        "{} is a {} without a corrective action yet: the security officer responds first (`mmsm finding respond`)",
                        finding.label(),
                        finding.kind.words()
                    )));
                };
                if response.done.is_none() {
                    response.done = Some(Stamp {
                        by: principal.user.clone(),
                        at: now,
                        note: Some("verified done by the auditor when closing".into()),
                    });
                }
            }
            finding.closed = Some(Stamp {
                by: principal.user.clone(),
                at: now,
                note,
            });
            put_finding(
                batch,
                principal,
                record.id.as_str(),
                &finding,
                "close",
                None,
            );
            let still_held = findings
                .iter()
                .any(|f| f.number != finding.number && f.holds_control() && f.control == finding.control);
            // A control the schema no longer has (after a re-base) holds nothing to free.
            let known = schema.controls.iter().any(|c| c.id == finding.control);
            if finding.kind == FindingKind::Major && !still_held && known {
                self.apply_change_in(
                    store,
                    batch,
                    principal,
                    record.id.as_str(),
                    Change::Cap {
                        control: finding.control.clone(),
                        value: None,
                    },
                    "finding",
                    (now, nanos),
                )?;
            }
            Ok(self.view(&schema, finding))
        })
    }

    fn stored_finding(&self, record: &IsmsRecord, label: &str) -> Result<Finding> {
        let number = parse_label(label)?;
        self.store()
            .get::<Finding>(Repo::Isms, &finding_key(record.id.as_str(), number))?
            .ok_or_else(|| unknown_finding(record, label))
    }

    fn view(&self, schema: &Schema, finding: Finding) -> FindingView {
        let today = self.now_utc().date_naive();
        FindingView {
            id: finding.label(),
            kind_words: finding.kind.words(),
            control_title: schema
                .controls
                .iter()
                .find(|c| c.id == finding.control)
                .map(|c| c.title.clone())
                .unwrap_or_default(),
            state: finding.state_words(today),
            overdue: finding.is_overdue(today),
            finding,
        }
    }
}

fn unknown_finding(record: &IsmsRecord, label: &str) -> ServiceError {
    ServiceError::NotFound {
        kind: "finding",
        id: label.to_owned(),
        hint: format!(
            " in ISMS {}; `mmsm finding list {}` shows its findings",
            record.id, record.id
        ),
    }
}

fn known_control(schema: &Schema, record: &IsmsRecord, id: &str) -> Result<ControlId> {
    let id = id.trim();
    if schema.controls.iter().any(|c| c.id.as_str() == id) {
        return Ok(ControlId::new(id));
    }
    Err(ServiceError::NotFound {
        kind: "control",
        id: id.to_owned(),
        hint: format!(
            " in schema {} (version {}) of ISMS {}; controls are numbered like 5.1 or 8.13",
            schema.schema.id, schema.schema.version, record.id
        ),
    })
}

fn known_procedure(schema: &Schema, id: &str) -> Result<ProcedureId> {
    let id = id.trim();
    if schema.procedures.iter().any(|p| p.id.as_str() == id) {
        return Ok(ProcedureId::new(id));
    }
    let known: Vec<&str> = schema.procedures.iter().map(|p| p.id.as_str()).collect();
    Err(ServiceError::NotFound {
        kind: "procedure",
        id: id.to_owned(),
        hint: format!("; the schema's procedures are {}", known.join(", ")),
    })
}

fn known_audit(schema: &Schema, id: &str) -> Result<AuditPlanId> {
    let id = id.trim();
    let programme = schema.certification().audits;
    if programme.iter().any(|a| a.id.as_str() == id) {
        return Ok(AuditPlanId::new(id));
    }
    let known: Vec<String> = programme.iter().map(|a| a.id.to_string()).collect();
    Err(ServiceError::NotFound {
        kind: "audit",
        id: id.to_owned(),
        hint: if known.is_empty() {
            "; the schema schedules no audit".into()
        } else {
            format!("; the schema's audits are {}", known.join(", "))
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::fixture::msgs_kernel;
    use mmsm_engine::Subject;
    use mmsm_model::{Answer, SubControlId};
    use mmsm_store::Store;

    fn yes_to_level_one(k: &Kernel, id: &str) {
        let local = Principal::local_operator();
        for s in ["6.3.1", "8.13.1", "8.13.2"] {
            k.update_isms(
                &local,
                id,
                Change::Answer {
                    subcontrol: SubControlId::new(s),
                    answer: Some(Answer::Yes),
                },
                "answer",
            )
            .unwrap();
        }
    }

    fn control(k: &Kernel, id: &str, control: &str) -> Option<f64> {
        let record = k.isms(&Principal::local_operator(), id).unwrap();
        record
            .board
            .controls
            .iter()
            .find(|c| c.id.as_str() == control)
            .unwrap()
            .compliance
    }

    fn major(text: &str) -> NewFinding {
        NewFinding {
            control: "8.13".into(),
            procedure: None,
            audit: Some("external-audit".into()),
            kind: FindingKind::Major,
            text: text.into(),
            evidence: Some(("restore log.txt".into(), b"restore failed 3 times".to_vec())),
        }
    }

    #[test]
    fn a_major_finding_holds_its_control_and_suspends_the_certificate_until_the_auditor_closes_it()
    {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = &ids[0];
        let auditor = Principal::new("aus", ["AuS"]).as_admin();
        let ana = k.principal_for(id, "ana").unwrap();
        let luis = k.principal_for(id, "luis").unwrap();
        yes_to_level_one(&k, id);
        assert_eq!(k.certify_level(&auditor, id, 1).unwrap().state, "valid");
        let before = k.isms(&auditor, id).unwrap().board.compliance.unwrap();
        assert_eq!(control(&k, id, "8.13"), Some(100.0));

        // Only the auditor or the consultant records findings.
        assert!(matches!(
            k.add_finding(&luis, id, major("x")),
            Err(ServiceError::Forbidden(_))
        ));
        match k.add_finding(
            &auditor,
            id,
            NewFinding {
                control: "9.99".into(),
                ..major("x")
            },
        ) {
            Err(ServiceError::NotFound { kind, hint, .. }) => {
                assert_eq!(kind, "control");
                assert!(hint.contains("schema msgs"), "{hint}");
            }
            other => panic!("{other:?}"),
        }
        let f1 = k
            .add_finding(&auditor, id, major("Restores are never tested"))
            .unwrap();
        assert_eq!(f1.id, "F1");
        assert_eq!(f1.state, "open, awaiting a corrective action");
        let evidence = f1.finding.evidence.as_ref().unwrap();
        assert_eq!(evidence.name, "finding-F1-restore-log.txt");
        assert!(k
            .list_evidence(&auditor, id)
            .unwrap()
            .iter()
            .any(|e| e.name == evidence.name && e.sha256 == evidence.sha256));

        // The control is held at 0 and the board falls; the certificate is suspended.
        assert_eq!(control(&k, id, "8.13"), Some(0.0));
        let after = k.isms(&auditor, id).unwrap().board.compliance.unwrap();
        assert!(after < before, "{after} < {before}");
        let certificates = k.level_certificates(&auditor, id).unwrap();
        assert_eq!(certificates[0].state, "suspended");
        match k.certify_level(&auditor, id, 1) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("F1 on control 8.13"), "{m}"),
            other => panic!("{other:?}"),
        }
        let why = k
            .isms_engine(&auditor, id)
            .unwrap()
            .1
            .explain(&Subject::Subcontrol(SubControlId::new("8.13.1")))
            .unwrap();
        assert!(
            why.formula.contains("major non-conformity"),
            "{}",
            why.formula
        );
        assert_eq!(
            k.finding_figures(&k.isms(&auditor, id).unwrap()).unwrap(),
            FindingFigures {
                open: 1,
                open_major: 1,
                overdue: 0
            }
        );

        // The auditor cannot close before the officer responds; luis may not respond.
        match k.close_finding(&auditor, id, "F1", None) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("responds first"), "{m}"),
            other => panic!("{other:?}"),
        }
        let due = k.now_utc().date_naive() + chrono::Duration::days(30);
        let response = Response {
            action: "Test a restore every month and log it".into(),
            owner: "luis".into(),
            due,
        };
        assert!(matches!(
            k.respond_finding(&luis, id, "F1", response.clone()),
            Err(ServiceError::Forbidden(_))
        ));
        match k.respond_finding(
            &ana,
            id,
            "F1",
            Response {
                owner: "nobody".into(),
                ..response.clone()
            },
        ) {
            Err(ServiceError::NotFound { kind, .. }) => assert_eq!(kind, "user"),
            other => panic!("{other:?}"),
        }
        let responded = k.respond_finding(&ana, id, "F1", response).unwrap();
        assert!(responded.state.contains("due"), "{}", responded.state);
        // The owner reports it done; the officer may not close.
        let done = k
            .finding_action_done(&luis, id, "F1", Some("first restore test passed".into()))
            .unwrap();
        assert!(
            done.state.contains("awaiting the auditor"),
            "{}",
            done.state
        );
        assert!(matches!(
            k.close_finding(&ana, id, "F1", None),
            Err(ServiceError::Forbidden(_))
        ));
        let closed = k
            .close_finding(&auditor, id, "F1", Some("verified the restore log".into()))
            .unwrap();
        assert!(
            closed.state.starts_with("closed by aus"),
            "{}",
            closed.state
        );
        assert_eq!(control(&k, id, "8.13"), Some(100.0));
        assert_eq!(
            k.level_certificates(&auditor, id).unwrap()[0].state,
            "valid"
        );
        assert!(k.list_findings(&auditor, id, true).unwrap().is_empty());
        assert_eq!(k.list_findings(&auditor, id, false).unwrap().len(), 1);

        // Every act is in the trail; the history says why the board moved.
        let trail = k.audit_log(&Principal::local_operator(), None).unwrap();
        for action in [
            "isms.finding.add",
            "isms.finding.respond",
            "isms.finding.done",
            "isms.finding.close",
            "isms.finding",
        ] {
            assert!(trail.iter().any(|e| e.action == action), "{action}");
        }
        // The metrics see the findings.
        let record = k.isms(&auditor, id).unwrap();
        let snapshot = k.isms_snapshot(&record).unwrap();
        assert_eq!(snapshot["findings"][0]["kind"], "major");
    }

    #[test]
    fn two_majors_on_one_control_hold_it_until_both_close_and_a_minor_never_does() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = &ids[0];
        let auditor = Principal::new("aus", ["AuS"]).as_admin();
        let ana = k.principal_for(id, "ana").unwrap();
        yes_to_level_one(&k, id);
        let minor = k
            .add_finding(
                &auditor,
                id,
                NewFinding {
                    kind: FindingKind::Minor,
                    evidence: None,
                    ..major("One backup missed in May")
                },
            )
            .unwrap();
        assert_eq!(minor.id, "F1");
        assert_eq!(control(&k, id, "8.13"), Some(100.0));
        k.add_finding(
            &auditor,
            id,
            NewFinding {
                evidence: None,
                ..major("a")
            },
        )
        .unwrap();
        k.add_finding(
            &auditor,
            id,
            NewFinding {
                evidence: None,
                ..major("b")
            },
        )
        .unwrap();
        let due = k.now_utc().date_naive();
        for f in ["F2", "F3"] {
            k.respond_finding(
                &ana,
                id,
                f,
                Response {
                    action: "fix".into(),
                    owner: "ana".into(),
                    due,
                },
            )
            .unwrap();
        }
        k.close_finding(&auditor, id, "F2", None).unwrap();
        assert_eq!(control(&k, id, "8.13"), Some(0.0), "F3 still holds it");
        k.close_finding(&auditor, id, "F3", None).unwrap();
        assert_eq!(control(&k, id, "8.13"), Some(100.0));
        // A past due date is refused; an overdue action counts on the board.
        let past = due - chrono::Duration::days(1);
        match k.respond_finding(
            &ana,
            id,
            "F1",
            Response {
                action: "fix".into(),
                owner: "ana".into(),
                due: past,
            },
        ) {
            Err(ServiceError::Refused(m)) => assert!(m.contains("in the past"), "{m}"),
            other => panic!("{other:?}"),
        }
        k.respond_finding(
            &ana,
            id,
            "F1",
            Response {
                action: "fix".into(),
                owner: "ana".into(),
                due,
            },
        )
        .unwrap();
        let later =
            Kernel::new(k.store().clone()).with_clock(k.now_utc() + chrono::Duration::days(3));
        let record = later.isms(&auditor, id).unwrap();
        assert_eq!(later.finding_figures(&record).unwrap().overdue, 1);
        assert!(later.list_findings(&auditor, id, true).unwrap()[0]
            .state
            .contains("overdue since"));
    }

    #[test]
    fn the_audit_programme_says_what_is_due_and_the_audits_held() {
        let (k, ids) = msgs_kernel(Store::temporary().unwrap(), &["Taller Gil"]);
        let id = &ids[0];
        let auditor = Principal::new("aus", ["AuS"]).as_admin();
        let programme = k.audit_programme(&auditor, id).unwrap();
        assert_eq!(programme.len(), 2);
        assert!(programme.iter().all(|a| a.last.is_none() && !a.overdue));
        let today = k.now_utc().date_naive();
        match k.record_audit(&auditor, id, "yearly", today, None) {
            Err(ServiceError::NotFound { hint, .. }) => {
                assert!(hint.contains("internal-audit, external-audit"), "{hint}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            k.record_audit(
                &auditor,
                id,
                "internal-audit",
                today + chrono::Duration::days(1),
                None
            ),
            Err(ServiceError::Refused(_))
        ));
        let luis = k.principal_for(id, "luis").unwrap();
        assert!(matches!(
            k.record_audit(&luis, id, "internal-audit", today, None),
            Err(ServiceError::Forbidden(_))
        ));
        let held_on = today - chrono::Duration::days(400);
        k.record_audit(
            &auditor,
            id,
            "internal-audit",
            held_on,
            Some("scope: all".into()),
        )
        .unwrap();
        let programme = k.audit_programme(&auditor, id).unwrap();
        let internal = &programme[0];
        assert_eq!(internal.last, Some(held_on));
        assert_eq!(internal.due, held_on + chrono::Duration::days(365));
        assert!(internal.overdue);
        let record = k.isms(&auditor, id).unwrap();
        let snapshot = k.isms_snapshot(&record).unwrap();
        assert_eq!(snapshot["audits"][0]["audit"], "internal-audit");
    }
}
