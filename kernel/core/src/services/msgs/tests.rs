//! Kernel-level tests of what the CLI cannot reach: phase actions through the
//! [`PhaseActions`] trait (a failing and a succeeding fake, until the
//! scripting host implements it) and revocation by a new regulation version.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::culture::CertStatus;
use super::*;
use mmsm_model::Schema;
use mmsm_schema as schema_docs;
use mmsm_schema::profiles;
use mmsm_store::Store;

use super::super::fixture::{FIXTURE, PROFILE};

/// Fills `handled_by` with the acting user, or fails, as told.
struct FakeActions {
    fail: bool,
}

impl PhaseActions for FakeActions {
    fn run(
        &self,
        action: &str,
        ctx: &Value,
        instance: &Value,
    ) -> std::result::Result<ActionOutcome, String> {
        assert_eq!(action, "fill-handler");
        assert_eq!(
            instance["phase"], "assess",
            "the action sees the instance in its new phase"
        );
        if self.fail {
            return Err("metric source unreachable".into());
        }
        ActionOutcome::from_json(json!({
            "fields": { "handled_by": ctx["user"] },
            "events": [{ "note": "handler assigned" }],
        }))
    }
}

fn schema_with_action() -> Schema {
    let mut schema = schema_docs::load_path(Path::new(FIXTURE)).unwrap().schema;
    let procedure = schema
        .procedures
        .iter_mut()
        .find(|p| p.id.as_str() == "incident-management")
        .unwrap();
    // the fixture's report phase runs the shipped Lua script; here only the fake runs
    procedure.phases[0].action = None;
    procedure.phases[1].action = Some("fill-handler".into());
    schema
}

fn kernel(fail: bool) -> (Kernel, String) {
    kernel_with(Arc::new(FakeActions { fail }))
}

fn kernel_with(actions: Arc<dyn PhaseActions>) -> (Kernel, String) {
    let kernel = Kernel::new(Store::temporary().unwrap())
        .with_clock(
            chrono::DateTime::parse_from_rfc3339("2027-01-10T09:00:00Z")
                .unwrap()
                .into(),
        )
        .with_actions(actions);
    let local = Principal::local_operator();
    kernel.import_schema(&local, schema_with_action()).unwrap();
    let profile = profiles::read_profile(Path::new(PROFILE)).unwrap();
    let generated = kernel
        .generate_isms(&local, profile, None, Some("msgs"))
        .unwrap();
    let isms = generated.id.to_string();
    let right: BTreeMap<String, usize> = [
        ("sp-1", 1),
        ("sp-2", 0),
        ("sp-3", 1),
        ("bk-1", 0),
        ("bk-2", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for user in ["ana", "luis"] {
        let who = kernel.principal_for(&isms, user).unwrap();
        assert!(
            kernel
                .take_culture_test(&who, &isms, user, 1, &right)
                .unwrap()
                .passed
        );
    }
    (kernel, isms)
}

fn fields(value: Value) -> Option<Map<String, Value>> {
    value.as_object().cloned()
}

#[test]
fn a_succeeding_action_fills_the_register_and_records_its_events() {
    let (kernel, isms) = kernel(false);
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    let ana = kernel.principal_for(&isms, "ana").unwrap();
    let started = kernel
        .start_procedure(
            &luis,
            &isms,
            "incident-management",
            fields(json!({ "title": "Phishing" })),
        )
        .unwrap();
    let moved = kernel
        .advance_procedure(&ana, &started.instance.id, "assess", None)
        .unwrap();
    assert_eq!(moved.instance.phase.as_str(), "assess");
    assert_eq!(
        moved.instance.registers[&mmsm_model::ArtefactId::new("reg-incidents")]["handled_by"],
        "ana"
    );
    let events = kernel.events(&ana, &isms).unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == "procedure.action" && e.data["note"] == "handler assigned"));
}

/// An action that, while it runs, does what another user could do at the
/// same moment through the same kernel: writes, or starts the same procedure.
struct Meanwhile {
    kernel: std::sync::OnceLock<(Kernel, String)>,
    start_another: bool,
    ran: std::sync::atomic::AtomicUsize,
}

impl PhaseActions for Meanwhile {
    fn run(
        &self,
        _action: &str,
        _ctx: &Value,
        _instance: &Value,
    ) -> std::result::Result<ActionOutcome, String> {
        use std::sync::atomic::Ordering;
        if self.ran.fetch_add(1, Ordering::SeqCst) > 0 {
            return Ok(ActionOutcome::default());
        }
        let (kernel, isms) = self.kernel.get().expect("set before any move");
        let luis = kernel.principal_for(isms, "luis").unwrap();
        if self.start_another {
            kernel
                .start_procedure(
                    &luis,
                    isms,
                    "incident-management",
                    fields(json!({ "title": "Another" })),
                )
                .map_err(|e| e.to_string())?;
        } else {
            // Under a write lock held across the action, this would never return.
            let local = Principal::local_operator();
            kernel
                .update_isms(
                    &local,
                    isms,
                    mmsm_engine::Change::Answer {
                        subcontrol: mmsm_model::SubControlId::new("8.13.2"),
                        answer: Some(mmsm_model::Answer::Yes),
                    },
                    "answer",
                )
                .map_err(|e| e.to_string())?;
        }
        Ok(ActionOutcome::default())
    }
}

fn meanwhile(start_another: bool) -> (Kernel, String, Arc<Meanwhile>) {
    let actions = Arc::new(Meanwhile {
        kernel: std::sync::OnceLock::new(),
        start_another,
        ran: Default::default(),
    });
    let (kernel, isms) = kernel_with(actions.clone());
    actions.kernel.set((kernel.clone(), isms.clone())).ok();
    (kernel, isms, actions)
}

#[test]
fn an_action_runs_outside_the_write_lock_so_other_writers_go_on() {
    let (kernel, isms, actions) = meanwhile(false);
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    let ana = kernel.principal_for(&isms, "ana").unwrap();
    let started = kernel
        .start_procedure(
            &luis,
            &isms,
            "incident-management",
            fields(json!({ "title": "Phishing" })),
        )
        .unwrap();
    let moved = kernel
        .advance_procedure(&ana, &started.instance.id, "assess", None)
        .unwrap();
    assert_eq!(moved.instance.phase.as_str(), "assess");
    assert_eq!(
        actions.ran.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the action runs once"
    );
    let record = kernel.isms(&Principal::local_operator(), &isms).unwrap();
    assert_eq!(
        record.inputs.answers[&mmsm_model::SubControlId::new("8.13.2")],
        mmsm_model::Answer::Yes,
        "the write made while the action ran landed"
    );
}

#[test]
fn a_start_whose_instance_number_was_taken_while_its_action_ran_is_refused_and_writes_nothing() {
    let mut schema = schema_with_action();
    let procedure = schema
        .procedures
        .iter_mut()
        .find(|p| p.id.as_str() == "incident-management")
        .unwrap();
    procedure.phases[0].action = Some("any".into());
    let (kernel, isms, _) = meanwhile(true);
    let local = Principal::local_operator();
    schema.schema.version = 2;
    kernel.import_schema(&local, schema).unwrap();
    kernel.rebase_isms(&local, &isms, None).unwrap();
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    let err = kernel
        .start_procedure(
            &luis,
            &isms,
            "incident-management",
            fields(json!({ "title": "First" })),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("moved while the action `any`"), "{err}");
    let ana = kernel.principal_for(&isms, "ana").unwrap();
    let instances = kernel.procedure_instances(&ana, &isms, false).unwrap();
    assert_eq!(
        instances.len(),
        1,
        "only the start made meanwhile: {instances:?}"
    );
}

#[test]
fn a_failing_action_refuses_the_move_and_leaves_the_instance_where_it_was() {
    let (kernel, isms) = kernel(true);
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    let ana = kernel.principal_for(&isms, "ana").unwrap();
    let started = kernel
        .start_procedure(
            &luis,
            &isms,
            "incident-management",
            fields(json!({ "title": "Phishing" })),
        )
        .unwrap();
    let events_before = kernel.events(&ana, &isms).unwrap().len();
    let err = kernel
        .advance_procedure(&ana, &started.instance.id, "assess", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("the action `fill-handler` of phase `assess` failed"),
        "{err}"
    );
    assert!(
        err.contains("stays in `report`: metric source unreachable"),
        "{err}"
    );
    let shown = kernel
        .procedure_instance(&ana, &started.instance.id)
        .unwrap();
    assert_eq!(shown.phase.as_str(), "report");
    assert_eq!(shown.history.len(), 1);
    assert_eq!(
        kernel.events(&ana, &isms).unwrap().len(),
        events_before,
        "nothing written"
    );
}

#[test]
fn without_a_scripting_host_a_phase_with_an_action_cannot_be_entered() {
    let (kernel, isms) = kernel(false);
    let kernel = kernel.with_actions(Arc::new(NoActions));
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    let ana = kernel.principal_for(&isms, "ana").unwrap();
    let started = kernel
        .start_procedure(&luis, &isms, "incident-management", None)
        .unwrap();
    let err = kernel
        .advance_procedure(&ana, &started.instance.id, "assess", None)
        .unwrap_err();
    assert!(err.to_string().contains("no scripting host"), "{err}");
}

#[test]
fn a_rebase_on_a_new_version_of_a_required_regulation_revokes_the_certificate() {
    let (kernel, isms) = kernel(false);
    let local = Principal::local_operator();
    let record = kernel.isms(&local, &isms).unwrap();
    let schema = kernel.isms_schema(&record).unwrap();
    assert_eq!(
        kernel.certificate_of(&record, &schema, "luis").unwrap().0,
        CertStatus::Valid
    );
    let share_before = kernel.culture_status(&local, &isms).unwrap().share;
    assert_eq!(share_before, Some(1.0));
    // Version 2: the security policy says more, and 8.13.2 is gone.
    let mut changed = (*schema).clone();
    changed.regulations[0].rules[0].text =
        "Everyone follows the rules, and reports incidents.".into();
    let backup = changed
        .controls
        .iter_mut()
        .find(|c| c.id.as_str() == "8.13")
        .unwrap();
    backup.subcontrols.retain(|s| s.id.as_str() != "8.13.2");
    let outcome = kernel.import_schema(&local, changed).unwrap();
    assert_eq!(outcome.version, 2);

    // Only the consultancy's generation zone re-bases.
    let officer = kernel.principal_for(&isms, "ana").unwrap();
    assert!(matches!(
        kernel.rebase_isms(&officer, &isms, None),
        Err(ServiceError::Forbidden(_))
    ));
    let consultant = Principal::new("cos", ["CoS"]).as_admin();
    let rebased = kernel.rebase_isms(&consultant, &isms, None).unwrap();
    assert_eq!((rebased.from, rebased.to), (1, 2));
    assert_eq!(rebased.dropped, vec!["answer 8.13.2: no".to_owned()]);
    assert_eq!(rebased.board.schema.version, 2);

    let record = kernel.isms(&local, &isms).unwrap();
    assert_eq!(record.schema.version, 2);
    assert!(!record.inputs.answers.keys().any(|k| k.as_str() == "8.13.2"));
    let schema = kernel.isms_schema(&record).unwrap();
    let (status, reason) = kernel.certificate_of(&record, &schema, "luis").unwrap();
    assert_eq!(status, CertStatus::Revoked);
    assert!(reason
        .unwrap()
        .contains("security-policy has a new version"));
    // ana's backups regulation did not change, but security-policy did: revoked too
    assert_eq!(
        kernel.certificate_of(&record, &schema, "ana").unwrap().0,
        CertStatus::Revoked
    );
    // The culture share followed in the same transaction, and the history says why.
    assert_eq!(
        kernel.culture_status(&local, &isms).unwrap().share,
        Some(0.0)
    );
    let history = kernel.isms_history(&local, &isms).unwrap();
    assert!(history.iter().any(|e| e.cause == "rebase"
        && e.note
            .as_deref()
            .is_some_and(|n| n.contains("msgs@1 to msgs@2"))));
    assert!(kernel
        .audit_log(&local, Some(&isms))
        .unwrap()
        .iter()
        .any(|e| e.action == "isms.rebase"));

    // Already there: nothing to do, and it says so.
    let again = kernel.rebase_isms(&consultant, &isms, None).unwrap_err();
    assert!(again.to_string().contains("already there"), "{again}");
}

#[test]
fn a_rebase_refuses_an_asset_whose_type_the_new_version_lacks_and_changes_nothing() {
    let (kernel, isms) = kernel(false);
    let local = Principal::local_operator();
    let before = kernel.isms(&local, &isms).unwrap();
    let mut changed = (*kernel.isms_schema(&before).unwrap()).clone();
    let used = before.inputs.assets[0].asset_type.clone();
    changed.asset_types.retain(|t| t.id != used);
    changed
        .matrices
        .asset_type_threat
        .retain(|r| r.asset_type != used);
    changed
        .matrices
        .asset_type_vulnerability
        .retain(|r| r.asset_type != used);
    kernel.import_schema(&local, changed).unwrap();
    let refused = kernel.rebase_isms(&local, &isms, None).unwrap_err();
    assert!(
        refused
            .to_string()
            .contains(before.inputs.assets[0].id.as_str()),
        "{refused}"
    );
    assert_eq!(kernel.isms(&local, &isms).unwrap(), before);
}

#[test]
fn the_auditor_reads_the_maintenance_zone_but_changes_nothing_in_it() {
    let (kernel, isms) = kernel(false);
    // An auditor who sees every ISMS (an administrator) still only reads here.
    let auditor = Principal::new("aus", ["AuS"]).as_admin();
    assert!(kernel.culture_status(&auditor, &isms).is_ok());
    assert!(kernel.plan_rows(&auditor, &isms).is_ok());
    assert!(kernel.suggestions(&auditor, &isms).is_ok());
    let refused = [
        kernel
            .set_plan(&auditor, &isms, 1, &[PlanSet::Done])
            .map(|_| ()),
        kernel
            .reject_suggestion(&auditor, &isms, "s1", None)
            .map(|_| ()),
        kernel
            .draw_culture_test(&auditor, &isms, "luis", 1)
            .map(|_| ()),
    ];
    for r in refused {
        assert!(
            matches!(
                r,
                Err(ServiceError::Forbidden(_) | ServiceError::NotYours(_))
            ),
            "{r:?}"
        );
    }
    // Without an assignment an auditor does not even see the ISMS.
    let unassigned = Principal::new("aus", ["AuS"]);
    assert!(matches!(
        kernel.culture_status(&unassigned, &isms),
        Err(ServiceError::NotFound { .. })
    ));
    // The consultant (CoS) and the security officer may.
    let consultant = Principal::new("cos", ["CoS"]).as_admin();
    assert!(kernel
        .set_plan(&consultant, &isms, 1, &[PlanSet::Done])
        .is_ok());
    let officer = kernel.principal_for(&isms, "ana").unwrap();
    // ... but nobody draws or takes another user's culture test (issue 16).
    assert!(matches!(
        kernel.draw_culture_test(&officer, &isms, "luis", 1),
        Err(ServiceError::NotYours(_))
    ));
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    assert!(kernel.draw_culture_test(&luis, &isms, "luis", 1).is_ok());
}

#[test]
fn a_retest_draws_the_questions_the_last_test_did_not_ask_first() {
    let (kernel, isms) = kernel(false);
    let luis = kernel.principal_for(&isms, "luis").unwrap();
    let drawn = kernel.draw_culture_test(&luis, &isms, "luis", 5).unwrap();
    let first: Vec<String> = drawn.questions.iter().map(|q| q.id.to_string()).collect();
    // Until an attempt is recorded, a seed always draws the same test.
    let same = kernel.draw_culture_test(&luis, &isms, "luis", 5).unwrap();
    assert_eq!(same.questions, drawn.questions);
    kernel
        .take_culture_test(&luis, &isms, "luis", 5, &BTreeMap::new())
        .unwrap();
    // Luis's role needs security-policy: 2 questions drawn of a bank of 3, so a
    // retest repeats exactly the one the bank cannot avoid, whatever the seed.
    let schema = kernel
        .isms_schema(&kernel.isms(&luis, &isms).unwrap())
        .unwrap();
    let culture = schema.culture.as_ref().unwrap();
    let bank = culture
        .questions
        .iter()
        .filter(|q| q.regulation.as_str() == "security-policy")
        .count();
    assert_eq!((bank, culture.per_regulation, first.len()), (3, 2, 2));
    for seed in 6..40 {
        let again = kernel
            .draw_culture_test(&luis, &isms, "luis", seed)
            .unwrap();
        let ids: Vec<&str> = again.questions.iter().map(|q| q.id.as_str()).collect();
        let repeated = ids
            .iter()
            .filter(|id| first.iter().any(|f| f == *id))
            .count();
        assert_eq!(repeated, 1, "seed {seed}: {first:?} then {ids:?}");
    }
}

#[test]
fn expiry_re_values_the_culture_share_in_the_kernel_s_name_not_the_reader_s() {
    let (kernel, isms) = kernel(false);
    let later = kernel.with_clock(
        chrono::DateTime::parse_from_rfc3339("2028-02-01T09:00:00Z")
            .unwrap()
            .into(),
    );
    let auditor = Principal::new("aus", ["AuS"]).as_admin();
    let status = later.culture_status(&auditor, &isms).unwrap();
    assert_eq!(status.share, Some(0.0), "both certificates expired");
    let history = later.isms_history(&auditor, &isms).unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (last.cause.as_str(), last.user.as_str()),
        ("certificate", "system")
    );
}
