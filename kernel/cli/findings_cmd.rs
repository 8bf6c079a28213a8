//! `mmsm finding`: audit findings and their corrective actions, and the
//! audit programme of `mmsm isms audits` / `isms audit-held`.
//!
//! `--as USER` names an account (the auditor, the consultant) or a user of
//! the ISMS (the officer, the owner of an action); without it the local
//! operator acts.

use chrono::NaiveDate;

use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{FindingKind, FindingView, Kernel, NewFinding, Response};

use crate::args::{FindingCommand, Global};
use crate::open_kernel;
use crate::output::{datetime, print_json, Failure, Table};
use crate::schema_cmd::service_failure;

/// Who acts on ISMS `isms`: an account of that name, else a user of the ISMS.
pub(crate) fn actor(global: &Global, kernel: &Kernel, isms: &str) -> Result<Principal, Failure> {
    match &global.as_user {
        None => Ok(Principal::local_operator()),
        Some(user) => match kernel.account_principal(user) {
            Ok(Some(principal)) => Ok(principal),
            _ => kernel.principal_for(isms, user).map_err(service_failure),
        },
    }
}

/// A date as YYYY-MM-DD, or a clear error naming the flag.
pub(crate) fn parse_day(flag: &str, text: &str) -> Result<NaiveDate, Failure> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        Failure::from_error(format!(
            "{flag} `{text}` is not a date; expected YYYY-MM-DD, e.g. 2027-03-01"
        ))
    })
}

fn print_finding(f: &FindingView) {
    let finding = &f.finding;
    println!(
        "{} {} on control {} ({}){}",
        f.id,
        f.kind_words,
        finding.control,
        f.control_title,
        finding
            .procedure
            .as_ref()
            .map(|p| format!(", procedure {p}"))
            .unwrap_or_default()
    );
    println!("  {}", finding.text);
    println!(
        "  raised by {} on {}{}",
        finding.raised.by,
        datetime(finding.raised.at),
        finding
            .audit
            .as_ref()
            .map(|a| format!(" in audit {a}"))
            .unwrap_or_default()
    );
    if let Some(e) = &finding.evidence {
        println!("  evidence: {} (sha256 {})", e.name, &e.sha256[..12]);
    }
    if let Some(r) = &finding.response {
        println!(
            "  corrective action: {} (owner {}, due {}, set by {})",
            r.action, r.owner, r.due, r.by
        );
        if let Some(done) = &r.done {
            println!(
                "  done: {} on {}{}",
                done.by,
                datetime(done.at),
                done.note
                    .as_ref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            );
        }
    }
    println!("  state: {}", f.state);
}

/// Runs a `finding` subcommand.
pub fn run(global: &Global, command: &FindingCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    match command {
        FindingCommand::Add {
            isms,
            control,
            procedure,
            audit,
            kind,
            text,
            evidence,
        } => {
            let kind = FindingKind::parse(kind).map_err(Failure::from_error)?;
            let evidence = match evidence {
                Some(path) => {
                    let contents = std::fs::read(path).map_err(|e| {
                        Failure::from_error(format!("cannot read {}: {e}", path.display()))
                    })?;
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    Some((name, contents))
                }
                None => None,
            };
            let who = actor(global, &kernel, isms)?;
            let added = kernel
                .add_finding(
                    &who,
                    isms,
                    NewFinding {
                        control: control.clone(),
                        procedure: procedure.clone(),
                        audit: audit.clone(),
                        kind,
                        text: text.clone(),
                        evidence,
                    },
                )
                .map_err(service_failure)?;
            if global.json {
                return print_json(&added);
            }
            println!(
                "recorded {} on {isms}: {} on control {}",
                added.id, added.kind_words, added.finding.control
            );
            if kind == FindingKind::Major {
                println!(
                    "control {} now counts as not implemented until the auditor closes {}",
                    added.finding.control, added.id
                );
            }
            Ok(())
        }
        FindingCommand::List { isms, open } => {
            let who = actor(global, &kernel, isms)?;
            let list = kernel
                .list_findings(&who, isms, *open)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("{isms} has no {}finding", if *open { "open " } else { "" });
                return Ok(());
            }
            let mut table = Table::new(&["FINDING", "KIND", "CONTROL", "RAISED", "STATE"]);
            for f in &list {
                table.row(vec![
                    f.id.clone(),
                    f.kind_words.to_owned(),
                    f.finding.control.to_string(),
                    datetime(f.finding.raised.at),
                    f.state.clone(),
                ]);
            }
            table.print();
            Ok(())
        }
        FindingCommand::Show { isms, finding } => {
            let who = actor(global, &kernel, isms)?;
            let f = kernel
                .finding(&who, isms, finding)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&f);
            }
            print_finding(&f);
            Ok(())
        }
        FindingCommand::Respond {
            isms,
            finding,
            action,
            owner,
            due,
        } => {
            let due = parse_day("--due", due)?;
            let who = actor(global, &kernel, isms)?;
            let f = kernel
                .respond_finding(
                    &who,
                    isms,
                    finding,
                    Response {
                        action: action.clone(),
                        owner: owner.clone(),
                        due,
                    },
                )
                .map_err(service_failure)?;
            if global.json {
                return print_json(&f);
            }
            println!("{} {}: {}", isms, f.id, f.state);
            Ok(())
        }
        FindingCommand::Done {
            isms,
            finding,
            note,
        }
        | FindingCommand::Close {
            isms,
            finding,
            note,
        } => {
            let who = actor(global, &kernel, isms)?;
            let f = if matches!(command, FindingCommand::Done { .. }) {
                kernel.finding_action_done(&who, isms, finding, note.clone())
            } else {
                kernel.close_finding(&who, isms, finding, note.clone())
            }
            .map_err(service_failure)?;
            if global.json {
                return print_json(&f);
            }
            println!("{} {}: {}", isms, f.id, f.state);
            Ok(())
        }
    }
}

/// `mmsm isms audits ID`.
pub fn audits(global: &Global, kernel: &Kernel, id: &str) -> Result<(), Failure> {
    let who = actor(global, kernel, id)?;
    let rows = kernel.audit_programme(&who, id).map_err(service_failure)?;
    if global.json {
        return print_json(&rows);
    }
    if rows.is_empty() {
        println!("the schema of {id} schedules no audit (its `certification.audits`)");
        return Ok(());
    }
    let mut table = Table::new(&["AUDIT", "KIND", "EVERY", "LAST HELD", "DUE", "FINDINGS"]);
    for a in &rows {
        table.row(vec![
            format!("{} ({})", a.plan.name, a.plan.id),
            a.plan.kind.as_str().to_owned(),
            a.every_words.clone(),
            a.last.map_or("never".into(), |d| d.to_string()),
            if a.overdue {
                format!("overdue since {}", a.due)
            } else {
                a.due.to_string()
            },
            a.findings.to_string(),
        ]);
    }
    table.print();
    Ok(())
}

/// `mmsm isms audit-held ID AUDIT [--on DATE] [--note]`.
pub fn audit_held(
    global: &Global,
    kernel: &Kernel,
    id: &str,
    audit: &str,
    on: Option<&str>,
    note: Option<String>,
) -> Result<(), Failure> {
    let on = match on {
        Some(text) => parse_day("--on", text)?,
        None => kernel.now_utc().date_naive(),
    };
    let who = actor(global, kernel, id)?;
    let held = kernel
        .record_audit(&who, id, audit, on, note)
        .map_err(service_failure)?;
    if global.json {
        return print_json(&held);
    }
    println!(
        "{id}: {} audit {} held on {}, recorded by {}",
        held.kind.as_str(),
        held.audit,
        held.on,
        held.by
    );
    Ok(())
}
