//! The MSGS commands: `isms user`, `culture`, `proc`, `suggestion`,
//! `isms plan --set`, and `schema stats`.
//!
//! In the maintenance zone `--as USER` names a user of the ISMS the command
//! targets, who acts with the roles the ISMS gives them; without `--as` the
//! local operator acts (every role), but procedure moves need a named user.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::Path;

use mmsm_engine::Delta;
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::msgs::culture::CultureStatus;
use mmsm_kernel::services::msgs::procedures::{InstanceView, Moved};
use mmsm_kernel::services::msgs::{MaintenanceFigures, PlanSet, Suggestion, SuggestionStatus};
use mmsm_kernel::services::Kernel;
use mmsm_model::{DepartmentId, RoleId, User, UserId};

use crate::args::{
    CultureCommand, EvidenceCommand, Global, ProcCommand, SuggestionCommand, UserCommand,
};
use crate::output::{print_json, Failure, Table};
use crate::schema_cmd::service_failure;
use crate::{open_kernel, principal};

/// The principal acting on ISMS `isms`: the `--as` user with the roles the ISMS gives them.
pub(crate) fn acting(global: &Global, kernel: &Kernel, isms: &str) -> Result<Principal, Failure> {
    match &global.as_user {
        None => Ok(principal(global, kernel)),
        Some(user) => kernel.principal_for(isms, user).map_err(service_failure),
    }
}

fn isms_of(instance: &str) -> &str {
    instance.split_once('/').map_or(instance, |(isms, _)| isms)
}

fn date(seconds: u64) -> String {
    chrono::DateTime::from_timestamp(seconds as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn value(v: Option<f64>) -> String {
    v.map_or_else(
        || "n/a".to_owned(),
        |v| {
            let text = format!("{v:.4}");
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        },
    )
}

fn print_deltas(deltas: &[Delta]) {
    for d in deltas {
        println!(
            "    {} {} -> {}",
            d.subject,
            value(d.before),
            value(d.after)
        );
    }
}

/// Reads a YAML or JSON file into a JSON value.
fn read_document(path: &Path) -> Result<serde_json::Value, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::from_error(format!("{}: {e}", path.display())))?;
    mmsm_kernel::services::msgs::registers::parse_data(&text)
        .map_err(|e| Failure::from_error(format!("{}: not YAML or JSON: {e}", path.display())))
}

/// `mmsm isms user ...`.
/// `mmsm isms evidence add|list`.
pub fn evidence(
    global: &Global,
    kernel: &Kernel,
    command: &EvidenceCommand,
) -> Result<(), Failure> {
    match command {
        EvidenceCommand::Add { isms, file, name } => {
            let who = acting(global, kernel, isms)?;
            let contents = std::fs::read(file)
                .map_err(|e| Failure::from_error(format!("cannot read {}: {e}", file.display())))?;
            let name = match name {
                Some(name) => name.clone(),
                None => file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            let kept = kernel
                .add_evidence(&who, isms, &name, &contents)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&kept);
            }
            println!(
                "kept {} for {isms}: {} bytes, sha256 {}; `mmsm metric run {isms}` reads it",
                kept.name, kept.size, kept.sha256
            );
            Ok(())
        }
        EvidenceCommand::List { isms } => {
            let who = acting(global, kernel, isms)?;
            let files = kernel.list_evidence(&who, isms).map_err(service_failure)?;
            if global.json {
                return print_json(&files);
            }
            if files.is_empty() {
                println!("{isms} has no evidence file yet: add one with `mmsm isms evidence add {isms} FILE`");
                return Ok(());
            }
            let mut table = Table::new(&["NAME", "BYTES", "SHA256", "GIVEN BY", "WHEN"]);
            for f in &files {
                table.row(vec![
                    f.name.clone(),
                    f.size.to_string(),
                    f.sha256[..12].to_owned(),
                    f.uploaded_by.clone(),
                    crate::output::datetime(f.at),
                ]);
            }
            table.print();
            Ok(())
        }
    }
}

pub fn users(global: &Global, kernel: &Kernel, command: &UserCommand) -> Result<(), Failure> {
    match command {
        UserCommand::Add {
            isms,
            user,
            name,
            roles,
            department,
        } => {
            let who = acting(global, kernel, isms)?;
            let changed = kernel
                .add_user(
                    &who,
                    isms,
                    User {
                        id: UserId::new(user.clone()),
                        name: name.clone(),
                        roles: roles.iter().map(|r| RoleId::new(r.clone())).collect(),
                        department: department.clone().map(DepartmentId::new),
                        email: None,
                    },
                )
                .map_err(service_failure)?;
            if global.json {
                return print_json(&changed);
            }
            println!("added {user} to {isms} with roles {}", roles.join(", "));
            println!("next: `mmsm culture test {isms} {user}` gives them their certificate");
            print_deltas(&changed.board);
            Ok(())
        }
        UserCommand::List { isms } => {
            let who = acting(global, kernel, isms)?;
            let status = kernel.culture_status(&who, isms).map_err(service_failure)?;
            let users = kernel.users(&who, isms).map_err(service_failure)?;
            if global.json {
                return print_json(&users);
            }
            let mut table = Table::new(&["USER", "NAME", "ROLES", "DEPARTMENT", "CERTIFICATE"]);
            for u in &users {
                let cert = status
                    .users
                    .iter()
                    .find(|r| r.user == u.id)
                    .map(|r| r.status.as_str())
                    .unwrap_or("none");
                table.row(vec![
                    u.id.to_string(),
                    u.name.clone(),
                    u.roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    u.department
                        .as_ref()
                        .map(|d| d.to_string())
                        .unwrap_or_default(),
                    cert.to_owned(),
                ]);
            }
            table.print();
            Ok(())
        }
        UserCommand::Remove { isms, user } => {
            let who = acting(global, kernel, isms)?;
            let changed = kernel
                .remove_user(&who, isms, user)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&changed);
            }
            println!("removed {user} from {isms}");
            print_deltas(&changed.board);
            Ok(())
        }
        UserCommand::Roles { isms, user, roles } => {
            let who = acting(global, kernel, isms)?;
            let changed = kernel
                .set_user_roles(
                    &who,
                    isms,
                    user,
                    roles.iter().map(|r| RoleId::new(r.clone())).collect(),
                )
                .map_err(service_failure)?;
            if global.json {
                return print_json(&changed);
            }
            println!(
                "{user}: roles {} -> {}",
                changed
                    .roles_before
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                roles.join(", ")
            );
            if let Some(reason) = &changed.revoked {
                println!(
                    "certificate revoked: {reason}; `mmsm culture test {isms} {user}` renews it"
                );
            }
            print_deltas(&changed.board);
            Ok(())
        }
    }
}

/// `mmsm culture ...`.
pub fn culture(global: &Global, command: &CultureCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    match command {
        CultureCommand::Test {
            isms,
            user,
            seed,
            answers,
        } => {
            let who = acting(global, &kernel, isms)?;
            let seed = seed.unwrap_or_else(|| kernel.now_nanos() as u64);
            let test = kernel
                .draw_culture_test(&who, isms, user, seed)
                .map_err(service_failure)?;
            let answers: BTreeMap<String, usize> = match answers {
                Some(path) => serde_json::from_value(read_document(path)?).map_err(|e| {
                    Failure::from_error(format!(
                        "{}: expected a map question id -> option index (from 0): {e}",
                        path.display()
                    ))
                })?,
                None => ask(&test, global.json)?,
            };
            let result = kernel
                .take_culture_test(&who, isms, user, seed, &answers)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&result);
            }
            println!(
                "{user}: {} with {:.0} % (needs {:.0} % overall and {:.0} % for each regulation)",
                if result.passed {
                    "passed"
                } else {
                    "not passed"
                },
                result.score * 100.0,
                result.pass_mark * 100.0,
                result.regulation_min * 100.0
            );
            for (regulation, score) in &result.per_regulation {
                println!(
                    "  {regulation}: {} of {}{}",
                    score.right,
                    score.drawn,
                    if score.passed {
                        ""
                    } else {
                        " (below the minimum per regulation)"
                    }
                );
            }
            match &result.certificate {
                Some(cert) => println!("certificate valid until {}", date(cert.expires_at)),
                None => println!(
                    "{} attempts left this week; review the rules and try again",
                    result.attempts_left
                ),
            }
            print_deltas(&result.board);
            Ok(())
        }
        CultureCommand::Status { isms } => {
            let who = acting(global, &kernel, isms)?;
            let status = kernel.culture_status(&who, isms).map_err(service_failure)?;
            if global.json {
                return print_json(&status);
            }
            print_culture(&status);
            Ok(())
        }
    }
}

/// Asks the drawn questions on the terminal.
/// Prompts go to stdout, or to stderr with `--json` so that stdout stays one document.
fn ask(
    test: &mmsm_kernel::services::msgs::CultureTest,
    json: bool,
) -> Result<BTreeMap<String, usize>, Failure> {
    let mut out: Box<dyn Write> = if json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    let mut say = |text: String| {
        writeln!(out, "{text}").ok();
        out.flush().ok();
    };
    say(format!(
        "security-culture test of {} ({} questions on {}); answer with the option's number",
        test.user,
        test.questions.len(),
        test.regulations
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut answers = BTreeMap::new();
    for (n, q) in test.questions.iter().enumerate() {
        say(format!("\n{}. {}", n + 1, q.text));
        for (i, option) in q.options.iter().enumerate() {
            say(format!("   {}) {option}", i + 1));
        }
        loop {
            say("> (type the option's number)".into());
            let Some(line) = lines.next() else {
                return Err(Failure::from_error(
                    "the test was interrupted before its last question; no attempt was counted (use --answers FILE for scripted use)",
                ));
            };
            let line = line.map_err(Failure::from_error)?;
            match line.trim().parse::<usize>() {
                Ok(k) if (1..=q.options.len()).contains(&k) => {
                    answers.insert(q.id.to_string(), k - 1);
                    break;
                }
                _ => say(format!("   type a number from 1 to {}", q.options.len())),
            }
        }
    }
    Ok(answers)
}

fn print_culture(status: &CultureStatus) {
    let mut table = Table::new(&["USER", "NAME", "STATUS", "EXPIRES", "NEEDS"]);
    for row in &status.users {
        table.row(vec![
            row.user.to_string(),
            row.name.clone(),
            row.status.as_str().to_owned(),
            row.expires_at.map(date).unwrap_or_default(),
            row.needs.clone(),
        ]);
    }
    table.print();
    match status.share {
        Some(share) => println!(
            "\nculture share: {:.0} % of the users who need a certificate hold a valid one (measured on {})",
            share * 100.0,
            if status.subcontrols.is_empty() {
                "no subcontrol: the schema names no awareness control".to_owned()
            } else {
                status.subcontrols.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            }
        ),
        None => println!("\nno user needs a certificate"),
    }
    if !status.board.is_empty() {
        println!("certificates expired since the last change; the board moved:");
        print_deltas(&status.board);
    }
}

fn data_of(
    path: Option<&Path>,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, Failure> {
    let Some(path) = path else { return Ok(None) };
    match read_document(path)? {
        serde_json::Value::Object(map) => Ok(Some(map)),
        serde_json::Value::Null => Ok(None),
        _ => Err(Failure::from_error(format!(
            "{}: expected a map of field -> value (or register -> fields)",
            path.display()
        ))),
    }
}

fn print_moved(moved: &Moved) {
    let i = &moved.instance;
    println!(
        "{} is in phase `{}`{}",
        i.id,
        i.phase,
        if i.closed { " (closed)" } else { "" }
    );
    for path in &i.paths {
        println!(
            "  next: {} (roles {})",
            path.phase,
            path.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for s in &moved.suggestions {
        println!("suggestion {}: {}", s.id, s.reason);
        println!("  review it with `mmsm suggestion list {}`", s.isms);
    }
    for note in &moved.notes {
        println!("note: {note}");
    }
}

fn print_instance(i: &InstanceView) {
    println!(
        "{} ({}), phase `{}`{}",
        i.id,
        i.procedure,
        i.phase,
        if i.closed { ", closed" } else { "" }
    );
    for path in &i.paths {
        println!(
            "  next: {} (roles {})",
            path.phase,
            path.roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for c in &i.clocks {
        println!(
            "  {}: {}",
            c.name,
            if c.met {
                "done".to_owned()
            } else {
                format!("due by {}", date(c.due))
            }
        );
    }
    println!("history:");
    for t in &i.history {
        println!(
            "  {} {} {} -> {}",
            date(t.at),
            t.user,
            t.from.as_ref().map_or("start", |f| f.as_str()),
            t.to
        );
    }
    for (register, fields) in &i.registers {
        println!("register {register}:");
        for (k, v) in fields {
            println!("  {k}: {v}");
        }
    }
}

/// `mmsm proc ...`.
pub fn procedures(global: &Global, command: &ProcCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let need_as = |verb: &str| {
        if global.as_user.is_none() {
            return Err(Failure::from_error(format!(
                "{verb} a procedure needs the user who acts: add --as USER (a user of the ISMS), since the move checks that user's roles and culture certificate"
            )));
        }
        Ok(())
    };
    match command {
        ProcCommand::Start {
            isms,
            procedure,
            fields,
        } => {
            need_as("starting")?;
            let who = acting(global, &kernel, isms)?;
            let moved = kernel
                .start_procedure(&who, isms, procedure, data_of(fields.as_deref())?)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&moved);
            }
            print_moved(&moved);
            Ok(())
        }
        ProcCommand::Advance {
            instance,
            phase,
            fields,
        } => {
            need_as("moving")?;
            let who = acting(global, &kernel, isms_of(instance))?;
            let moved = kernel
                .advance_procedure(&who, instance, phase, data_of(fields.as_deref())?)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&moved);
            }
            print_moved(&moved);
            Ok(())
        }
        ProcCommand::List { isms, open } => {
            let who = acting(global, &kernel, isms)?;
            let list = kernel
                .procedure_instances(&who, isms, *open)
                .map_err(service_failure)?;
            let figures = kernel
                .maintenance_figures(&who, isms)
                .map_err(service_failure)?;
            if global.json {
                return print_json(
                    &serde_json::json!({ "instances": list, "schedule": figures.schedule }),
                );
            }
            if list.is_empty() {
                println!(
                    "no {}instance yet: start one with `mmsm proc start {isms} PROCEDURE --as USER`",
                    if *open { "open " } else { "" }
                );
            } else {
                let mut table = Table::new(&["INSTANCE", "PROCEDURE", "PHASE", "STATE", "STARTED"]);
                for i in &list {
                    table.row(vec![
                        i.id.clone(),
                        i.procedure.to_string(),
                        i.phase.to_string(),
                        if i.closed {
                            "closed".into()
                        } else {
                            "open".into()
                        },
                        i.history.first().map(|t| date(t.at)).unwrap_or_default(),
                    ]);
                }
                table.print();
            }
            if !figures.schedule.is_empty() {
                println!("\nscheduled executions:");
                let mut table = Table::new(&["PROCEDURE", "EVERY", "LAST DONE", "DUE", "STATE"]);
                for s in &figures.schedule {
                    table.row(vec![
                        s.procedure.to_string(),
                        s.schedule.clone(),
                        s.last_done.map(date).unwrap_or_else(|| "never".into()),
                        date(s.due),
                        if s.overdue {
                            "overdue".into()
                        } else {
                            "on time".into()
                        },
                    ]);
                }
                table.print();
            }
            Ok(())
        }
        ProcCommand::Show { instance } => {
            let who = acting(global, &kernel, isms_of(instance))?;
            let view = kernel
                .procedure_instance(&who, instance)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&view);
            }
            print_instance(&view);
            Ok(())
        }
    }
}

fn print_suggestion(s: &Suggestion) {
    let status = match s.status {
        SuggestionStatus::Open => "open",
        SuggestionStatus::Accepted => "accepted",
        SuggestionStatus::Rejected => "rejected",
    };
    println!("{} [{status}] {}", s.id, s.reason);
    for c in &s.changes {
        println!("    {}: {} -> {}", c.why, value(c.before), value(c.after));
    }
}

/// `mmsm suggestion ...`.
pub fn suggestions(global: &Global, command: &SuggestionCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    match command {
        SuggestionCommand::List { isms } => {
            let who = acting(global, &kernel, isms)?;
            let list = kernel.suggestions(&who, isms).map_err(service_failure)?;
            if global.json {
                return print_json(&list);
            }
            if list.is_empty() {
                println!("no suggestion: closing an incident that names a threat, assets and damage raises one");
            }
            for s in &list {
                print_suggestion(s);
            }
            Ok(())
        }
        SuggestionCommand::Accept { isms, id } => {
            let who = acting(global, &kernel, isms)?;
            let s = kernel
                .accept_suggestion(&who, isms, id)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&s);
            }
            println!("accepted {}: {} board values changed", s.id, s.effect.len());
            print_deltas(&s.effect);
            Ok(())
        }
        SuggestionCommand::Reject { isms, id, reason } => {
            let who = acting(global, &kernel, isms)?;
            let s = kernel
                .reject_suggestion(&who, isms, id, reason.clone())
                .map_err(service_failure)?;
            if global.json {
                return print_json(&s);
            }
            println!("rejected {}; the risk model stays as it was", s.id);
            Ok(())
        }
    }
}

/// `mmsm isms plan ID --set RANK key=value...`.
pub fn set_plan(
    global: &Global,
    kernel: &Kernel,
    isms: &str,
    rank: usize,
    settings: &[String],
) -> Result<(), Failure> {
    if settings.is_empty() {
        return Err(Failure::from_error(
            "--set RANK needs settings after it: owner=USER, due=YYYY-MM-DD, done, undone or result=TEXT",
        ));
    }
    let sets = settings
        .iter()
        .map(|s| PlanSet::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Failure::from_error)?;
    let who = acting(global, kernel, isms)?;
    let row = kernel
        .set_plan(&who, isms, rank, &sets)
        .map_err(service_failure)?;
    if global.json {
        return print_json(&row);
    }
    let f = &row.follow_up;
    println!(
        "plan item {} ({}@{}): owner {}, due {}, {}",
        row.item.rank,
        row.item.control,
        row.item.level,
        f.owner.as_deref().unwrap_or("-"),
        f.due.as_deref().unwrap_or("-"),
        if f.done_at.is_some() {
            "done"
        } else if row.overdue {
            "overdue"
        } else {
            "open"
        }
    );
    Ok(())
}

/// The maintenance part of the board.
pub fn print_figures(f: &MaintenanceFigures) {
    println!("\nmaintenance:");
    match f.culture_share {
        Some(share) => println!(
            "  culture: {} of {} users certified ({:.0} %)",
            f.users_certified,
            f.users_needing,
            share * 100.0
        ),
        None => println!("  culture: no user needs a certificate"),
    }
    println!(
        "  procedures: {} open, {} scheduled on time, {} overdue",
        f.procedures_open, f.procedures_on_time, f.procedures_overdue
    );
    println!("  suggestions open: {}", f.suggestions_open);
    println!(
        "  plan: {} items done, {} overdue",
        f.plan_done, f.plan_overdue
    );
    println!(
        "  findings: {} open ({} major), {} corrective actions overdue",
        f.findings.open, f.findings.open_major, f.findings.overdue
    );
    println!("  audits overdue: {}", f.audits_overdue);
}

/// `mmsm schema stats ID [--suggest]`.
pub fn stats(
    global: &Global,
    kernel: &Kernel,
    who: &Principal,
    id: &str,
    suggest: bool,
) -> Result<(), Failure> {
    let stats = kernel
        .schema_stats(who, id, suggest)
        .map_err(service_failure)?;
    if global.json {
        return print_json(&stats);
    }
    println!("schema {}: {} enterprises", stats.schema, stats.enterprises);
    if stats.enterprises == 0 {
        println!("no ISMS was generated from it yet: the statistics are empty");
        return Ok(());
    }
    println!("\nmost frequent gaps:");
    for g in &stats.gaps {
        println!(
            "  {} {} (level {}): not met in {:.0} %",
            g.subcontrol,
            g.text,
            g.level,
            g.gap_share.unwrap_or(0.0) * 100.0
        );
    }
    if !stats.incidents.is_empty() {
        println!("\nincidents:");
        for i in &stats.incidents {
            println!(
                "  {} on {}: {} incidents, {:.0} per 100 exposed enterprises a year (schema P = {})",
                i.threat,
                i.asset_type,
                i.incidents,
                i.observed,
                value(i.schema_probability)
            );
        }
    }
    if !stats.trends.is_empty() {
        println!("\ncompliance per month:");
        for t in &stats.trends {
            println!(
                "  {}: {} % over {} enterprises",
                t.month,
                value(t.compliance),
                t.enterprises
            );
        }
    }
    if suggest {
        println!("\nsuggested schema changes (never applied automatically):");
        if stats.suggestions.is_empty() {
            println!("  none: the statistics agree with the schema");
        }
        for s in &stats.suggestions {
            println!(
                "  [{}] {}: {} -> {}: {}",
                s.kind,
                s.target,
                value(s.current),
                value(s.proposed),
                s.reason
            );
        }
    }
    Ok(())
}
