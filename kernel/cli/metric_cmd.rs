//! `mmsm metric run|list`: metrics of an ISMS (DESIGN.md 6.1).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mmsm_kernel::services::{MetricListing, MetricsRun};
use mmsm_registry::{format_utc, Registry};

use crate::args::{Global, MetricCommand};
use crate::isms_cmd::pct;
use crate::output::{print_json, Failure, Table};
use crate::schema_cmd::service_failure;
use crate::scripts_cmd::registry_config;
use crate::{open_kernel, principal};

/// Runs a `metric` subcommand.
pub fn run(global: &Global, command: &MetricCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    let now = SystemTime::from(kernel.now_utc());
    let (registry, _) = Registry::load(registry_config(global));
    match command {
        MetricCommand::Run { isms, metric } => {
            let run = kernel
                .run_metrics(&who, &registry, isms, metric.as_deref(), now)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&run);
            }
            print_run(&run);
            if run.metrics.iter().all(|m| m.error.is_some()) && !run.metrics.is_empty() {
                return Err(Failure::from_error("every metric failed"));
            }
            Ok(())
        }
        MetricCommand::List { isms } => {
            let listing = kernel
                .list_metrics(&who, isms, Some(&registry), now)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&listing);
            }
            print_listing(&listing);
            Ok(())
        }
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

fn print_run(run: &MetricsRun) {
    if run.metrics.is_empty() {
        println!("{}: no metric to run", run.isms);
    }
    let mut table = Table::new(&["METRIC", "VALUE", "SCORE", "SUBCONTROLS SET"]);
    for m in &run.metrics {
        match &m.error {
            Some(error) => table.row(vec![
                m.metric.to_string(),
                "-".into(),
                "-".into(),
                format!("failed: {error}"),
            ]),
            None if m.value.is_none() => table.row(vec![
                m.metric.to_string(),
                "-".into(),
                "-".into(),
                "nothing to measure yet: the answers stand".into(),
            ]),
            None if m.subcontrols.is_empty() => table.row(vec![
                m.metric.to_string(),
                m.value.map_or_else(|| "-".into(), number),
                "-".into(),
                "none: an indicator, shown for information".into(),
            ]),
            None => table.row(vec![
                m.metric.to_string(),
                m.value.map_or_else(|| "-".into(), number),
                m.score.map_or_else(|| "-".into(), |s| format!("{s:.2}")),
                m.subcontrols
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ]),
        }
    }
    if !run.metrics.is_empty() {
        table.print();
    }
    if !run.expired.is_empty() {
        let expired: Vec<String> = run.expired.iter().map(ToString::to_string).collect();
        println!(
            "stale measured values removed (back to the answers): {}",
            expired.join(", ")
        );
    }
    if run.deltas.is_empty() {
        println!("the board did not change");
    } else {
        println!("board: {} values changed", run.deltas.len());
        let show = |v: Option<f64>| v.map_or_else(|| "-".into(), number);
        let mut others = 0;
        for d in &run.deltas {
            if is_board_row(&d.subject.to_string()) {
                println!("  {} {} -> {}", d.subject, show(d.before), show(d.after));
            } else {
                others += 1;
            }
        }
        if others > 0 {
            println!("  and {others} risk and plan values (--json lists every delta)");
        }
    }
    println!(
        "compliance {} %, maturity level {} of 3 (target {})",
        pct(run.board.compliance),
        run.board.maturity.current,
        run.board.maturity.target
    );
}

/// The deltas a person reads on the board: compliance, levels and the risk summary.
fn is_board_row(subject: &str) -> bool {
    subject == "isms"
        || subject == "flagged"
        || subject.starts_with("maturity.")
        || subject.starts_with("level:")
        || subject.starts_with("domain:")
        || subject.starts_with("objective:")
        || subject.starts_with("control:")
        || matches!(subject, "risk.max" | "risk.mean" | "risk.total")
        || subject.starts_with("risk.by_level")
}

fn print_listing(listing: &MetricListing) {
    if listing.metrics.is_empty() {
        println!("{}: no metric is bound to this ISMS", listing.isms);
        return;
    }
    let mut table = Table::new(&[
        "METRIC",
        "SOURCE",
        "SCHEDULE",
        "LAST VALUE",
        "SCORE",
        "AT",
        "FRESHNESS",
        "SUBCONTROLS",
    ]);
    for m in &listing.metrics {
        let b = &m.binding;
        table.row(vec![
            b.id.to_string(),
            b.source.clone(),
            b.schedule.clone(),
            m.last
                .as_ref()
                .map_or_else(|| "-".into(), |v| number(v.value)),
            m.last
                .as_ref()
                .and_then(|v| v.score)
                .map_or_else(|| "-".into(), |s| format!("{s:.2}")),
            m.last.as_ref().map_or_else(
                || "-".into(),
                |v| format_utc(UNIX_EPOCH + Duration::from_secs(v.at)),
            ),
            m.freshness.as_str().into(),
            b.subcontrols
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    table.print();
    if !listing.expired.is_empty() {
        let expired: Vec<String> = listing.expired.iter().map(ToString::to_string).collect();
        println!(
            "stale measured values removed (back to the answers): {}",
            expired.join(", ")
        );
    }
}
