//! Procedures (A3.2, DESIGN.md 6.2): instances that move from phase to phase.
//!
//! A move is refused, with its reason, unless it follows the current phase's
//! `next`; the acting user holds one of the target phase's roles; the user
//! holds a valid culture certificate (A3.2 requires A3.1); and the register
//! data matches the artefact's fields. The target phase's action runs on
//! entry; a failing action refuses the move. Required register fields must be
//! filled when the instance reaches a final phase (one without `next`).
//! Closing an instance whose register names a threat, assets and damage
//! raises a suggestion for the risk model.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::access::Principal;
use mmsm_engine::Engine;
use mmsm_model::{
    natural_cmp, ArtefactId, AssetId, Dimension, FieldKind, IsmsId, Period, Phase, PhaseId,
    Procedure, ProcedureId, RoleId, Schema, ThreatId,
};
use mmsm_store::{Batch, Repo, Store};

use super::registers::{missing_required, phase_registers, split_by_register, validate_entry};
use super::suggestions::{incident_changes, Suggestion, SuggestionStatus};
use super::{ActionOutcome, Event, IsmsRecord, Kernel, Result, ServiceError};

/// A procedure instance (stored at `proc/{isms}/{procedure}-{n}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcedureInstance {
    /// `{isms}/{procedure}-{n}`.
    pub id: String,
    /// The ISMS.
    pub isms: IsmsId,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The current phase.
    pub phase: PhaseId,
    /// When it started.
    pub started_at: u64,
    /// Who started it.
    pub started_by: String,
    /// When it reached a final phase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<u64>,
    /// The register data filled so far, per register.
    #[serde(default)]
    pub registers: BTreeMap<ArtefactId, Map<String, Value>>,
    /// Every transition, the start first.
    pub history: Vec<Transition>,
    /// Suggestions it raised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

/// One move of an instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    /// When.
    pub at: u64,
    /// Who moved it.
    pub user: String,
    /// From which phase (none for the start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<PhaseId>,
    /// Into which phase.
    pub to: PhaseId,
    /// The register data given with the move (and filled by the action).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<ArtefactId, Map<String, Value>>,
    /// The action that ran on entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// `proc show --json`: the instance with where it may go and who may move it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceView {
    /// The instance id.
    pub id: String,
    /// The procedure.
    pub procedure: ProcedureId,
    /// The current phase.
    pub phase: PhaseId,
    /// The phases it may move to.
    pub next: Vec<PhaseId>,
    /// The roles of the current phase (who may move an instance into it).
    pub roles: Vec<RoleId>,
    /// Per next phase, the roles that may move the instance there.
    pub paths: Vec<Path>,
    /// Whether it reached a final phase.
    pub closed: bool,
    /// Every transition.
    pub history: Vec<Transition>,
    /// The register data filled so far.
    pub registers: BTreeMap<ArtefactId, Map<String, Value>>,
    /// Suggestions it raised.
    pub suggestions: Vec<String>,
    /// The deadlines its registers started (e.g. 72 hours to notify a
    /// personal-data breach), met or not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clocks: Vec<ClockView>,
}

/// A deadline of an instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockView {
    /// What is due.
    pub name: String,
    /// By when (seconds since the Unix epoch).
    pub due: u64,
    /// Whether it was met (its field is filled).
    pub met: bool,
}

/// A path out of the current phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Path {
    /// The phase.
    pub phase: PhaseId,
    /// Who may move the instance there.
    pub roles: Vec<RoleId>,
}

/// The result of a start or a move.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    /// The instance after the move.
    pub instance: InstanceView,
    /// Suggestions raised by the move.
    pub suggestions: Vec<Suggestion>,
    /// Notes (e.g. why an incident suggested nothing for an asset).
    pub notes: Vec<String>,
}

/// Expected executions of a scheduled procedure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleRow {
    /// The procedure.
    pub procedure: ProcedureId,
    /// Its schedule as written (e.g. `30d`).
    pub schedule: String,
    /// When an execution last completed.
    pub last_done: Option<u64>,
    /// When the next execution is due.
    pub due: u64,
    /// Whether it is overdue.
    pub overdue: bool,
    /// Instances open now.
    pub open: usize,
}

/// The maintenance figures of the board (DESIGN.md 4.5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MaintenanceFigures {
    /// Users with a valid certificate among those who need one, 0..1.
    pub culture_share: Option<f64>,
    /// Users with a valid (or expiring) certificate.
    pub users_certified: usize,
    /// Users whose roles require a certificate.
    pub users_needing: usize,
    /// Procedure instances open.
    pub procedures_open: usize,
    /// Scheduled procedures executed on time.
    pub procedures_on_time: usize,
    /// Scheduled procedures overdue.
    pub procedures_overdue: usize,
    /// Per scheduled procedure.
    pub schedule: Vec<ScheduleRow>,
    /// Open suggestions.
    pub suggestions_open: usize,
    /// Plan items marked done.
    pub plan_done: usize,
    /// Plan items past their due date and not done.
    pub plan_overdue: usize,
    /// Findings not closed, major non-conformities among them, and
    /// corrective actions past their due date.
    pub findings: crate::services::FindingFigures,
    /// Audits of the programme past their due date.
    pub audits_overdue: usize,
}

/// Parses a schedule, a [`Period`] such as `30d`, `12h`, `2w`, `6mo` (months
/// of 30 days) or `1y`, in seconds. `6m` is six minutes.
pub fn parse_schedule(text: &str) -> Option<u64> {
    text.parse::<Period>().ok().map(Period::seconds)
}

fn instance_key(id: &str) -> String {
    format!("proc/{id}")
}

fn view(procedure: &Procedure, instance: &ProcedureInstance) -> InstanceView {
    let phase = procedure.phases.iter().find(|p| p.id == instance.phase);
    let next = phase.map(|p| p.next.clone()).unwrap_or_default();
    InstanceView {
        id: instance.id.clone(),
        procedure: instance.procedure.clone(),
        phase: instance.phase.clone(),
        paths: next
            .iter()
            .map(|n| Path {
                phase: n.clone(),
                roles: procedure
                    .phases
                    .iter()
                    .find(|p| &p.id == n)
                    .map(|p| p.roles.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        next,
        roles: phase.map(|p| p.roles.clone()).unwrap_or_default(),
        closed: instance.closed_at.is_some(),
        history: instance.history.clone(),
        registers: instance.registers.clone(),
        suggestions: instance.suggestions.clone(),
        clocks: procedure
            .clocks
            .iter()
            .filter(|c| field_value(instance, &c.when).is_some_and(|v| c.values.contains(&v)))
            .map(|c| ClockView {
                name: c.name.clone(),
                due: instance.started_at + u64::from(c.hours) * 3600,
                met: field_value(instance, &c.until).is_some(),
            })
            .collect(),
    }
}

/// The value of register field `field` in the instance's data (the first
/// register that has it), as rules compare it: `true`/`false`, numbers and
/// text as written; `None` when empty.
fn field_value(instance: &ProcedureInstance, field: &str) -> Option<String> {
    instance
        .registers
        .values()
        .find_map(|data| data.get(field))
        .and_then(|v| match v {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::Array(a) if a.is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
}

/// The label of register field `field` among `registers`, for messages.
fn field_label(registers: &[&mmsm_model::Artefact], field: &str) -> String {
    registers
        .iter()
        .flat_map(|r| r.fields.iter())
        .find(|f| f.id == field)
        .map_or_else(|| field.to_owned(), |f| format!("{} ({field})", f.label))
}

/// Refuses entering `phase` while a field it requires is empty, or a rule
/// that the registers' values trigger is not met (issue 17.9): e.g. a
/// critical incident cannot close without having passed recovery and
/// lessons learned, nor a personal-data one without the notification decision.
fn check_phase_rules(
    procedure: &Procedure,
    phase: &Phase,
    instance: &ProcedureInstance,
    registers: &[&mmsm_model::Artefact],
) -> Result<()> {
    let passed: Vec<&str> = instance.history.iter().map(|t| t.to.as_str()).collect();
    let mut missing: Vec<String> = phase
        .requires
        .iter()
        .filter(|f| field_value(instance, f).is_none())
        .map(|f| field_label(registers, f))
        .collect();
    let mut unmet = Vec::new();
    for rule in &phase.rules {
        let Some(value) = field_value(instance, &rule.when) else {
            continue;
        };
        if !rule.values.contains(&value) {
            continue;
        }
        for f in &rule.requires {
            let label = field_label(registers, f);
            if field_value(instance, f).is_none() && !missing.contains(&label) {
                missing.push(format!("{label}, since {} is {value}", rule.when));
            }
        }
        let skipped: Vec<String> = rule
            .passed
            .iter()
            .filter(|p| !passed.contains(&p.as_str()))
            .map(|p| {
                procedure
                    .phases
                    .iter()
                    .find(|x| &x.id == p)
                    .map_or_else(|| p.to_string(), |x| format!("{} ({p})", x.name))
            })
            .collect();
        if !skipped.is_empty() {
            unmet.push(format!(
                "with {} {value} it must pass {} first",
                rule.when,
                skipped.join(" and ")
            ));
        }
    }
    if missing.is_empty() && unmet.is_empty() {
        return Ok(());
    }
    let mut why = Vec::new();
    if !missing.is_empty() {
        why.push(format!("fill {}", missing.join("; ")));
    }
    why.extend(unmet);
    Err(ServiceError::Refused(format!(
        "{} cannot enter `{}` ({}): {}",
        instance.id,
        phase.id,
        phase.name,
        why.join("; ")
    )))
}

fn names(ids: &[impl AsRef<str>]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    ids.iter()
        .map(|i| i.as_ref())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A phase action's outcome, run once in the first pass of a move (outside
/// the store's write lock) and used by the second (under it), with the
/// instance (id, number of moves) it ran for.
#[derive(Default)]
struct ActionRun {
    done: Option<((String, usize), std::result::Result<ActionOutcome, String>)>,
}

impl Kernel {
    fn procedure_of<'a>(
        &self,
        schema: &'a Schema,
        record: &IsmsRecord,
        id: &str,
    ) -> Result<&'a Procedure> {
        let procedure = schema.procedures.iter().find(|p| p.id.as_str() == id);
        match procedure {
            Some(p) if record.instantiated.procedures.contains(&p.id) => Ok(p),
            _ => Err(ServiceError::NotFound {
                kind: "procedure",
                id: id.to_owned(),
                hint: format!(
                    " in ISMS {}; its procedures are {}",
                    record.id,
                    names(&record.instantiated.procedures)
                ),
            }),
        }
    }

    /// The ISMS of an instance id (`{isms}/{procedure}-{n}`).
    fn instance_isms(id: &str) -> Result<&str> {
        id.split_once('/').map(|(isms, _)| isms).ok_or_else(|| {
            ServiceError::Refused(format!(
                "`{id}` is not a procedure instance id; expected ISMS/PROCEDURE-N as `mmsm proc list ISMS` shows"
            ))
        })
    }

    /// Starts an instance of `procedure` in its start phase, with the start phase's rules.
    pub fn start_procedure(
        &self,
        principal: &Principal,
        isms: &str,
        procedure: &str,
        data: Option<Map<String, Value>>,
    ) -> Result<Moved> {
        self.in_two_passes(|store, batch, action| {
            self.start_pass(
                store,
                batch,
                principal,
                isms,
                procedure,
                data.clone(),
                action,
            )
        })
    }

    /// Runs a move twice: first outside the store's write lock on a batch that
    /// is thrown away (every check, and the phase's action, a script or plugin
    /// that may be slow), then under the lock with the action's outcome, where
    /// everything is checked again against the fresh state and written.
    fn in_two_passes(
        &self,
        pass: impl Fn(&Store, &mut Batch, &mut ActionRun) -> Result<Moved>,
    ) -> Result<Moved> {
        let mut action = ActionRun::default();
        pass(self.store(), &mut Batch::default(), &mut action)?;
        self.store()
            .write(|store, batch| pass(store, batch, &mut action))
    }

    #[allow(clippy::too_many_arguments)]
    fn start_pass(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        isms: &str,
        procedure: &str,
        data: Option<Map<String, Value>>,
        action: &mut ActionRun,
    ) -> Result<Moved> {
        let record = self.maintained(principal, isms, "start a procedure")?;
        record.ensure_open()?;
        let schema = self.isms_schema(&record)?;
        let procedure = self.procedure_of(&schema, &record, procedure)?;
        let taken = store
            .keys(Repo::Isms, &format!("proc/{}/{}-", record.id, procedure.id))?
            .len();
        let mut instance = ProcedureInstance {
            id: format!("{}/{}-{}", record.id, procedure.id, taken + 1),
            isms: record.id.clone(),
            procedure: procedure.id.clone(),
            phase: procedure.start.clone(),
            started_at: self.now(),
            started_by: principal.user.clone(),
            closed_at: None,
            registers: BTreeMap::new(),
            history: Vec::new(),
            suggestions: Vec::new(),
        };
        let start = procedure.start.clone();
        self.enter(
            store,
            batch,
            principal,
            &record,
            &schema,
            procedure,
            &mut instance,
            None,
            start.as_str(),
            data,
            action,
        )
    }

    /// Moves an instance to `phase`, checking every rule of A3.2.
    pub fn advance_procedure(
        &self,
        principal: &Principal,
        instance: &str,
        phase: &str,
        data: Option<Map<String, Value>>,
    ) -> Result<Moved> {
        self.in_two_passes(|store, batch, action| {
            self.advance_pass(
                store,
                batch,
                principal,
                instance,
                phase,
                data.clone(),
                action,
            )
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn advance_pass(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        instance: &str,
        phase: &str,
        data: Option<Map<String, Value>>,
        action: &mut ActionRun,
    ) -> Result<Moved> {
        let isms = Self::instance_isms(instance)?;
        let record = self.maintained(principal, isms, "move a procedure")?;
        record.ensure_open()?;
        let mut current = self.instance(store, instance)?;
        let schema = self.isms_schema(&record)?;
        let procedure = self.procedure_of(&schema, &record, current.procedure.as_str())?;
        let from = procedure
            .phases
            .iter()
            .find(|p| p.id == current.phase)
            .ok_or_else(|| {
                ServiceError::Refused(format!(
                    "instance {instance} is in phase `{}`, which procedure {} no longer has",
                    current.phase, procedure.id
                ))
            })?;
        if current.closed_at.is_some() {
            return Err(ServiceError::Refused(format!(
                "instance {instance} is closed (phase `{}`); start a new one with `mmsm proc start {isms} {}`",
                current.phase, procedure.id
            )));
        }
        if !from.next.iter().any(|n| n.as_str() == phase) {
            return Err(ServiceError::Refused(format!(
                "instance {instance} cannot move from `{}` to `{phase}`: from `{}` the procedure leads only to {}",
                from.id,
                from.id,
                names(&from.next)
            )));
        }
        let previous = Some(from.id.clone());
        self.enter(
            store,
            batch,
            principal,
            &record,
            &schema,
            procedure,
            &mut current,
            previous,
            phase,
            data,
            action,
        )
    }

    fn instance(&self, store: &Store, id: &str) -> Result<ProcedureInstance> {
        store
            .get::<ProcedureInstance>(Repo::Isms, &instance_key(id))?
            .ok_or_else(|| ServiceError::NotFound {
                kind: "procedure instance",
                id: id.to_owned(),
                hint: "; run `mmsm proc list ISMS` to see the instances".into(),
            })
    }

    /// Moves `instance` into phase `to` (from `from`, none for a start):
    /// checks the roles, the certificate and the data, runs the action, closes
    /// the instance in a final phase, and stores it with its event.
    #[allow(clippy::too_many_arguments)]
    fn enter(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        record: &IsmsRecord,
        schema: &Schema,
        procedure: &Procedure,
        instance: &mut ProcedureInstance,
        from: Option<PhaseId>,
        to: &str,
        data: Option<Map<String, Value>>,
        run: &mut ActionRun,
    ) -> Result<Moved> {
        let Some(phase) = procedure.phases.iter().find(|p| p.id.as_str() == to) else {
            return Err(ServiceError::Refused(format!(
                "procedure {} has no phase `{to}`; its phases are {}",
                procedure.id,
                names(
                    &procedure
                        .phases
                        .iter()
                        .map(|p| p.id.clone())
                        .collect::<Vec<_>>()
                )
            )));
        };
        let user = self.acting_user(principal, record)?;
        if !phase.roles.is_empty() && !phase.roles.iter().any(|r| principal.roles.contains(r)) {
            return Err(ServiceError::Refused(format!(
                "`{user}` may not move {} into `{}`: the phase needs {}, and `{user}` holds {}; the security officer gives roles on the enterprise's Users page (`mmsm isms user roles`)",
                instance.id,
                phase.id,
                super::role_words(schema, phase.roles.iter(), " or "),
                super::role_words(schema, principal.roles.iter(), ", ")
            )));
        }
        let (status, reason) = self.certificate_of(record, schema, &user)?;
        if !status.is_valid() {
            return Err(ServiceError::Refused(format!(
                "`{user}` may not execute procedures: A3.2 requires a valid security-culture certificate, and theirs is {}{}; take the test with `mmsm culture test {} {user}`",
                status.as_str(),
                reason.map(|r| format!(" ({r})")).unwrap_or_default(),
                record.id
            )));
        }
        let registers = phase_registers(schema, &phase.objects);
        let mut given =
            self.checked_data(schema, record, &registers, phase, data.unwrap_or_default())?;
        instance.phase = phase.id.clone();
        merge(&mut instance.registers, &given);
        let mut suggestions = Vec::new();
        if let Some(action) = &phase.action {
            let seen = (instance.id.clone(), instance.history.len());
            let outcome = match run.done.take() {
                Some((before, outcome)) if before == seen => outcome,
                Some(_) => {
                    return Err(ServiceError::Refused(format!(
                        "{} moved while the action `{action}` of phase `{}` ran; nothing was changed: look at it again and repeat the move",
                        instance.id, phase.id
                    )))
                }
                None => {
                    let ctx = action_context(record, &user, self.now());
                    let as_json = serde_json::to_value(&*instance).unwrap_or(Value::Null);
                    let outcome = self.actions.run(action, &ctx, &as_json);
                    run.done = Some((seen, outcome.clone()));
                    outcome
                }
            };
            let outcome = outcome.map_err(|e| {
                ServiceError::Refused(format!(
                    "the action `{action}` of phase `{}` failed, so {} stays in `{}`: {e}",
                    phase.id,
                    instance.id,
                    from.as_ref().map_or("(not started)", |f| f.as_str())
                ))
            })?;
            let filled = self.checked_data(schema, record, &registers, phase, outcome.fields)?;
            merge(&mut instance.registers, &filled);
            merge(&mut given, &filled);
            for event in outcome.events {
                self.record_event(
                    store,
                    batch,
                    &record.id,
                    &Event {
                        at: self.now(),
                        user: user.clone(),
                        kind: "procedure.action".into(),
                        ids: vec![instance.id.clone(), action.clone()],
                        data: event,
                    },
                )?;
            }
            if let Some(draft) = outcome.suggestion {
                let suggestion = self.raise_suggestion(
                    store,
                    batch,
                    principal,
                    Suggestion {
                        id: String::new(),
                        isms: record.id.clone(),
                        created_at: self.now(),
                        source: Some(instance.id.clone()),
                        threat: None,
                        assets: Vec::new(),
                        reason: draft.reason,
                        changes: draft
                            .changes
                            .into_iter()
                            .map(|change| super::suggestions::ProposedChange {
                                change,
                                before: None,
                                after: None,
                                why: format!("proposed by action `{action}`"),
                            })
                            .collect(),
                        status: SuggestionStatus::Open,
                        decided_at: None,
                        decided_by: None,
                        note: None,
                        effect: Vec::new(),
                    },
                )?;
                instance.suggestions.push(suggestion.id.clone());
                suggestions.push(suggestion);
            }
        }
        check_phase_rules(procedure, phase, instance, &registers)?;
        let mut notes = Vec::new();
        if phase.next.is_empty() {
            let missing: Vec<String> = registers
                .iter()
                .flat_map(|r| {
                    missing_required(r, instance.registers.get(&r.id))
                        .into_iter()
                        .map(move |f| format!("{}.{f}", r.id))
                })
                .collect();
            if !missing.is_empty() {
                return Err(ServiceError::Refused(format!(
                    "{} cannot close in `{}`: required register fields are empty: {}; give them with --fields FILE",
                    instance.id,
                    phase.id,
                    missing.join(", ")
                )));
            }
            instance.closed_at = Some(self.now());
            let (raised, why) =
                self.incident_suggestions(store, batch, principal, record, schema, instance)?;
            notes.extend(why);
            instance
                .suggestions
                .extend(raised.iter().map(|s| s.id.clone()));
            suggestions.extend(raised);
        }
        instance.history.push(Transition {
            at: self.now(),
            user: user.clone(),
            from: from.clone(),
            to: phase.id.clone(),
            data: given,
            action: phase.action.clone(),
        });
        batch.put(Repo::Isms, instance_key(&instance.id), &*instance);
        self.record_event(
            store,
            batch,
            &record.id,
            &Event {
                at: self.now(),
                user: user.clone(),
                kind: if from.is_some() {
                    "procedure.advance"
                } else {
                    "procedure.start"
                }
                .into(),
                ids: vec![instance.id.clone()],
                data: serde_json::json!({
                    "procedure": procedure.id,
                    "from": from,
                    "to": phase.id,
                    "closed": instance.closed_at.is_some(),
                }),
            },
        )?;
        super::super::audit(
            batch,
            principal,
            "procedure.move",
            vec![instance.id.clone(), phase.id.to_string()],
        );
        Ok(Moved {
            instance: view(procedure, instance),
            suggestions,
            notes,
        })
    }

    /// The user who acts: a named user of the ISMS (not the local operator).
    fn acting_user(&self, principal: &Principal, record: &IsmsRecord) -> Result<String> {
        if record.users.iter().any(|u| u.id.as_str() == principal.user) {
            return Ok(principal.user.clone());
        }
        Err(ServiceError::Refused(format!(
            "moving a procedure needs a named user of ISMS {}: run the command with --as USER (one of {}), since the move checks that user's roles and culture certificate",
            record.id,
            super::users::user_list(record)
        )))
    }

    fn checked_data(
        &self,
        schema: &Schema,
        record: &IsmsRecord,
        registers: &[&mmsm_model::Artefact],
        phase: &Phase,
        data: Map<String, Value>,
    ) -> Result<BTreeMap<ArtefactId, Map<String, Value>>> {
        let mut problems = Vec::new();
        let mut checked = BTreeMap::new();
        // Attachments name the ISMS's evidence files.
        let files = self
            .evidence_of(record.id.as_str())
            .names()
            .map_err(ServiceError::Refused)?;
        match split_by_register(registers, phase.id.as_str(), &data) {
            Err(p) => problems.extend(p),
            Ok(entries) => {
                for (id, entry) in entries {
                    let register = registers
                        .iter()
                        .find(|r| r.id == id)
                        .expect("split keeps known registers");
                    match validate_entry(schema, record, &files, register, &entry) {
                        Ok(normalised) => {
                            checked.insert(id, normalised);
                        }
                        Err(p) => problems.extend(p),
                    }
                }
            }
        }
        if problems.is_empty() {
            Ok(checked)
        } else {
            Err(ServiceError::Refused(format!(
                "the register data does not match the fields of phase `{}`:\n  {}",
                phase.id,
                problems.join("\n  ")
            )))
        }
    }

    /// Suggestions from a closed instance's registers that name a threat, assets and damage.
    fn incident_suggestions(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        record: &IsmsRecord,
        schema: &Schema,
        instance: &ProcedureInstance,
    ) -> Result<(Vec<Suggestion>, Vec<String>)> {
        let mut raised = Vec::new();
        let mut notes = Vec::new();
        for (register_id, entry) in &instance.registers {
            let Some(register) = schema.artefacts.iter().find(|a| &a.id == register_id) else {
                continue;
            };
            let field_of = |kind: FieldKind| {
                register
                    .fields
                    .iter()
                    .find(|f| f.kind == kind)
                    .and_then(|f| entry.get(&f.id))
            };
            let (Some(threat), Some(assets), Some(damage)) = (
                field_of(FieldKind::Threat).and_then(Value::as_str),
                field_of(FieldKind::Assets).and_then(Value::as_array),
                field_of(FieldKind::Damage).and_then(Value::as_object),
            ) else {
                continue;
            };
            let threat = ThreatId::new(threat);
            let assets: Vec<AssetId> = assets
                .iter()
                .filter_map(Value::as_str)
                .map(AssetId::new)
                .collect();
            let damage: Vec<(Dimension, f64)> = damage
                .iter()
                .filter_map(|(d, v)| Some((Dimension::parse(d)?, v.as_f64()?)))
                .collect();
            let engine = Engine::new(Arc::new(schema.clone()), record.inputs.clone());
            let (changes, why) = incident_changes(&engine, record, &threat, &assets, &damage);
            notes.extend(why);
            if changes.is_empty() {
                notes.push(format!(
                    "the incident of {threat} fits the risk model already: nothing to suggest"
                ));
                continue;
            }
            let suggestion = self.raise_suggestion(
                store,
                batch,
                principal,
                Suggestion {
                    id: String::new(),
                    isms: record.id.clone(),
                    created_at: self.now(),
                    source: Some(instance.id.clone()),
                    threat: Some(threat.clone()),
                    assets: assets.clone(),
                    reason: format!(
                        "incident {} of threat {threat} on {}",
                        instance.id,
                        names(&assets)
                    ),
                    changes,
                    status: SuggestionStatus::Open,
                    decided_at: None,
                    decided_by: None,
                    note: None,
                    effect: Vec::new(),
                },
            )?;
            raised.push(suggestion);
        }
        Ok((raised, notes))
    }

    /// The instances of an ISMS (only the open ones with `open_only`), newest procedure runs last.
    pub fn procedure_instances(
        &self,
        principal: &Principal,
        isms: &str,
        open_only: bool,
    ) -> Result<Vec<InstanceView>> {
        let record = self.maintained(principal, isms, "list procedures")?;
        let schema = self.isms_schema(&record)?;
        let mut instances: Vec<ProcedureInstance> = self
            .store()
            .scan::<ProcedureInstance>(Repo::Isms, &format!("proc/{}/", record.id))?
            .into_iter()
            .map(|(_, i)| i)
            .filter(|i| !open_only || i.closed_at.is_none())
            .collect();
        instances.sort_by(|a, b| natural_cmp(&a.id, &b.id));
        Ok(instances
            .iter()
            .filter_map(|i| {
                let procedure = schema.procedures.iter().find(|p| p.id == i.procedure)?;
                Some(view(procedure, i))
            })
            .collect())
    }

    /// One instance.
    pub fn procedure_instance(&self, principal: &Principal, id: &str) -> Result<InstanceView> {
        let isms = Self::instance_isms(id)?;
        let record = self.maintained(principal, isms, "show a procedure")?;
        let schema = self.isms_schema(&record)?;
        let instance = self.instance(self.store(), id)?;
        let procedure = schema
            .procedures
            .iter()
            .find(|p| p.id == instance.procedure)
            .ok_or_else(|| {
                ServiceError::Refused(format!(
                    "instance {id} belongs to procedure {}, which schema {}@{} no longer has",
                    instance.procedure, record.schema.id, record.schema.version
                ))
            })?;
        Ok(view(procedure, &instance))
    }

    /// On-time and overdue figures of the scheduled procedures: due one period
    /// after the last completed instance (or after the ISMS was generated).
    pub(crate) fn schedule_rows(
        &self,
        record: &IsmsRecord,
        schema: &Schema,
    ) -> Result<Vec<ScheduleRow>> {
        let instances: Vec<ProcedureInstance> = self
            .store()
            .scan::<ProcedureInstance>(Repo::Isms, &format!("proc/{}/", record.id))?
            .into_iter()
            .map(|(_, i)| i)
            .collect();
        let now = self.now();
        Ok(schema
            .procedures
            .iter()
            .filter(|p| record.instantiated.procedures.contains(&p.id))
            .filter_map(|p| {
                let schedule = p.schedule.clone()?;
                let period = parse_schedule(&schedule)?;
                let mine = instances.iter().filter(|i| i.procedure == p.id);
                let last_done = mine.clone().filter_map(|i| i.closed_at).max();
                let due = last_done.unwrap_or(record.created_at) + period;
                Some(ScheduleRow {
                    procedure: p.id.clone(),
                    schedule,
                    last_done,
                    due,
                    overdue: now > due,
                    open: mine.filter(|i| i.closed_at.is_none()).count(),
                })
            })
            .collect())
    }

    /// The maintenance figures of an ISMS's board.
    pub fn maintenance_figures(
        &self,
        principal: &Principal,
        isms: &str,
    ) -> Result<MaintenanceFigures> {
        let record = self.maintained(principal, isms, "read the board")?;
        let schema = self.isms_schema(&record)?;
        let certificates = self.certificates(&record.id)?;
        let (culture_share, users_certified, users_needing) =
            self.culture_share(&schema, &record, &certificates);
        let schedule = self.schedule_rows(&record, &schema)?;
        let procedures_open = self
            .store()
            .scan::<ProcedureInstance>(Repo::Isms, &format!("proc/{}/", record.id))?
            .iter()
            .filter(|(_, i)| i.closed_at.is_none())
            .count();
        let suggestions_open = self
            .store()
            .scan::<Suggestion>(Repo::Isms, &format!("suggestion/{}/", record.id))?
            .iter()
            .filter(|(_, s)| s.status == SuggestionStatus::Open)
            .count();
        let (plan_done, plan_overdue) = self.plan_counts(&record)?;
        Ok(MaintenanceFigures {
            culture_share,
            users_certified,
            users_needing,
            procedures_open,
            procedures_on_time: schedule.iter().filter(|s| !s.overdue).count(),
            procedures_overdue: schedule.iter().filter(|s| s.overdue).count(),
            schedule,
            suggestions_open,
            plan_done,
            plan_overdue,
            findings: self.finding_figures(&record)?,
            audits_overdue: self
                .programme_of(&record)?
                .iter()
                .filter(|a| a.overdue)
                .count(),
        })
    }
}

fn merge(
    into: &mut BTreeMap<ArtefactId, Map<String, Value>>,
    from: &BTreeMap<ArtefactId, Map<String, Value>>,
) {
    for (register, fields) in from {
        let entry = into.entry(register.clone()).or_default();
        for (k, v) in fields {
            entry.insert(k.clone(), v.clone());
        }
    }
}

/// What a phase action sees: the enterprise, its users and assets, who acts, and when.
fn action_context(record: &IsmsRecord, user: &str, now: u64) -> Value {
    serde_json::json!({
        "isms": record.id,
        "enterprise": record.enterprise,
        "users": record.users,
        "assets": record.inputs.assets,
        "user": user,
        "now": now,
    })
}

#[cfg(test)]
mod tests {
    use super::parse_schedule;

    #[test]
    fn schedules_are_periods() {
        assert_eq!(parse_schedule("30d"), Some(30 * 86_400));
        assert_eq!(parse_schedule("6mo"), Some(180 * 86_400));
        assert_eq!(parse_schedule("1y"), Some(365 * 86_400));
        // `m` is minutes, as in schema validation and script declarations.
        assert_eq!(parse_schedule("6m"), Some(360));
        assert_eq!(parse_schedule("0d"), None);
        assert_eq!(parse_schedule("monthly"), None);
    }
}

#[cfg(test)]
mod incident_rules {
    use super::*;
    use serde_json::json;

    /// The base schema's incident procedure and its register.
    fn base() -> Schema {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/base");
        mmsm_schema::load_path(&dir).unwrap().schema
    }

    fn instance(passed: &[&str], data: Value) -> ProcedureInstance {
        ProcedureInstance {
            id: "clinic/incident-management-1".into(),
            isms: IsmsId::new("clinic"),
            procedure: ProcedureId::new("incident-management"),
            phase: PhaseId::new(*passed.last().unwrap()),
            started_at: 1_800_000_000,
            started_by: "luis".into(),
            closed_at: None,
            registers: BTreeMap::from([(
                ArtefactId::new("reg-incidents"),
                data.as_object().unwrap().clone(),
            )]),
            history: passed
                .iter()
                .map(|p| Transition {
                    at: 1_800_000_000,
                    user: "ana".into(),
                    from: None,
                    to: PhaseId::new(*p),
                    data: BTreeMap::new(),
                    action: None,
                })
                .collect(),
            suggestions: Vec::new(),
        }
    }

    fn close(schema: &Schema, instance: &ProcedureInstance) -> std::result::Result<(), String> {
        let procedure = schema
            .procedures
            .iter()
            .find(|p| p.id.as_str() == "incident-management")
            .unwrap();
        let phase = procedure
            .phases
            .iter()
            .find(|p| p.id.as_str() == "close")
            .unwrap();
        let registers = phase_registers(schema, &phase.objects);
        check_phase_rules(procedure, phase, instance, &registers).map_err(|e| e.to_string())
    }

    #[test]
    fn a_critical_incident_cannot_close_from_assess_nor_any_without_its_cause_and_actions() {
        // Issue 17.9: a critical ransomware incident was closed from "assess" in a second.
        let schema = base();
        let done = json!({ "severity": "critical", "root_cause": "phishing mail",
                           "actions": "restored from backup", "closed_on": "2027-01-12" });
        let err = close(&schema, &instance(&["report", "assess"], done.clone())).unwrap_err();
        assert!(
            err.contains("it must pass Recover (recover) and Learn (lessons) first"),
            "{err}"
        );
        close(
            &schema,
            &instance(&["report", "assess", "contain", "recover", "lessons"], done),
        )
        .unwrap();
        let err = close(
            &schema,
            &instance(&["report", "assess"], json!({ "severity": "low" })),
        )
        .unwrap_err();
        assert!(err.contains("fill Root cause (root_cause)"), "{err}");
        assert!(err.contains("Date closed (closed_on)"), "{err}");
    }

    #[test]
    fn a_personal_data_breach_records_its_notification_decision_against_a_72_hour_clock() {
        let schema = base();
        let mut data = json!({ "severity": "low", "personal_data": true, "root_cause": "lost laptop",
                               "actions": "wiped remotely", "closed_on": "2027-01-12" });
        let passed = ["report", "assess"];
        let err = close(&schema, &instance(&passed, data.clone())).unwrap_err();
        assert!(err.contains("since personal_data is true"), "{err}");
        data["notification"] = json!("notified");
        let err = close(&schema, &instance(&passed, data.clone())).unwrap_err();
        assert!(err.contains("notified_on"), "{err}");
        data["notified_on"] = json!("2027-01-11");
        close(&schema, &instance(&passed, data.clone())).unwrap();

        let procedure = schema
            .procedures
            .iter()
            .find(|p| p.id.as_str() == "incident-management")
            .unwrap();
        let open = instance(&passed, json!({ "personal_data": true }));
        let clocks = view(procedure, &open).clocks;
        assert_eq!(clocks.len(), 1);
        assert_eq!(clocks[0].due, 1_800_000_000 + 72 * 3600);
        assert!(!clocks[0].met);
        assert!(view(procedure, &instance(&passed, data)).clocks[0].met);
        let none = instance(&passed, json!({ "personal_data": false }));
        assert!(view(procedure, &none).clocks.is_empty());
    }
}
