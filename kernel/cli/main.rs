//! `mmsm`: the command line of the mmsm ISMS kernel.
//!
//! The binary only parses arguments, opens the store, calls one kernel
//! service with the acting principal, and renders the result as text or, with
//! `--json`, as one JSON document on stdout. Errors go to stderr with a
//! non-zero exit code.

mod args;
mod docs_cmd;
mod findings_cmd;
mod import_cmd;
mod isms_cmd;
mod metric_cmd;
mod msgs_cmd;
mod output;
mod schema_cmd;
mod scripts_cmd;
mod server_cmd;
mod store_cmd;

use std::process::ExitCode;

use clap::Parser;
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::Kernel;
use mmsm_store::{Location, Store};

use args::{Cli, Command, Global};
use output::Failure;

/// mimalloc returns freed pages to the system where glibc's malloc keeps one
/// growing arena per thread: a server under steady load levels off instead of
/// climbing (BENCHMARKS.md, "Soak").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(cli.global.json),
    }
}

/// A reader that stops early (`mmsm isms list | head -1`) ends the command
/// quietly with success, as ripgrep does, instead of a panic and a backtrace:
/// printing to a closed pipe is the only panic this catches. Every write to the
/// store is durable before anything is printed.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to std") && message.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn run(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Schema(command) => schema_cmd::run(&cli.global, command),
        Command::Profile(command) => isms_cmd::run_profile(&cli.global, command),
        Command::Isms(command) => isms_cmd::run(&cli.global, command),
        Command::Scripts => scripts_cmd::list(&cli.global),
        Command::Culture(command) => msgs_cmd::culture(&cli.global, command),
        Command::Proc(command) => msgs_cmd::procedures(&cli.global, command),
        Command::Suggestion(command) => msgs_cmd::suggestions(&cli.global, command),
        Command::Finding(command) => findings_cmd::run(&cli.global, command),
        Command::Watch { metrics, every } => scripts_cmd::watch(&cli.global, *metrics, *every),
        Command::Metric(command) => metric_cmd::run(&cli.global, command),
        Command::Import {
            importer,
            file,
            schema,
            new,
        } => import_cmd::run(&cli.global, importer, file, schema, *new),
        Command::Demo { out } => isms_cmd::demo(&cli.global, out),
        Command::Serve {
            addr,
            cookie_secure,
        } => server_cmd::serve(&cli.global, addr, *cookie_secure),
        Command::User(command) => server_cmd::user(&cli.global, command),
        Command::Audit(command) => server_cmd::audit(&cli.global, command),
        Command::Store(command) => store_cmd::run(&cli.global, command),
    }
}

/// Where the store is: `--store`, else the folder of `--data`.
pub(crate) fn store_location(global: &Global) -> Location {
    Location::choose(global.store.as_deref(), &global.data)
}

/// Opens the store of `--store` (or the folder of `--data`), creating it on
/// first use, and loads the shipped schemas into an empty store.
pub(crate) fn open_kernel(global: &Global) -> Result<Kernel, Failure> {
    let location = store_location(global);
    let store = Store::open_at(&location, global.pool).map_err(Failure::from_error)?;
    let mut kernel = Kernel::new(store);
    if let Some(now) = injected_clock()? {
        kernel = kernel.with_clock(now);
    }
    kernel = kernel.with_actions(std::sync::Arc::new(mmsm_registry::LazyRegistry::new(
        scripts_cmd::registry_config(global),
    )));
    let imported = kernel
        .ensure_shipped_schemas(mmsm_shipped::schema_files())
        .map_err(Failure::from_error)?;
    if !imported.is_empty() && !global.json {
        let names: Vec<String> = imported
            .iter()
            .map(|o| format!("{}@{}", o.id, o.version))
            .collect();
        eprintln!(
            "created the store in the {} and loaded the shipped schemas: {}",
            location.describe(),
            names.join(", ")
        );
    }
    Ok(kernel)
}

/// The clock of `MMSM_NOW` (a testing aid): RFC 3339, `YYYY-MM-DD`, or seconds since the epoch.
fn injected_clock() -> Result<Option<chrono::DateTime<chrono::Utc>>, Failure> {
    let Ok(text) = std::env::var("MMSM_NOW") else {
        return Ok(None);
    };
    let text = text.trim();
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Some(time.with_timezone(&chrono::Utc)));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(12, 0, 0).map(|t| t.and_utc()));
    }
    if let Some(time) = text
        .parse::<i64>()
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
    {
        return Ok(Some(time));
    }
    Err(Failure::from_error(format!(
        "MMSM_NOW=`{text}` is not a time; expected e.g. 2027-01-31T12:00:00Z, 2027-01-31 or seconds since 1970"
    )))
}

/// The acting principal: the local operator, or the account named by `--as`
/// (a name without account holds no role: the kernel refuses it every zone).
pub(crate) fn principal(global: &Global, kernel: &Kernel) -> Principal {
    match &global.as_user {
        None => Principal::local_operator(),
        Some(user) => kernel
            .account_principal(user)
            .ok()
            .flatten()
            .unwrap_or_else(|| Principal::new(user.clone(), Vec::<String>::new())),
    }
}
