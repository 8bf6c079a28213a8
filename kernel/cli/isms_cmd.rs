//! `mmsm isms ...`, `mmsm profile template` and `mmsm demo`: the GSGS commands.

use std::path::{Path, PathBuf};

use mmsm_engine::{Board, Change, Delta, Engine, Subject};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{Generated, IsmsQuery, Kernel, RebaseOne};
use mmsm_model::{Answer, AssetId, Dimension, SubControlId};
use mmsm_reports::{self as reports, Documents};
use mmsm_schema::profiles;
use mmsm_shipped::{DEMO_PROFILE, DEMO_PROFILE_PATH};

use crate::args::{Global, IsmsCommand, ProfileCommand, ReportFormat, SoaFormat};
use crate::output::{print_json, Failure, Table};
use crate::schema_cmd::service_failure;
use crate::{open_kernel, principal};

pub fn run_profile(global: &Global, command: &ProfileCommand) -> Result<(), Failure> {
    let ProfileCommand::Template { schema, output } = command;
    let kernel = open_kernel(global)?;
    let stored = kernel
        .schema(&principal(global, &kernel), schema, None)
        .map_err(service_failure)?;
    let text = profiles::profile_template(&stored.schema);
    match output {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| Failure::from_error(format!("{}: {e}", path.display())))?;
            if global.json {
                return print_json(&serde_json::json!({ "schema": schema, "file": path }));
            }
            println!(
                "wrote the profile template of schema {schema} to {}",
                path.display()
            );
            Ok(())
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

pub fn run(global: &Global, command: &IsmsCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    match command {
        IsmsCommand::Generate { profile, schema } => {
            generate(global, &kernel, &who, profile, schema.as_deref())
        }
        IsmsCommand::List {
            limit,
            after,
            filter,
            sort,
        } => {
            let query = IsmsQuery {
                limit: *limit,
                after: after.clone(),
                filter: filter.clone(),
                sort: sort.parse().map_err(Failure::from_error)?,
            };
            let page = kernel
                .list_isms_page(&who, &query)
                .map_err(service_failure)?;
            let list = page.items;
            if global.json {
                return print_json(&list);
            }
            if list.is_empty() && (filter.is_some() || after.is_some()) {
                println!("no ISMS matches");
                return Ok(());
            }
            if list.is_empty() {
                println!("no ISMS yet: generate one with `mmsm isms generate PROFILE` (or try `mmsm demo`)");
                return Ok(());
            }
            let mut table = Table::new(&[
                "ID",
                "ENTERPRISE",
                "SECTOR",
                "SCHEMA",
                "COMPLIANCE",
                "LEVEL",
                "TARGET",
            ]);
            for i in &list {
                table.row(vec![
                    i.id.to_string(),
                    i.name.clone(),
                    i.sector.to_string(),
                    i.schema.clone(),
                    pct(i.compliance),
                    i.current.to_string(),
                    i.target.to_string(),
                ]);
            }
            table.print();
            if let Some(next) = page.next {
                println!(
                    "more: add --after {next} for the next {} (same --filter and --sort)",
                    list.len()
                );
            }
            Ok(())
        }
        IsmsCommand::Show { id } => {
            let record = kernel.isms(&who, id).map_err(service_failure)?;
            if global.json {
                return print_json(&record);
            }
            let e = &record.enterprise;
            println!("{} ({})", e.name, record.id);
            println!(
                "sector {}, {} employees{}",
                e.sector,
                e.employees,
                e.turnover_eur
                    .map(|t| format!(", turnover {t} EUR"))
                    .unwrap_or_default()
            );
            println!(
                "schema {}@{}: {}",
                record.schema.id, record.schema.version, record.schema.reason
            );
            let status = kernel.approval_status(&who, id).map_err(service_failure)?;
            println!("status: {}", status.words());
            for c in kernel
                .level_certificates(&who, id)
                .map_err(service_failure)?
            {
                println!(
                    "level {} certificate: {}{}",
                    c.certificate.level,
                    c.state,
                    c.reason.map(|r| format!(" ({r})")).unwrap_or_default()
                );
            }
            let schema = kernel.isms_schema(&record).map_err(service_failure)?;
            let (applying, undetermined): (Vec<_>, Vec<_>) =
                reports::obligation_rows(&schema, &record.board, &record.inputs.business)
                    .into_iter()
                    .filter(|o| o.applies != mmsm_model::Applicability::DoesNotApply)
                    .partition(|o| o.applies == mmsm_model::Applicability::Applies);
            let laws = reports::obligations_summary(&applying, undetermined.len());
            if !laws.is_empty() {
                println!("laws and obligations: {laws}");
            }
            let due = kernel
                .documents_due(&record, &schema)
                .map_err(service_failure)?;
            if !due.is_empty() {
                println!("documents past their review date: {}", due.join(", "));
            }
            let figures = kernel.finding_figures(&record).map_err(service_failure)?;
            if figures.open > 0 {
                println!(
                    "findings: {} open ({} major), {} corrective actions overdue",
                    figures.open, figures.open_major, figures.overdue
                );
            }
            if let Some(s) = &record.speaker {
                println!(
                    "speaker: {}{}",
                    s.name,
                    s.email
                        .as_ref()
                        .map(|m| format!(" <{m}>"))
                        .unwrap_or_default()
                );
            }
            println!(
                "compliance {} %, maturity level {} (target {})",
                pct(record.board.compliance),
                record.board.maturity.current,
                record.board.maturity.target
            );
            println!(
                "{} assets, {} answers, {} users",
                record.inputs.assets.len(),
                record.inputs.answers.len(),
                record.users.len()
            );
            let inst = &record.instantiated;
            println!(
                "instantiated: {} regulations, {} procedures, {} artefacts, {} metrics",
                inst.regulations.len(),
                inst.procedures.len(),
                inst.artefacts.len(),
                inst.metrics.len()
            );
            for u in &record.users {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                println!("  user {} ({}): {}", u.id, u.name, roles.join(", "));
            }
            Ok(())
        }
        IsmsCommand::Board {
            id,
            explain,
            maintenance,
        } => {
            let (record, engine) = kernel.isms_engine(&who, id).map_err(service_failure)?;
            let mut board = engine.board();
            board.isms = record.id.to_string();
            if global.json {
                if *explain {
                    let explanations = board_subjects(&board)
                        .iter()
                        .filter_map(|s| engine.explain(s).ok())
                        .collect::<Vec<_>>();
                    return print_json(
                        &serde_json::json!({ "board": board, "explain": explanations }),
                    );
                }
                if !*maintenance {
                    return print_json(&board);
                }
                let mut value = serde_json::to_value(&board).map_err(Failure::from_error)?;
                if let (Some(map), Ok(figures)) =
                    (value.as_object_mut(), kernel.maintenance_figures(&who, id))
                {
                    map.insert(
                        "maintenance".into(),
                        serde_json::to_value(figures).map_err(Failure::from_error)?,
                    );
                }
                return print_json(&value);
            }
            print_board(&board, &engine, *explain);
            if let Ok(figures) = kernel.maintenance_figures(&who, id) {
                crate::msgs_cmd::print_figures(&figures);
            }
            Ok(())
        }
        IsmsCommand::Risks { id, explain } => {
            let (_, engine) = kernel.isms_engine(&who, id).map_err(service_failure)?;
            let risks = engine.risks();
            if global.json {
                if *explain {
                    let rows: Vec<_> = risks
                        .iter()
                        .map(|r| {
                            let subject = Subject::Residual { asset: r.asset.clone(), threat: r.threat.clone() };
                            serde_json::json!({ "risk": r, "explain": engine.explain(&subject).ok() })
                        })
                        .collect();
                    return print_json(&rows);
                }
                return print_json(&risks);
            }
            if risks.is_empty() {
                println!("no (asset, threat) pair: no asset type of the ISMS is exposed to a threat of its schema (see the TAD matrix with `mmsm schema export`)");
                return Ok(());
            }
            let mut table = Table::new(&[
                "ASSET",
                "THREAT",
                "IMPACT",
                "PROB",
                "POTENTIAL",
                "VUL",
                "RESIDUAL",
                "LEVEL",
            ]);
            let mut explanations = Vec::new();
            for r in &risks {
                table.row(vec![
                    r.asset.to_string(),
                    r.threat.to_string(),
                    num(r.impact),
                    num(r.probability),
                    num(r.potential),
                    num(r.vulnerability),
                    num(r.residual),
                    r.level.to_string(),
                ]);
                if *explain {
                    for subject in [
                        Subject::Impact {
                            asset: r.asset.clone(),
                            threat: r.threat.clone(),
                        },
                        Subject::Potential {
                            asset: r.asset.clone(),
                            threat: r.threat.clone(),
                        },
                        Subject::Vulnerability(r.threat.clone()),
                        Subject::Residual {
                            asset: r.asset.clone(),
                            threat: r.threat.clone(),
                        },
                    ] {
                        if let Ok(e) = engine.explain(&subject) {
                            explanations.push(e.formula);
                        }
                    }
                }
            }
            table.print();
            if *explain {
                println!();
                explanations.dedup();
                for line in explanations {
                    println!("{line}");
                }
            }
            Ok(())
        }
        IsmsCommand::User(command) => crate::msgs_cmd::users(global, &kernel, command),
        IsmsCommand::Evidence(command) => crate::msgs_cmd::evidence(global, &kernel, command),
        IsmsCommand::Docs(command) => crate::docs_cmd::run(global, &kernel, command),
        IsmsCommand::Approve { id, note } => {
            let who = crate::msgs_cmd::acting(global, &kernel, id)?;
            let status = kernel
                .approve_isms(&who, id, note.clone())
                .map_err(service_failure)?;
            if global.json {
                return print_json(&status);
            }
            println!("{id}: {}", status.words());
            Ok(())
        }
        IsmsCommand::Certify { id, level } => {
            let issued = kernel
                .certify_level(&who, id, *level)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&issued);
            }
            println!(
                "{id}: level {level} certified by {}, valid until {}",
                issued.certificate.issued_by,
                crate::output::datetime(issued.certificate.expires_at)
            );
            Ok(())
        }
        IsmsCommand::Certificates { id } => {
            let list = kernel
                .level_certificates(&who, id)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("{id} has no level certificate yet: an auditor issues one with `mmsm isms certify {id} LEVEL`");
                return Ok(());
            }
            for c in &list {
                println!(
                    "level {}: {} (issued by {} on {}, until {}){}",
                    c.certificate.level,
                    c.state,
                    c.certificate.issued_by,
                    crate::output::datetime(c.certificate.issued_at),
                    crate::output::datetime(c.certificate.expires_at),
                    c.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                );
            }
            Ok(())
        }
        IsmsCommand::Certificate { id, level, output } => {
            let bytes = kernel
                .certificate_pdf(&who, id, *level)
                .map_err(service_failure)?;
            std::fs::write(output, &bytes).map_err(|e| {
                Failure::from_error(format!("cannot write {}: {e}", output.display()))
            })?;
            if global.json {
                return print_json(&serde_json::json!({
                    "isms": id, "level": level, "file": output, "bytes": bytes.len()
                }));
            }
            println!(
                "wrote the level {level} certificate of {id} to {} ({} bytes)",
                output.display(),
                bytes.len()
            );
            Ok(())
        }
        IsmsCommand::Audits { id } => crate::findings_cmd::audits(global, &kernel, id),
        IsmsCommand::AuditHeld {
            id,
            audit,
            on,
            note,
        } => {
            crate::findings_cmd::audit_held(global, &kernel, id, audit, on.as_deref(), note.clone())
        }
        IsmsCommand::Archive { id } | IsmsCommand::Unarchive { id } => {
            let archive = matches!(command, IsmsCommand::Archive { .. });
            let record = kernel
                .set_archived(&who, id, archive)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&serde_json::json!({ "isms": id, "archived": record.archived }));
            }
            if archive {
                println!(
                    "{} ({id}) is archived: read only until `mmsm isms unarchive {id}`",
                    record.enterprise.name
                );
            } else {
                println!(
                    "{} ({id}) is out of the archive: it can change again",
                    record.enterprise.name
                );
            }
            Ok(())
        }
        IsmsCommand::Delete { id, confirm } => {
            let deleted = kernel
                .delete_isms(&who, id, confirm)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&deleted);
            }
            println!(
                "deleted {} ({}): {} stored entries{}; the audit trail keeps the act",
                deleted.name,
                deleted.isms,
                deleted.entries,
                if deleted.accounts.is_empty() {
                    String::new()
                } else {
                    format!(" and the accounts {}", deleted.accounts.join(", "))
                }
            );
            Ok(())
        }
        IsmsCommand::Why {
            id,
            subcontrol,
            note,
            justification,
            evidence_files,
        } => {
            let why = mmsm_kernel::services::AnswerWhy {
                note: note.clone(),
                justification: justification.clone(),
                evidence: evidence_files.clone(),
            };
            let kept = kernel
                .set_answer_why(&who, id, subcontrol, why)
                .map_err(service_failure)?;
            if global.json {
                return print_json(
                    &serde_json::json!({ "isms": id, "subcontrol": subcontrol, "why": kept }),
                );
            }
            match kept {
                Some(_) => println!("the reasons of the answer to {subcontrol} are kept; the SoA and the report show them"),
                None => println!("the answer to {subcontrol} has no reasons now"),
            }
            Ok(())
        }
        IsmsCommand::Plan {
            id,
            explain,
            set,
            settings,
        } => {
            if let Some(rank) = set {
                return crate::msgs_cmd::set_plan(global, &kernel, id, *rank, settings);
            }
            let (_, engine) = kernel.isms_engine(&who, id).map_err(service_failure)?;
            let plan = engine.plan();
            let rows = kernel.plan_rows(&who, id).map_err(service_failure)?;
            let explain_of = |p: &mmsm_engine::PlanItem| {
                engine
                    .explain(&Subject::PlanItem {
                        control: p.control.clone(),
                        level: p.level,
                    })
                    .ok()
            };
            if global.json {
                if *explain {
                    let rows: Vec<_> = plan
                        .iter()
                        .map(|p| serde_json::json!({ "item": p, "explain": explain_of(p) }))
                        .collect();
                    return print_json(&rows);
                }
                return print_json(&rows);
            }
            if plan.is_empty() {
                println!(
                    "the plan is empty: every applicable subcontrol up to the target level is met"
                );
                return Ok(());
            }
            let mut table = Table::new(&[
                "RANK",
                "CONTROL",
                "LEVEL",
                "SUBCONTROLS",
                "EFFORT",
                "RISK REDUCTION",
                "OWNER",
                "DUE",
                "STATE",
            ]);
            for row in &rows {
                let p = &row.item;
                let subs: Vec<&str> = p.subcontrols.iter().map(|s| s.as_str()).collect();
                let f = &row.follow_up;
                table.row(vec![
                    p.rank.to_string(),
                    p.control.to_string(),
                    p.level.to_string(),
                    subs.join(" "),
                    num(p.effort),
                    num(p.risk_reduction),
                    f.owner.clone().unwrap_or_default(),
                    f.due.clone().unwrap_or_default(),
                    if f.done_at.is_some() {
                        "done".into()
                    } else if row.overdue {
                        "overdue".into()
                    } else {
                        String::new()
                    },
                ]);
            }
            table.print();
            let actions: Vec<_> = kernel
                .list_findings(&who, id, true)
                .map_err(service_failure)?
                .into_iter()
                .filter(|f| f.finding.response.is_some())
                .collect();
            if !actions.is_empty() {
                println!("\ncorrective actions of open findings (`mmsm finding list {id}`):");
                let mut table =
                    Table::new(&["FINDING", "CONTROL", "ACTION", "OWNER", "DUE", "STATE"]);
                for f in &actions {
                    let r = f.finding.response.as_ref().expect("filtered above");
                    table.row(vec![
                        f.id.clone(),
                        f.finding.control.to_string(),
                        r.action.clone(),
                        r.owner.clone(),
                        r.due.to_string(),
                        f.state.clone(),
                    ]);
                }
                table.print();
            }
            if *explain {
                println!();
                for p in &plan {
                    if let Some(e) = explain_of(p) {
                        println!("{}. {}", p.rank, e.formula);
                    }
                }
            }
            Ok(())
        }
        IsmsCommand::Answer {
            id,
            subcontrol,
            answer,
        } => {
            let answer = Answer::parse(answer).ok_or_else(|| {
                Failure::from_error(format!(
                    "`{answer}` is not an answer; expected yes, partial, no, na or unknown"
                ))
            })?;
            let change = Change::Answer {
                subcontrol: SubControlId::new(subcontrol.clone()),
                answer: Some(answer),
            };
            let updated = kernel
                .update_isms(&who, id, change, "answer")
                .map_err(service_failure)?;
            print_update(global, &updated.changed, &updated)
        }
        IsmsCommand::Rebase {
            id: None,
            schema,
            version,
            ..
        } => rebase_all(
            global,
            &kernel,
            &who,
            schema.as_deref().unwrap_or_default(),
            *version,
        ),
        IsmsCommand::Rebase {
            id: Some(id),
            version,
            ..
        } => {
            let rebased = kernel
                .rebase_isms(&who, id, *version)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&rebased);
            }
            println!(
                "{} re-based from {schema}@{} to {schema}@{}",
                rebased.isms,
                rebased.from,
                rebased.to,
                schema = rebased.schema
            );
            for d in &rebased.changed {
                println!("  {} {} -> {}", d.subject, opt(d.before), opt(d.after));
            }
            for line in &rebased.instantiated {
                println!("  {line}");
            }
            if !rebased.dropped.is_empty() {
                println!("dropped (the new version has no place for them):");
                for line in &rebased.dropped {
                    println!("  {line}");
                }
            }
            Ok(())
        }
        IsmsCommand::Asset {
            id,
            asset,
            value,
            depends_on,
        } => {
            let values = value
                .as_deref()
                .map(parse_values)
                .transpose()
                .map_err(Failure::from_error)?;
            let record = kernel.isms(&who, id).map_err(service_failure)?;
            let Some(mut current) = record
                .inputs
                .assets
                .iter()
                .find(|a| a.id.as_str() == asset)
                .cloned()
            else {
                let known: Vec<&str> = record.inputs.assets.iter().map(|a| a.id.as_str()).collect();
                return Err(Failure::from_error(format!(
                    "asset `{asset}` not found in ISMS {id}; its assets are {}",
                    known.join(", ")
                )));
            };
            if let Some(values) = values {
                current.values = values;
                current.strategic_value = None;
                current.requirements.clear();
            }
            if let Some(list) = depends_on {
                current.depends_on = list
                    .iter()
                    .map(|d| d.trim())
                    .filter(|d| !d.is_empty())
                    .map(AssetId::new)
                    .collect();
            }
            let change = Change::AssetValue { asset: current };
            let updated = kernel
                .update_isms(&who, id, change, "asset")
                .map_err(service_failure)?;
            print_update(global, &updated.changed, &updated)
        }
        IsmsCommand::Business {
            id,
            question,
            value,
            clear: _,
        } => {
            let value = value.clone().map(mmsm_model::Scalar::Text);
            let updated = kernel
                .answer_business(&who, id, question, value)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&updated);
            }
            println!(
                "{}: {} board values changed",
                updated.change,
                updated.changed.len()
            );
            for d in &updated.changed {
                println!("  {} {} -> {}", d.subject, opt(d.before), opt(d.after));
            }
            if let Some(note) = &updated.note {
                println!("{note}");
            }
            println!("the obligations that apply now: mmsm isms obligations {id}");
            Ok(())
        }
        IsmsCommand::Obligations { id, all } => {
            let (name, rows) = kernel.obligations(&who, id).map_err(service_failure)?;
            if global.json {
                return print_json(&rows);
            }
            print_obligations(&name, &rows, *all);
            Ok(())
        }
        IsmsCommand::Soa { id, format, output } => {
            let (name, rows) = kernel.soa(&who, id).map_err(service_failure)?;
            let status = kernel
                .approval_status(&who, id)
                .map_err(service_failure)?
                .words();
            match format {
                SoaFormat::Xlsx => {
                    let Some(path) = output else {
                        return Err(Failure::from_error(
                            "--format xlsx writes a file: give it with -o FILE",
                        ));
                    };
                    reports::write_soa_xlsx(
                        &rows,
                        &format!("Statement of Applicability: {name} ({status})"),
                        path,
                    )
                    .map_err(|e| Failure::from_error(format!("{}: {e}", path.display())))?;
                    done(global, path, rows.len())
                }
                SoaFormat::Pdf => {
                    let Some(path) = output else {
                        return Err(Failure::from_error(
                            "--format pdf writes a file: give it with -o FILE",
                        ));
                    };
                    let bytes = reports::soa_pdf(
                        &format!("Statement of Applicability: {name} ({status})"),
                        &rows,
                    );
                    std::fs::write(path, bytes)
                        .map_err(|e| Failure::from_error(format!("{}: {e}", path.display())))?;
                    done(global, path, rows.len())
                }
                SoaFormat::Csv => {
                    match output {
                        Some(path) => {
                            let file = std::fs::File::create(path).map_err(|e| {
                                Failure::from_error(format!("{}: {e}", path.display()))
                            })?;
                            reports::write_soa_csv(&rows, file).map_err(Failure::from_error)?;
                            return done(global, path, rows.len());
                        }
                        None => reports::write_soa_csv(&rows, std::io::stdout())
                            .map_err(Failure::from_error)?,
                    }
                    Ok(())
                }
                SoaFormat::Table => {
                    if global.json {
                        return print_json(&rows);
                    }
                    println!("Statement of Applicability of {name}: {status}\n");
                    let mut table = Table::new(&[
                        "CONTROL",
                        "TITLE",
                        "APPLIES",
                        "COMPLIANCE",
                        "STATUS",
                        "IMPLEMENTED",
                        "IMPLEMENTED BY",
                    ]);
                    for r in &rows {
                        table.row(vec![
                            r.control.clone(),
                            r.title.clone(),
                            if r.applicable {
                                "yes".into()
                            } else {
                                format!("no: {}", r.reason)
                            },
                            pct(r.compliance),
                            r.status.clone(),
                            r.implemented.clone(),
                            r.implemented_by.join("; "),
                        ]);
                    }
                    table.print();
                    Ok(())
                }
            }
        }
        IsmsCommand::Report { id, format, output } => {
            let view = kernel.report(&who, id).map_err(service_failure)?;
            let text = match format {
                ReportFormat::Html => reports::render_html(&view)
                    .map_err(Failure::from_error)?
                    .into_bytes(),
                ReportFormat::Md => reports::render_markdown(&view)
                    .map_err(Failure::from_error)?
                    .into_bytes(),
                ReportFormat::Json => serde_json::to_string_pretty(&view)
                    .map_err(Failure::from_error)?
                    .into_bytes(),
                ReportFormat::Pdf => reports::report_pdf(&view).map_err(Failure::from_error)?,
            };
            std::fs::write(output, text)
                .map_err(|e| Failure::from_error(format!("{}: {e}", output.display())))?;
            if global.json {
                return print_json(&serde_json::json!({ "isms": id, "report": output }));
            }
            println!("wrote the report of {id} to {}", output.display());
            Ok(())
        }
        IsmsCommand::History { id, control, since } => {
            let filter = mmsm_kernel::services::msgs::HistoryFilter {
                control: control.as_deref().map(mmsm_model::ControlId::new),
                since: since
                    .as_deref()
                    .map(|d| {
                        chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                            Failure::from_error(format!(
                                "--since `{d}` is not a date; expected YYYY-MM-DD"
                            ))
                        })
                    })
                    .transpose()?,
            };
            let events = kernel
                .isms_history_filtered(&who, id, &filter)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&events);
            }
            if events.is_empty() {
                println!(
                    "no change of the board matches: drop --control or --since to see every change"
                );
                return Ok(());
            }
            for e in &events {
                let change = e
                    .change
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                println!(
                    "{} {} {} {}",
                    crate::output::datetime(e.at),
                    e.user,
                    e.cause,
                    change
                );
                if let Some(note) = &e.note {
                    println!("    {note}");
                }
                for d in &e.deltas {
                    println!("    {} {} -> {}", d.subject, opt(d.before), opt(d.after));
                }
            }
            Ok(())
        }
    }
}

fn generate(
    global: &Global,
    kernel: &Kernel,
    who: &Principal,
    path: &Path,
    schema: Option<&str>,
) -> Result<(), Failure> {
    if !path.is_dir() {
        let generated = kernel
            .generate_isms_file(who, path, schema)
            .map_err(service_failure)?;
        if global.json {
            return print_json(&generated);
        }
        print_generated(&generated);
        return Ok(());
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Failure::from_error(format!("{}: {e}", path.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && matches!(
                    p.extension().and_then(|e| e.to_str()),
                    Some("yaml" | "yml" | "json")
                )
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Failure::from_error(format!(
            "{} holds no profile (.yaml, .yml or .json files)",
            path.display()
        )));
    }
    let bar = if global.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(files.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} profiles {elapsed} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    };
    let mut generated = Vec::new();
    let mut failed = Vec::new();
    for file in &files {
        bar.set_message(
            file.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        match kernel.generate_isms_file(who, file, schema) {
            Ok(g) => {
                generated.push(serde_json::json!({ "file": file, "id": g.id, "schema": g.schema }))
            }
            Err(e) => failed.push((file.clone(), e.to_string())),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if global.json {
        let failures: Vec<_> = failed
            .iter()
            .map(|(f, e)| serde_json::json!({ "file": f, "error": e }))
            .collect();
        print_json(&serde_json::json!({ "generated": generated, "failed": failures }))?;
    } else {
        println!(
            "generated {} ISMSs from {}",
            generated.len(),
            path.display()
        );
        for (file, error) in &failed {
            eprintln!("failed: {}: {}", file.display(), error.trim_end());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::from_error(format!(
            "{} of {} profiles failed",
            failed.len(),
            files.len()
        )))
    }
}

fn print_generated(g: &Generated) {
    println!("{}", g.id);
    eprintln!(
        "schema {}@{}: {}",
        g.schema.id, g.schema.version, g.schema.reason
    );
    eprintln!(
        "compliance {} %, maturity level {} (target {}), highest risk {}",
        pct(g.board.compliance),
        g.board.maturity.current,
        g.board.maturity.target,
        num(g.board.risk.max)
    );
}

/// Every figure of the board, for `--explain`.
fn board_subjects(board: &Board) -> Vec<Subject> {
    let mut subjects = vec![
        Subject::Isms,
        Subject::MaturityCurrent,
        Subject::MaturityTarget,
    ];
    subjects.extend(
        board
            .maturity
            .levels
            .iter()
            .map(|l| Subject::Level(l.level)),
    );
    subjects.extend(board.domains.iter().map(|d| Subject::Domain(d.id.clone())));
    subjects.extend(
        board
            .controls
            .iter()
            .map(|c| Subject::Control(c.id.clone())),
    );
    subjects.extend([Subject::RiskMax, Subject::RiskMean]);
    subjects
}

fn print_board(board: &Board, engine: &Engine, explain: bool) {
    let why = |subject: Subject| {
        if explain {
            if let Ok(e) = engine.explain(&subject) {
                println!("    {}", e.formula);
            }
        }
    };
    println!(
        "ISMS {} (schema {}@{})",
        board.isms, board.schema.id, board.schema.version
    );
    println!("compliance: {} %", pct(board.compliance));
    why(Subject::Isms);
    println!(
        "maturity: level {} of 3, target {}",
        board.maturity.current, board.maturity.target
    );
    why(Subject::MaturityCurrent);
    why(Subject::MaturityTarget);
    for l in &board.maturity.levels {
        println!(
            "  level {}: {} % (needs {} %){}",
            l.level,
            pct(l.compliance),
            pct(Some(l.threshold)),
            if l.reached { ", reached" } else { "" }
        );
        why(Subject::Level(l.level));
    }
    if board.flagged > 0 {
        println!(
            "{} questions unanswered or unknown: they count as `no` until answered",
            board.flagged
        );
    }
    println!("\ndomains:");
    for d in &board.domains {
        println!("  {:<6} {} %", d.id.as_str(), pct(d.compliance));
        why(Subject::Domain(d.id.clone()));
    }
    println!("\ncontrols:");
    let mut table = Table::new(&["CONTROL", "COMPLIANCE", "STATUS"]);
    for c in &board.controls {
        table.row(vec![
            c.id.to_string(),
            pct(c.compliance),
            serde_json::to_value(c.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        ]);
    }
    if explain {
        for c in &board.controls {
            println!("  {} {} %", c.id, pct(c.compliance));
            why(Subject::Control(c.id.clone()));
        }
    } else {
        table.print();
    }
    let r = &board.risk;
    println!(
        "\nrisk: max {}, mean {}, pairs by level {:?}",
        num(r.max),
        num(r.mean),
        r.by_level
    );
    why(Subject::RiskMax);
    why(Subject::RiskMean);
}

fn print_update(
    global: &Global,
    changed: &[Delta],
    updated: &mmsm_kernel::services::Updated,
) -> Result<(), Failure> {
    if global.json {
        return print_json(updated);
    }
    if changed.is_empty() {
        println!(
            "nothing changed: the ISMS already holds this ({})",
            updated.change
        );
        return Ok(());
    }
    println!("{}: {} values changed", updated.change, changed.len());
    for d in changed {
        println!("  {} {} -> {}", d.subject, opt(d.before), opt(d.after));
    }
    Ok(())
}

fn done(global: &Global, path: &Path, rows: usize) -> Result<(), Failure> {
    if global.json {
        return print_json(&serde_json::json!({ "file": path, "rows": rows }));
    }
    println!("wrote {rows} controls to {}", path.display());
    Ok(())
}

/// Parses `D=8,I=6,C=5`.
fn parse_values(text: &str) -> Result<std::collections::BTreeMap<Dimension, f64>, String> {
    let mut values = std::collections::BTreeMap::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (d, v) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not DIMENSION=VALUE; expected e.g. D=8,I=6,C=5"))?;
        let dimension = Dimension::parse(d.trim())
            .ok_or_else(|| format!("`{d}` is not a dimension; expected D, I, C, A or T"))?;
        let value: f64 = v
            .trim()
            .parse()
            .map_err(|_| format!("`{v}` is not a number; expected a value 0..10"))?;
        if !(0.0..=10.0).contains(&value) {
            return Err(format!(
                "{d}={value} is out of range; expected a value 0..10"
            ));
        }
        values.insert(dimension, value);
    }
    if values.is_empty() {
        return Err("no value given; expected e.g. --value D=8,I=6,C=5".into());
    }
    Ok(values)
}

/// A compliance as people read it: one decimal, `n/a` when not applicable.
pub fn pct(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.1}"))
}

fn num(value: f64) -> String {
    mmsm_reports::fixed(value, 2)
}

fn opt(value: Option<f64>) -> String {
    value.map_or_else(
        || "n/a".to_owned(),
        |v| {
            let text = format!("{v:.4}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        },
    )
}

/// `mmsm demo`: the sample SME's ISMS, its board, the top of its plan, and its report.
pub fn demo(global: &Global, out: &Path) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    let profile =
        profiles::parse_profile(Path::new(DEMO_PROFILE_PATH), DEMO_PROFILE).map_err(|p| {
            Failure::from_error(format!(
                "the sample profile is invalid (a defect of this build): {p}"
            ))
        })?;
    let generated = kernel
        .generate_isms(&who, profile, Some(Path::new(DEMO_PROFILE_PATH)), None)
        .map_err(service_failure)?;
    let id = generated.id.to_string();
    let view = kernel.report(&who, &id).map_err(service_failure)?;
    let html = reports::render_html(&view).map_err(Failure::from_error)?;
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::from_error(format!("{}: {e}", out.display())))?;
    let report = out.join(format!("{id}-report.html"));
    std::fs::write(&report, html)
        .map_err(|e| Failure::from_error(format!("{}: {e}", report.display())))?;
    if global.json {
        return print_json(
            &serde_json::json!({ "isms": id, "report": report, "board": generated.board }),
        );
    }
    let b = &generated.board;
    println!(
        "{} ({id}), generated from schema {}@{}",
        view.enterprise, generated.schema.id, generated.schema.version
    );
    println!("  {}", generated.schema.reason);
    println!(
        "compliance {} %, maturity level {} of 3 (target {})",
        pct(b.compliance),
        b.maturity.current,
        b.maturity.target
    );
    for l in &b.maturity.levels {
        println!(
            "  level {}: {} % (needs {} %){}",
            l.level,
            pct(l.compliance),
            pct(Some(l.threshold)),
            if l.reached { ", reached" } else { "" }
        );
    }
    println!(
        "risk: highest {}, mean {}, pairs by level {:?}",
        num(b.risk.max),
        num(b.risk.mean),
        b.risk.by_level
    );
    println!("\ntop of the improvement plan:");
    for p in view.plan.iter().take(5) {
        println!(
            "  {}. [level {}] {} (risk reduction {})",
            p.rank,
            p.level,
            p.control,
            num(p.risk_reduction)
        );
        for a in p.actions.iter().take(3) {
            println!("       - {a}");
        }
    }
    println!("\nreport: {}", report.display());
    println!("next: mmsm isms board {id} | mmsm isms plan {id} --explain | mmsm isms answer {id} SUBCONTROL yes");
    Ok(())
}

/// `isms rebase --all --schema ID [--version N]`, with a progress bar.
fn rebase_all(
    global: &Global,
    kernel: &Kernel,
    who: &Principal,
    schema: &str,
    version: Option<u32>,
) -> Result<(), Failure> {
    let bar = if global.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "re-basing {bar:30} {pos}/{len} ISMSs ({eta} left)",
            )
            .expect("a valid template"),
        );
        bar
    };
    let (to, outcomes) = kernel
        .rebase_all(who, schema, version, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        })
        .map_err(service_failure)?;
    bar.finish_and_clear();
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o, RebaseOne::Failed { .. }))
        .count();
    if global.json {
        print_json(&serde_json::json!({ "schema": schema, "version": to, "isms": outcomes }))?;
    } else {
        let moved = outcomes
            .iter()
            .filter(|o| matches!(o, RebaseOne::Rebased { .. }))
            .count();
        let current = outcomes.len() - moved - failed;
        println!(
            "{moved} ISMSs re-based on {schema}@{to}; {current} already there; {failed} refused"
        );
        for outcome in &outcomes {
            if let RebaseOne::Failed { isms, error } = outcome {
                println!("  {isms}: {error}");
            }
        }
    }
    if failed > 0 {
        return Err(Failure::from_error(format!(
            "{failed} ISMSs could not be re-based on {schema}@{to} (each is left as it was)"
        )));
    }
    Ok(())
}

/// `isms obligations`: a summary line, the obligations that apply, those undetermined
/// and, with `all`, those that do not apply.
fn print_obligations(name: &str, rows: &[reports::ObligationRow], all: bool) {
    use mmsm_model::Applicability;
    let applying: Vec<&reports::ObligationRow> = rows
        .iter()
        .filter(|o| o.applies == Applicability::Applies)
        .collect();
    let undetermined = rows
        .iter()
        .filter(|o| matches!(o.applies, Applicability::Undetermined(_)))
        .count();
    let owned: Vec<reports::ObligationRow> = applying.iter().map(|o| (*o).clone()).collect();
    let summary = reports::obligations_summary(&owned, undetermined);
    println!(
        "Laws and obligations of {name}, {} in the catalogue: {}\n",
        rows.len(),
        if summary.is_empty() {
            "none applies."
        } else {
            &summary
        }
    );
    if rows.is_empty() {
        println!("The schema has no legal catalogue (`obligations:`).");
        return;
    }
    let mut table = Table::new(&[
        "SOURCE",
        "REFERENCE",
        "OBLIGATION",
        "COMPLIANCE",
        "STATE",
        "CONTROLS",
    ]);
    for o in &applying {
        table.row(vec![
            o.source.clone(),
            o.reference.clone(),
            o.title.clone(),
            pct(o.compliance),
            o.state.clone(),
            o.controls
                .iter()
                .map(|c| format!("{} {}", c.control, pct(c.compliance)))
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    table.print();
    let undetermined: Vec<&reports::ObligationRow> = rows
        .iter()
        .filter(|o| matches!(o.applies, Applicability::Undetermined(_)))
        .collect();
    if !undetermined.is_empty() {
        println!("\nNot yet determined:");
        for o in undetermined {
            println!("  {}: {}", o.label(), o.because);
        }
    }
    if all {
        println!("\nDo not apply:");
        for o in rows
            .iter()
            .filter(|o| o.applies == Applicability::DoesNotApply)
        {
            println!("  {}: {}", o.label(), o.because);
        }
    }
}
