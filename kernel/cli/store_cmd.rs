//! `mmsm store`: the store itself, whichever backend holds it.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::Kernel;
use mmsm_store::compact::{self, Compacted};
use mmsm_store::{Location, Store};

use crate::args::{Global, StoreCommand};
use crate::output::{print_json, Failure};
use crate::schema_cmd::service_failure;
use crate::{open_kernel, principal, store_location};

/// Runs `mmsm store`.
pub fn run(global: &Global, command: &StoreCommand) -> Result<(), Failure> {
    match command {
        StoreCommand::Compact {
            keep_days,
            keep_all,
            dry_run,
        } => match store_location(global) {
            Location::Folder(dir) => {
                compact_store(global, &dir, (!keep_all).then_some(*keep_days), *dry_run)
            }
            Location::Postgres(_) => {
                thin_database(global, (!keep_all).then_some(*keep_days), *dry_run)
            }
        },
        StoreCommand::Copy { from, to } => copy_store(global, from, to),
    }
}

/// `store copy`: every record of one store into an empty other, then the
/// audit trail verified on the copy.
fn copy_store(global: &Global, from: &str, to: &str) -> Result<(), Failure> {
    let from = Location::choose(Some(from), &global.data);
    let to = Location::choose(Some(to), &global.data);
    if from == to {
        return Err(Failure::from_error(format!(
            "--from and --to both name the {}; copy into another folder or database",
            from.describe()
        )));
    }
    if let Location::Folder(dir) = &from {
        if !dir.join("conf").exists() {
            return Err(Failure::from_error(format!(
                "there is no store at {} to copy; --from names a store folder or a PostgreSQL URL",
                dir.display()
            )));
        }
    }
    let source = Store::open_at(&from, global.pool).map_err(Failure::from_error)?;
    let who = administrator(global, &Kernel::new(source.clone()), "copy the store")?;
    let target = Store::open_at(&to, global.pool).map_err(Failure::from_error)?;
    let bar = spinner(global, &format!("copying into the {}", to.describe()));
    let copied = compact::copy_store(source.backend().as_ref(), target.backend().as_ref(), &|n| {
        bar.set_position(n)
    });
    bar.finish_and_clear();
    let records = copied.map_err(Failure::from_error)?;
    target.flush().map_err(Failure::from_error)?;
    let verified = Kernel::new(target)
        .audit_verify(&who)
        .map_err(service_failure)?;
    let entries = match verified {
        Ok(report) => report.entries,
        Err(broken) => {
            return Err(Failure::from_error(format!(
                "the store was copied, but on the copy {broken}"
            )))
        }
    };
    if global.json {
        return print_json(&serde_json::json!({
            "from": from.describe(),
            "to": to.describe(),
            "records": records,
            "audit": { "intact": true, "entries": entries },
        }));
    }
    println!(
        "copied {records} records from the {} into the {}",
        from.describe(),
        to.describe()
    );
    println!("the audit trail is intact on the copy: {entries} records");
    Ok(())
}

/// `store compact` on PostgreSQL: the history is thinned; the database
/// reclaims the space itself (autovacuum), so there is no folder to rewrite.
fn thin_database(global: &Global, keep_days: Option<u32>, dry_run: bool) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = administrator(global, &kernel, "compact the store")?;
    let Some(days) = keep_days else {
        println!(
            "nothing to do: PostgreSQL reclaims the space of deleted and rewritten records itself (autovacuum)"
        );
        return Ok(());
    };
    let before = kernel.now().saturating_sub(u64::from(days) * 86_400);
    let bar = spinner(global, "thinning history");
    let thinned = kernel.thin_history(&who, before, dry_run, &|n| bar.set_position(n));
    bar.finish_and_clear();
    let thinned = thinned.map_err(service_failure)?;
    let day = chrono::DateTime::from_timestamp(before as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    if global.json {
        return print_json(&serde_json::json!({
            "dry_run": dry_run, "before": day, "thinned": thinned,
        }));
    }
    let verb = if dry_run { "would drop" } else { "dropped" };
    println!(
        "{verb} the changed values of {} of {} history events from before {day} ({} values); PostgreSQL reclaims the space itself (autovacuum)",
        thinned.thinned, thinned.events, thinned.values
    );
    Ok(())
}

/// The acting principal, who must be an administrator to `what`.
fn administrator(global: &Global, kernel: &Kernel, what: &str) -> Result<Principal, Failure> {
    let who = principal(global, kernel);
    if !who.admin {
        return Err(Failure::from_error(format!(
            "{} may not {what}: it takes an administrator account",
            who.user
        )));
    }
    Ok(who)
}

fn spinner(global: &Global, what: &str) -> ProgressBar {
    if global.json {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {msg}: {pos} records")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_owned());
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

fn compact_store(
    global: &Global,
    dir: &Path,
    keep_days: Option<u32>,
    dry_run: bool,
) -> Result<(), Failure> {
    compact::recover(dir).map_err(Failure::from_error)?;
    if !dir.join("conf").exists() {
        return Err(Failure::from_error(format!(
            "there is no store at {} to compact; point --data (or MMSM_DATA) at a store folder",
            dir.display()
        )));
    }
    let kernel = open_kernel(global)?;
    let who = administrator(global, &kernel, "compact the store")?;
    let cutoff = keep_days.map(|days| kernel.now().saturating_sub(u64::from(days) * 86_400));
    let thinned = match cutoff {
        Some(before) => {
            let bar = spinner(global, "thinning history");
            let done = kernel.thin_history(&who, before, dry_run, &|n| bar.set_position(n));
            bar.finish_and_clear();
            Some(done.map_err(service_failure)?)
        }
        None => None,
    };
    drop(kernel);
    let cut_day = cutoff
        .and_then(|c| chrono::DateTime::from_timestamp(c as i64, 0))
        .map(|d| d.format("%Y-%m-%d").to_string());
    if dry_run {
        if global.json {
            return print_json(&serde_json::json!({
                "dry_run": true, "before": cut_day, "thinned": thinned,
            }));
        }
        match (&thinned, &cut_day) {
            (Some(t), Some(day)) => println!(
                "would drop the changed values of {} of {} history events from before {day} ({} values); nothing was changed",
                t.thinned, t.events, t.values
            ),
            _ => println!("would rewrite the store folder; nothing was changed"),
        }
        return Ok(());
    }
    let bar = spinner(global, "rewriting the store");
    let compacted = compact::compact(dir, &|n| bar.set_position(n));
    bar.finish_and_clear();
    let compacted: Compacted = compacted.map_err(Failure::from_error)?;
    let kernel = open_kernel(global)?;
    let verified = kernel.audit_verify(&who).map_err(service_failure)?;
    let entries = match &verified {
        Ok(report) => report.entries,
        Err(broken) => {
            return Err(Failure::from_error(format!(
                "the store was compacted, but {broken}; restore the store from a backup"
            )))
        }
    };
    if global.json {
        return print_json(&serde_json::json!({
            "before": cut_day,
            "thinned": thinned,
            "compacted": compacted,
            "audit": { "intact": true, "entries": entries },
        }));
    }
    if let (Some(t), Some(day)) = (&thinned, &cut_day) {
        println!(
            "dropped the changed values of {} of {} history events from before {day} ({} values)",
            t.thinned, t.events, t.values
        );
    }
    let mb = |b: u64| b as f64 / 1_048_576.0;
    println!(
        "rewrote the store at {}: {} records, {:.1} MB -> {:.1} MB",
        dir.display(),
        compacted.records,
        mb(compacted.bytes_before),
        mb(compacted.bytes_after)
    );
    println!("the audit trail is intact: {entries} records");
    Ok(())
}
