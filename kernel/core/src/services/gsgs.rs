//! GSGS: the generation zone. From an enterprise profile and a schema, the
//! enterprise's ISMS: maturity, risks, plan, board, and the instantiated
//! regulations, artefacts, procedures, metrics and users, stored in one
//! transaction. Then incremental updates of answers and asset values.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::access::Principal;
use mmsm_engine::{Board, Change, Delta, Engine, Inputs};
use mmsm_model::*;
use mmsm_schema::profiles;
use mmsm_store::{Batch, Repo, Store};

use super::listing::{put_answer, put_isms, summary_revision, IsmsSummary};
use super::stored;
use super::{audit, Kernel, Result, ServiceError};

/// The schema an ISMS was generated from, and why it was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaChoice {
    /// The schema id.
    pub id: SchemaId,
    /// Its version.
    pub version: u32,
    /// Why this schema.
    pub reason: String,
}

/// What the schema's matrices link to the applicable controls (A2.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Instantiated {
    /// Regulations in force for the enterprise.
    pub regulations: Vec<RegulationId>,
    /// Templates, registers and instructions.
    pub artefacts: Vec<ArtefactId>,
    /// Procedures the users execute.
    pub procedures: Vec<ProcedureId>,
    /// Metrics that keep the board current.
    pub metrics: Vec<MetricId>,
}

/// An enterprise's ISMS, whole: what the services and the API hold (stored
/// in parts, in a layout of its own: [`super::stored`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsmsRecord {
    /// The ISMS id.
    pub id: IsmsId,
    /// The enterprise.
    pub enterprise: Enterprise,
    /// The schema version it was generated from.
    pub schema: SchemaChoice,
    /// The speaker (Int).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<Speaker>,
    /// The organisation chart.
    #[serde(default)]
    pub departments: Vec<Department>,
    /// The users and their roles.
    #[serde(default)]
    pub users: Vec<User>,
    /// The engine's inputs: answers, measured values, assets, accepted changes.
    pub inputs: Inputs,
    /// The regulations, artefacts, procedures and metrics of this ISMS.
    pub instantiated: Instantiated,
    /// When it was generated (seconds since the Unix epoch).
    pub created_at: u64,
    /// Who generated it.
    pub created_by: String,
    /// The board as last computed (the current computed state), shared with
    /// the result of the change that computed it.
    pub board: std::sync::Arc<Board>,
    /// Changes on every write of the record ([`super::listing`]): the key of
    /// the kernel's cache of live engines.
    #[serde(default)]
    pub revision: u64,
    /// Set while the ISMS is archived: read only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<Archived>,
}

/// When and by whom an ISMS was archived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Archived {
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// The administrator.
    pub by: String,
}

impl IsmsRecord {
    /// Refuses a change to an archived ISMS, saying who archived it, when,
    /// and how to take it out of the archive.
    pub(crate) fn ensure_open(&self) -> Result<()> {
        match &self.archived {
            None => Ok(()),
            Some(a) => Err(ServiceError::Refused(format!(
                "{} ({}) is archived, read only, since {} by {}: an administrator takes it out with `mmsm isms unarchive {}`",
                self.enterprise.name,
                self.id,
                chrono::DateTime::from_timestamp(a.at as i64, 0)
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                a.by,
                self.id
            ))),
        }
    }
}

/// One line of `isms list`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IsmsListing {
    /// The id.
    pub id: IsmsId,
    /// The enterprise's name.
    pub name: String,
    /// Its sector.
    pub sector: SectorId,
    /// The schema and version.
    pub schema: String,
    /// ISMS compliance, 0..100.
    pub compliance: Option<f64>,
    /// Current maturity level.
    pub current: u8,
    /// Target maturity level.
    pub target: u8,
}

/// What `isms generate --json` prints (DESIGN.md 5 / issue 5).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Generated {
    /// The new ISMS id.
    pub id: IsmsId,
    /// The schema chosen and why.
    pub schema: SchemaChoice,
    /// The first board.
    pub board: Board,
}

/// A change of the board and its cause, as recorded in the information repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEvent {
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// Who made the change.
    pub user: String,
    /// What caused it: `generate`, `answer`, `asset`, `metric`...
    pub cause: String,
    /// The input change (none for a generation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// The derived values that changed.
    pub deltas: Vec<Delta>,
    /// What the event concerns beyond its deltas, as `kind:id` (e.g. `control:8.13`,
    /// `suggestion:s1`, `certificate:luis`, `plan:8.13@2`), for filters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// A sentence for people (e.g. "accepted suggestion s1 from incident ...").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The result of an incremental update.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Updated {
    /// The ISMS.
    pub isms: IsmsId,
    /// The input change.
    pub change: Change,
    /// The derived values that changed.
    pub changed: Vec<Delta>,
    /// The board after the change (the live record's, shared).
    pub board: std::sync::Arc<Board>,
    /// What else the change did, in words (the questions a business answer made not
    /// applicable, the documents that entered or left force).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Kernel {
    /// Chooses the schema for a profile (DESIGN.md 5): explicit (`--schema`,
    /// then the profile's `schema:`), else the schema whose sector matches and
    /// whose size class holds the enterprise, else `base`.
    pub fn choose_schema(&self, profile: &Profile, explicit: Option<&str>) -> Result<SchemaChoice> {
        let pick = |id: &str, reason: String| -> Result<SchemaChoice> {
            let version = match self.store().schema_versions(id)?.last() {
                Some(v) => *v,
                None => {
                    self.schema(&Principal::system(), id, None)?
                        .schema
                        .schema
                        .version
                }
            };
            Ok(SchemaChoice {
                id: SchemaId::new(id),
                version,
                reason,
            })
        };
        if let Some(id) = explicit {
            return pick(
                id,
                format!("chosen by the consultant when generating (schema {id})"),
            );
        }
        if let Some(id) = &profile.schema {
            return pick(id.as_str(), format!("named in the profile (schema: {id})"));
        }
        let e = &profile.enterprise;
        // A schema made for the sector wins over one made for every sector
        // (`"*"`); among equals, the first id.
        let mut best: Option<(bool, SchemaChoice)> = None;
        for id in self.store().schema_ids()? {
            let Some(latest) = self.store().schema_versions(&id)?.last().copied() else {
                continue;
            };
            let index = self.schema_index(&Principal::system(), &id, latest)?;
            let schema = index.schema();
            let header = &schema.schema;
            let sectors = &header.applies_to.sectors;
            let named = sectors.contains(&e.sector);
            if !named && !sectors.iter().any(|s| s.as_str() == "*") {
                continue;
            }
            if best.as_ref().is_some_and(|(b, _)| *b || !named) {
                continue;
            }
            let Some(size) = schema.size_class(e.employees, e.turnover_eur) else {
                continue;
            };
            let sizes = &header.applies_to.sizes;
            if sizes.is_empty() || sizes.contains(&size.id) {
                let made_for = if named {
                    format!("sector `{}`", e.sector)
                } else {
                    format!(
                        "every sector (no schema is made for sector `{}` alone)",
                        e.sector
                    )
                };
                let reason = format!(
                    "made for {made_for} and size `{}`, which holds {} employees{}",
                    size.id,
                    e.employees,
                    e.turnover_eur
                        .map(|t| format!(" and a turnover of {t} EUR"))
                        .unwrap_or_default()
                );
                let choice = SchemaChoice {
                    id: SchemaId::new(id),
                    version: header.version,
                    reason,
                };
                best = Some((named, choice));
            }
        }
        if let Some((_, choice)) = best {
            return Ok(choice);
        }
        pick(
            "base",
            format!(
                "no schema is made for sector `{}` at this size: the base schema EB",
                e.sector
            ),
        )
    }

    /// Generates an ISMS from the profile at `path` (YAML or JSON).
    pub fn generate_isms_file(
        &self,
        principal: &Principal,
        path: &Path,
        explicit_schema: Option<&str>,
    ) -> Result<Generated> {
        principal.require(Zone::Generation, "generate an ISMS")?;
        let profile = profiles::read_profile(path).map_err(ServiceError::Invalid)?;
        self.generate_isms(principal, profile, Some(path), explicit_schema)
    }

    /// Generates an ISMS from a profile, in one transaction: the enterprise,
    /// speaker, departments, users, answers, assets, the engine's inputs, the
    /// instantiated artefacts, and the first board snapshot and history event.
    pub fn generate_isms(
        &self,
        principal: &Principal,
        profile: Profile,
        file: Option<&Path>,
        explicit_schema: Option<&str>,
    ) -> Result<Generated> {
        principal.require(Zone::Generation, "generate an ISMS")?;
        let choice = self.choose_schema(&profile, explicit_schema)?;
        let index = self.schema_index(principal, choice.id.as_str(), choice.version)?;
        let schema = index.schema().clone();
        let problems = profiles::validate_profile(&profile, &schema, file);
        if !problems.is_empty() {
            return Err(ServiceError::Invalid(problems));
        }
        // The business checklist decides what does not apply (issue 16): its
        // rules answer the controls' questions na, with their justification.
        let mut answers = profile.answers.clone();
        let excluded = business_exclusions(&schema, &profile.business_checklist);
        for (subcontrol, _) in &excluded {
            answers.insert(subcontrol.clone(), mmsm_model::Answer::Na);
        }
        let inputs = Inputs {
            answers,
            assets: profile.assets.clone(),
            target_level: profile.target_level,
            employees: Some(profile.enterprise.employees),
            turnover_eur: profile.enterprise.turnover_eur,
            business: profile.business_checklist.clone(),
            ..Inputs::default()
        };
        let engine = Engine::with_index(index, inputs);
        let instantiated = instantiate(&schema, &engine.board());
        let now = self.now();
        let nanos = self.now_nanos();
        self.store().write(|store, batch| {
            let id = unique_id(&profile.enterprise.name, store)?;
            if !store.any(Repo::Isms, "isms/")? {
                // The first ISMS of a store: the summary index starts complete.
                super::listing::mark_indexed(batch);
            }
            let mut board = engine.board();
            board.isms = id.to_string();
            let mut record = IsmsRecord {
                id: id.clone(),
                enterprise: profile.enterprise.clone(),
                schema: choice.clone(),
                speaker: profile.speaker.clone(),
                departments: profile.departments.clone(),
                users: profile.users.clone(),
                inputs: engine.inputs(),
                instantiated: instantiated.clone(),
                created_at: now,
                created_by: principal.user.clone(),
                board: board.clone().into(),
                revision: 0,
                archived: None,
            };
            put_isms(batch, &mut record, now);
            for (subcontrol, why) in &excluded {
                super::answer_notes::put_justification(
                    batch,
                    id.as_str(),
                    subcontrol.as_str(),
                    why,
                    &principal.user,
                    now,
                );
            }
            record_history(
                store,
                batch,
                &id,
                nanos,
                &HistoryEvent {
                    at: now,
                    user: principal.user.clone(),
                    cause: "generate".into(),
                    change: None,
                    deltas: Vec::new(),
                    refs: Vec::new(),
                    note: None,
                },
                &board,
            )?;
            audit(
                batch,
                principal,
                "isms.generate",
                vec![id.to_string(), format!("{}@{}", choice.id, choice.version)],
            );
            Ok(Generated {
                id,
                schema: choice.clone(),
                board,
            })
        })
    }

    /// One ISMS as stored.
    pub fn isms(&self, principal: &Principal, id: &str) -> Result<IsmsRecord> {
        Ok(self.isms_read(principal, id)?.record)
    }

    /// One ISMS as stored, and whether its stored layout is current. When
    /// the kernel keeps the record at the stored revision (one small read of
    /// the summary row), that copy is the answer: a read then costs one
    /// round trip to the store instead of one per part.
    pub(crate) fn isms_read(&self, principal: &Principal, id: &str) -> Result<stored::Read> {
        let store = self.store();
        if let Some(revision) = summary_revision(store, id)? {
            if let Some(record) = self.kept_record(id, revision) {
                if self.may_see(principal, &record) {
                    return Ok(stored::Read {
                        record,
                        current_format: true,
                    });
                }
            }
        }
        let read = stored::read(
            store,
            id,
            || summary_revision(store, id),
            |parts| self.derived_board(parts),
        )?;
        if let Some(r) = read.as_ref().filter(|r| r.current_format) {
            self.remember_record(&r.record);
        }
        match read {
            Some(r) if self.may_see(principal, &r.record) => Ok(r),
            _ => {
                let any = self.store().any(Repo::Isms, "isms/")?;
                Err(ServiceError::NotFound {
                    kind: "ISMS",
                    id: id.to_owned(),
                    hint: if !any {
                        "; no ISMS yet: generate one with `mmsm isms generate PROFILE`".into()
                    } else {
                        "; run `mmsm isms list` to see the ISMSs".into()
                    },
                })
            }
        }
    }

    /// The engine of an ISMS: a copy of the live one the kernel keeps, or
    /// built from its schema version and inputs.
    pub fn isms_engine(&self, principal: &Principal, id: &str) -> Result<(IsmsRecord, Engine)> {
        let record = self.isms(principal, id)?;
        let engine = self.engine_copy(&record)?;
        Ok((record, engine))
    }

    /// Applies one input change through the engine, incrementally, and stores
    /// the new inputs, the board, and the change with its effects as history,
    /// in one transaction.
    pub fn update_isms(
        &self,
        principal: &Principal,
        id: &str,
        change: Change,
        cause: &str,
    ) -> Result<Updated> {
        principal
            .require(Zone::Maintenance, "change an ISMS's answers or assets")
            .or_else(|_| {
                principal.require(Zone::Generation, "change an ISMS's answers or assets")
            })?;
        if let Change::Cap { control, .. } = &change {
            return Err(ServiceError::Refused(format!(
                "control {control} is held down only by an open major non-conformity: record or close a finding (`mmsm finding`) instead"
            )));
        }
        if let Change::AssetValue { asset } = &change {
            mmsm_schema::check_id("asset", asset.id.as_str()).map_err(ServiceError::Refused)?;
            mmsm_model::check_length("the asset's name", &asset.name, mmsm_model::MAX_NAME)
                .map_err(ServiceError::Refused)?;
        }
        let now = self.now();
        let nanos = self.now_nanos();
        self.store().write(|store, batch| {
            self.apply_change_in(store, batch, principal, id, change, cause, (now, nanos))
        })
    }

    /// Applies `change` to ISMS `id` inside a write the caller holds, as
    /// [`Kernel::update_isms`] does: the engine's incremental update, the
    /// record, the audit entry (`isms.{cause}`) and the history event. The
    /// caller checks the principal's rights; nothing fallible may follow it
    /// in the caller's write (the live engine is kept for the new revision).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_change_in(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        id: &str,
        change: Change,
        cause: &str,
        time: (u64, u128),
    ) -> Result<Updated> {
        let changes = Changes {
            main: change,
            follow: Vec::new(),
            note: None,
        };
        self.apply_changes_in(store, batch, principal, id, changes, cause, time)
    }

    /// [`Kernel::apply_change_in`] for a change that brings others with it (a
    /// business answer and the questions it makes not applicable): all applied
    /// to the live engine, one record, one audit entry and one history event
    /// whose deltas run from before the first change to after the last.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn apply_changes_in(
        &self,
        store: &Store,
        batch: &mut Batch,
        principal: &Principal,
        id: &str,
        changes: Changes,
        cause: &str,
        (now, nanos): (u64, u128),
    ) -> Result<Updated> {
        let (mut record, mut engine, current_format) = self.take_live(principal, id)?;
        record.ensure_open()?;
        let Changes { main, follow, note } = changes;
        let single = follow.is_empty();
        let before = record.board.compliance;
        let mut deltas: Vec<Delta> = Vec::new();
        for change in std::iter::once(&main).chain(&follow) {
            if let Change::AssetValue { asset } = change {
                check_asset_links(&engine.inputs().assets, asset)?;
            }
            if let Change::Answer {
                subcontrol,
                answer: Some(Answer::Na),
            } = change
            {
                check_may_exclude(engine.schema(), subcontrol)?;
            }
            let applied = engine
                .apply(change.clone())
                .map_err(|e| ServiceError::Refused(e.to_string()))?
                .to_vec();
            merge_deltas(&mut deltas, applied);
        }
        let mut board = engine.board();
        board.isms = record.id.to_string();
        match &main {
            // The hot path: one answer changes one entry of the inputs
            // (the engine refused it above if the subcontrol is unknown).
            Change::Answer { subcontrol, answer } if single => match answer {
                Some(answer) => {
                    record.inputs.answers.insert(subcontrol.clone(), *answer);
                }
                None => {
                    record.inputs.answers.remove(subcontrol);
                }
            },
            _ => record.inputs = engine.inputs(),
        }
        let after = board.compliance;
        record.board = board.into();
        // The pack in force follows the controls that apply, in this transaction.
        let in_force = if moves_applicability(&deltas) {
            refresh_in_force(&engine.schema().clone(), &mut record)
        } else {
            None
        };
        match &main {
            Change::Answer { subcontrol, .. } if single && current_format && in_force.is_none() => {
                put_answer(batch, &mut record, subcontrol, now)
            }
            _ => put_isms(batch, &mut record, now),
        }
        super::audit_detail(
            batch,
            principal,
            &format!("isms.{cause}"),
            vec![record.id.to_string()],
            Some(serde_json::json!({
                "change": main,
                "with": follow,
                "compliance": { "before": before, "after": after },
            })),
        );
        // A business answer is kept in the history even when no board value moves:
        // it decides obligations and what applies.
        let always = !single || matches!(main, Change::Business { .. });
        let note = match (note, in_force) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        let event = HistoryEvent {
            at: now,
            user: principal.user.clone(),
            cause: cause.to_owned(),
            change: Some(main),
            deltas,
            refs: Vec::new(),
            note,
        };
        if always || !event.deltas.is_empty() {
            record_history(store, batch, &record.id, nanos, &event, &record.board)?;
        }
        let updated = Updated {
            isms: record.id.clone(),
            change: event.change.expect("set above"),
            changed: event.deltas,
            board: record.board.clone(),
            note: event.note,
        };
        self.keep_live(record, engine);
        Ok(updated)
    }

    /// The history of an ISMS's board, oldest first.
    pub fn isms_history(&self, principal: &Principal, id: &str) -> Result<Vec<HistoryEvent>> {
        let record = self.isms(principal, id)?;
        let events: Vec<(String, super::history_form::StoredEvent)> = self
            .store()
            .scan(Repo::Info, &format!("history/{}/", record.id))?;
        Ok(events.into_iter().map(|(_, e)| e.into()).collect())
    }
}

impl Kernel {
    /// Whether `principal` may see the ISMS `record` (DESIGN.md 8, issue 8):
    /// an administrator sees every ISMS; an enterprise user only its own; a
    /// consultancy user those it generated or was assigned to; a principal
    /// without account (`--as NAME`) the ISMSs that list it as a user.
    pub(super) fn may_see(&self, principal: &Principal, record: &IsmsRecord) -> bool {
        self.sees(
            principal,
            &record.id,
            &record.created_by,
            record.users.iter().map(|u| &u.id),
        )
    }

    /// [`Kernel::may_see`] for a row of the summary index.
    pub(super) fn may_see_summary(&self, principal: &Principal, row: &IsmsSummary) -> bool {
        self.sees(principal, &row.id, &row.created_by, row.users.iter())
    }

    fn sees<'a>(
        &self,
        principal: &Principal,
        id: &IsmsId,
        created_by: &str,
        mut users: impl Iterator<Item = &'a UserId>,
    ) -> bool {
        if principal.admin {
            return true;
        }
        if let Some(own) = &principal.enterprise {
            return own == id.as_str();
        }
        if principal.is_consultancy() {
            return created_by == principal.user
                || matches!(
                    self.store().get::<bool>(
                        Repo::Isms,
                        &super::accounts::assign_key(&principal.user, id.as_str())
                    ),
                    Ok(Some(true))
                );
        }
        users.any(|u| u.as_str() == principal.user)
    }
}

/// Records a history event and the board after it, under one fresh time key.
pub(crate) fn record_history(
    store: &mmsm_store::Store,
    batch: &mut mmsm_store::Batch,
    id: &IsmsId,
    nanos: u128,
    event: &HistoryEvent,
    board: &Board,
) -> Result<()> {
    let key = super::fresh_key(store, batch, Repo::Info, &format!("history/{id}/"), nanos)?;
    let stamp = key.rsplit('/').next().unwrap_or_default().to_owned();
    batch.put(
        Repo::Info,
        &key,
        &super::history_form::StoredEventRef::of(event),
    );
    batch.put(
        Repo::Info,
        format!("board/{id}/{stamp}"),
        &super::msgs::BoardPoint::of(board),
    );
    Ok(())
}

/// A readable id from the enterprise's name, unique in the store.
/// The id an enterprise's name gives its first ISMS: "Clínica Sonrisa" ->
/// `clinica-sonrisa` (letters keep their meaning without their accents).
fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in deunicode::deunicode(name).to_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "isms".to_owned()
    } else {
        slug.to_owned()
    }
}

impl Kernel {
    /// The id of an ISMS the principal sees whose enterprise has the name
    /// `name` (the same letters, case and accents aside), if there is one:
    /// what a form asks to confirm before it makes another. One key read,
    /// whatever the number of ISMSs.
    pub fn enterprise_named(&self, principal: &Principal, name: &str) -> Result<Option<String>> {
        let slug = slug_of(name);
        match self.isms(principal, &slug) {
            Ok(record) if slug_of(&record.enterprise.name) == slug => Ok(Some(slug)),
            Ok(_) | Err(ServiceError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn unique_id(name: &str, store: &mmsm_store::Store) -> Result<IsmsId> {
    let slug = slug_of(name);
    let slug = slug.as_str();
    let taken: std::collections::HashSet<String> = store
        .keys(Repo::Isms, &stored::head_key(slug))?
        .into_iter()
        .filter_map(|k| k.strip_prefix("isms/").map(str::to_owned))
        .collect();
    if !taken.contains(slug) {
        return Ok(IsmsId::new(slug));
    }
    let n = (2..)
        .find(|n| !taken.contains(&format!("{slug}-{n}")))
        .unwrap_or(2);
    Ok(IsmsId::new(format!("{slug}-{n}")))
}

/// The questions the business checklist's answers make not applicable, each
/// with its justification ("the business checklist answers own_software: no:
/// no in-house development").
pub fn business_exclusions(
    schema: &Schema,
    business: &std::collections::BTreeMap<mmsm_model::BusinessQuestionId, mmsm_model::Scalar>,
) -> Vec<(mmsm_model::SubControlId, String)> {
    let mut excluded = Vec::new();
    for question in &schema.business_checklist {
        let Some(answer) = business.get(&question.id) else {
            continue;
        };
        for rule in question
            .not_applicable
            .iter()
            .filter(|r| answer.matches(&r.equals))
        {
            for control in schema
                .controls
                .iter()
                .filter(|c| rule.controls.contains(&c.id))
            {
                for sub in &control.subcontrols {
                    excluded.push((
                        sub.id.clone(),
                        format!(
                            "the business checklist answers {}: {}: {}",
                            question.id,
                            answer.words(),
                            rule.justification
                        ),
                    ));
                }
            }
        }
    }
    excluded
}

/// Whether `deltas` move a control in or out of applicability: only then can
/// the documents, procedures and metrics in force change.
pub fn moves_applicability(deltas: &[mmsm_engine::Delta]) -> bool {
    deltas.iter().any(|d| {
        matches!(d.subject, mmsm_engine::Subject::Control(_))
            && d.before.is_some() != d.after.is_some()
    })
}

/// Recomputes what is in force for `record` from its board (issue 14: the
/// pack in force is live). Returns, in words, what entered and left force,
/// or `None` when nothing moved.
pub fn refresh_in_force(schema: &Schema, record: &mut IsmsRecord) -> Option<String> {
    let now = instantiate(schema, &record.board);
    if now == record.instantiated {
        return None;
    }
    let before = &record.instantiated;
    let name_of = |kind: &str, id: &str| -> String {
        let name = match kind {
            "regulation" => schema
                .regulations
                .iter()
                .find(|r| r.id.as_str() == id)
                .map(|r| r.name.clone()),
            "procedure" => schema
                .procedures
                .iter()
                .find(|p| p.id.as_str() == id)
                .map(|p| p.name.clone()),
            "metric" => schema
                .metrics
                .iter()
                .find(|m| m.id.as_str() == id)
                .map(|m| m.name.clone()),
            _ => schema
                .artefacts
                .iter()
                .find(|a| a.id.as_str() == id)
                .map(|a| a.name.clone()),
        };
        format!("{kind} {} ({id})", name.unwrap_or_else(|| id.to_owned()))
    };
    let mut entered = Vec::new();
    let mut left = Vec::new();
    let mut compare = |kind: &str, old: Vec<String>, new: Vec<String>| {
        for id in new.iter().filter(|id| !old.contains(id)) {
            entered.push(name_of(kind, id));
        }
        for id in old.iter().filter(|id| !new.contains(id)) {
            left.push(name_of(kind, id));
        }
    };
    compare(
        "regulation",
        before.regulations.iter().map(|r| r.to_string()).collect(),
        now.regulations.iter().map(|r| r.to_string()).collect(),
    );
    compare(
        "document",
        before.artefacts.iter().map(|a| a.to_string()).collect(),
        now.artefacts.iter().map(|a| a.to_string()).collect(),
    );
    compare(
        "procedure",
        before.procedures.iter().map(|p| p.to_string()).collect(),
        now.procedures.iter().map(|p| p.to_string()).collect(),
    );
    compare(
        "metric",
        before.metrics.iter().map(|m| m.to_string()).collect(),
        now.metrics.iter().map(|m| m.to_string()).collect(),
    );
    record.instantiated = now;
    let mut words = Vec::new();
    if !entered.is_empty() {
        words.push(format!("in force now: {}", entered.join(", ")));
    }
    if !left.is_empty() {
        words.push(format!("no longer in force: {}", left.join(", ")));
    }
    Some(words.join("; "))
}

/// The regulations, artefacts, procedures and metrics linked to the
/// applicable controls through the schema's matrices (A2.4).
pub fn instantiate(schema: &Schema, board: &Board) -> Instantiated {
    let applicable: BTreeSet<&str> = board
        .controls
        .iter()
        .filter(|c| c.compliance.is_some())
        .map(|c| c.id.as_str())
        .collect();
    let m = &schema.matrices;
    let regulations: BTreeSet<&RegulationId> = m
        .regulation_control
        .iter()
        .filter(|r| applicable.contains(r.control.as_str()))
        .map(|r| &r.regulation)
        .collect();
    let procedures: BTreeSet<&ProcedureId> = schema
        .procedures
        .iter()
        .filter(|p| {
            p.controls.is_empty() || p.controls.iter().any(|c| applicable.contains(c.as_str()))
        })
        .map(|p| &p.id)
        .collect();
    let mut artefacts: BTreeSet<&ArtefactId> = m
        .artefact_control
        .iter()
        .filter(|r| applicable.contains(r.control.as_str()))
        .map(|r| &r.artefact)
        .collect();
    artefacts.extend(
        m.regulation_artefact
            .iter()
            .filter(|r| regulations.contains(&r.regulation))
            .map(|r| &r.artefact),
    );
    artefacts.extend(
        m.procedure_artefact
            .iter()
            .filter(|r| procedures.contains(&r.procedure))
            .map(|r| &r.artefact),
    );
    let applicable_subcontrols: BTreeSet<&str> = schema
        .subcontrols()
        .filter(|(c, _)| applicable.contains(c.id.as_str()))
        .map(|(_, s)| s.id.as_str())
        .collect();
    let metrics = schema
        .metrics
        .iter()
        .filter(|metric| {
            // An indicator (bound to no question) is always in force.
            metric.subcontrols.is_empty()
                || metric
                    .subcontrols
                    .iter()
                    .any(|s| applicable_subcontrols.contains(s.as_str()))
        })
        .map(|metric| metric.id.clone())
        .collect();
    let ordered = |ids: Vec<String>| {
        let mut ids = ids;
        ids.sort_by(|a, b| natural_cmp(a, b));
        ids
    };
    Instantiated {
        regulations: ordered(regulations.iter().map(|r| r.to_string()).collect())
            .into_iter()
            .map(RegulationId::new)
            .collect(),
        artefacts: ordered(artefacts.iter().map(|a| a.to_string()).collect())
            .into_iter()
            .map(ArtefactId::new)
            .collect(),
        procedures: ordered(procedures.iter().map(|p| p.to_string()).collect())
            .into_iter()
            .map(ProcedureId::new)
            .collect(),
        metrics,
    }
}

/// A change and the changes it brings with it, applied as one (see
/// [`Kernel::apply_changes_in`]), with a note for the history.
pub(crate) struct Changes {
    pub(crate) main: Change,
    pub(crate) follow: Vec<Change>,
    pub(crate) note: Option<String>,
}

/// Adds the deltas of a later change to those of the earlier ones: a subject keeps
/// its first `before` and takes the last `after`; one back where it started is dropped.
fn merge_deltas(into: &mut Vec<Delta>, later: Vec<Delta>) {
    use std::collections::hash_map::{Entry, HashMap};
    into.extend(later);
    // Each subject's first entry, found by hashing borrowed subjects: a change
    // re-values hundreds of values on a large schema, and a search of the list
    // for each was most of an answer's time.
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut first: HashMap<&mmsm_engine::Subject, usize> = HashMap::with_capacity(into.len());
    for (i, delta) in into.iter().enumerate() {
        match first.entry(&delta.subject) {
            Entry::Occupied(at) => repeats.push((*at.get(), i)),
            Entry::Vacant(at) => {
                at.insert(i);
            }
        }
    }
    drop(first);
    if !repeats.is_empty() {
        let mut repeated = vec![false; into.len()];
        for (first, later) in repeats {
            into[first].after = into[later].after;
            repeated[later] = true;
        }
        let mut index = 0;
        into.retain(|_| {
            index += 1;
            !repeated[index - 1]
        });
    }
    into.retain(|d| match (d.before, d.after) {
        (Some(b), Some(a)) => (b - a).abs() > 1e-12,
        (None, None) => false,
        _ => true,
    });
}

/// A question of the management system's own requirements (ISO/IEC 27001 clauses
/// 4-10) cannot be answered not applicable.
fn check_may_exclude(schema: &Schema, subcontrol: &SubControlId) -> Result<()> {
    match schema.subcontrols().find(|(_, s)| &s.id == subcontrol) {
        Some((control, _)) if schema.is_requirement(control) => Err(ServiceError::Refused(format!(
            "{subcontrol} belongs to {} {}, a requirement of the management system that every certified enterprise meets: it cannot be not applicable; answer yes, partial, no or unknown",
            control.id, control.title
        ))),
        _ => Ok(()),
    }
}

/// An asset's members and dependencies name other assets of the ISMS, and its
/// dependencies do not come back to it.
fn check_asset_links(assets: &[mmsm_model::Asset], asset: &mmsm_model::Asset) -> Result<()> {
    let known = |id: &mmsm_model::AssetId| id != &asset.id && assets.iter().any(|a| &a.id == id);
    let names = || {
        assets
            .iter()
            .filter(|a| a.id != asset.id)
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(m) = asset.members.iter().find(|m| !known(m)) {
        return Err(ServiceError::Refused(format!(
            "asset {}: `{m}` is not another asset of this ISMS, so it cannot be a member; its assets are {}",
            asset.id,
            names()
        )));
    }
    if let Some(d) = asset.depends_on.iter().find(|d| !known(d)) {
        return Err(ServiceError::Refused(format!(
            "asset {}: `{d}` is not another asset of this ISMS, so it cannot rest on it; its assets are {}",
            asset.id,
            names()
        )));
    }
    let mut after: Vec<mmsm_model::Asset> = assets
        .iter()
        .filter(|a| a.id != asset.id)
        .cloned()
        .collect();
    after.push(asset.clone());
    if let Some(cycle) = mmsm_model::dependency_cycle(&after) {
        return Err(ServiceError::Refused(format!(
            "asset {}: the dependencies would go round in a circle ({}); an asset cannot rest on what rests on it",
            asset.id,
            cycle.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" -> ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::unique_id;

    #[test]
    fn ids_keep_the_letters_of_accented_names() {
        // Issue 17: "Clínica" became `cl-nica-...`.
        let store = mmsm_store::Store::temporary().unwrap();
        for (name, id) in [
            ("Clínica Dental Sonrisa", "clinica-dental-sonrisa"),
            ("Ferretería Núñez & Hijos", "ferreteria-nunez-hijos"),
            ("Ærø Øl", "aero-ol"),
            ("???", "isms"),
        ] {
            assert_eq!(unique_id(name, &store).unwrap().as_str(), id, "{name}");
        }
    }

    #[test]
    fn the_pack_in_force_follows_the_answers_in_the_same_transaction() {
        use crate::access::Principal;
        use crate::services::fixture::msgs_kernel;
        use mmsm_engine::Change;
        use mmsm_model::{Answer, SubControlId};
        let (k, ids) = msgs_kernel(mmsm_store::Store::temporary().unwrap(), &["Taller Gil"]);
        let (local, id) = (Principal::local_operator(), &ids[0]);
        let in_force =
            |k: &crate::services::Kernel| k.isms(&local, id).unwrap().instantiated.regulations;
        assert!(in_force(&k).iter().any(|r| r.as_str() == "backups"));
        for s in ["8.13.1", "8.13.2"] {
            k.update_isms(
                &local,
                id,
                Change::Answer {
                    subcontrol: SubControlId::new(s),
                    answer: Some(Answer::Na),
                },
                "answer",
            )
            .unwrap();
        }
        // Control 8.13 no longer applies: its regulation left force, and the
        // history says so; read back from the store, not from the live cache.
        let fresh = crate::services::Kernel::new(k.store().clone());
        assert!(!in_force(&fresh).iter().any(|r| r.as_str() == "backups"));
        let history = fresh.isms_history(&local, id).unwrap();
        let note = history.last().unwrap().note.clone().unwrap_or_default();
        assert!(note.contains("no longer in force: regulation"), "{note}");
        assert!(note.contains("(backups)"), "{note}");
        k.update_isms(
            &local,
            id,
            Change::Answer {
                subcontrol: SubControlId::new("8.13.1"),
                answer: Some(Answer::Yes),
            },
            "answer",
        )
        .unwrap();
        assert!(in_force(&k).iter().any(|r| r.as_str() == "backups"));
        let note = k
            .isms_history(&local, id)
            .unwrap()
            .last()
            .unwrap()
            .note
            .clone();
        assert!(note.unwrap_or_default().contains("in force now"));
    }

    #[test]
    fn merged_deltas_keep_the_first_before_and_the_last_after() {
        use super::{merge_deltas, Delta};
        use mmsm_engine::Subject;
        use mmsm_model::ControlId;
        let d = |subject: Subject, before: f64, after: f64| Delta {
            subject,
            before: Some(before),
            after: Some(after),
        };
        let control = |id: &str| Subject::Control(ControlId::new(id));
        let mut into = vec![d(control("5.1"), 10.0, 20.0), d(Subject::Isms, 50.0, 51.0)];
        merge_deltas(
            &mut into,
            vec![
                d(control("5.1"), 20.0, 30.0),
                d(Subject::Isms, 51.0, 50.0),
                d(control("8.2"), 0.0, 40.0),
                d(control("8.2"), 40.0, 60.0),
            ],
        );
        assert_eq!(
            into,
            vec![d(control("5.1"), 10.0, 30.0), d(control("8.2"), 0.0, 60.0)],
            "the ISMS's value came back where it started and is dropped"
        );
    }
}
