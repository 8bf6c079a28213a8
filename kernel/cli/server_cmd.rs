//! `mmsm serve`, `mmsm user ...` and `mmsm audit ...`.

use std::io::Read;
use std::net::SocketAddr;

use mmsm_kernel::services::NewAccount;
use mmsm_server as server;

use crate::args::{AccountCommand, AuditCommand, Global};
use crate::output::{print_json, Failure, Table};
use crate::schema_cmd::service_failure;
use crate::{open_kernel, principal};

/// Whether session cookies carry `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CookieSecure {
    /// Secure unless the server listens on a loopback address (plain HTTP on localhost).
    Auto,
    /// Always (behind a TLS proxy).
    Always,
    /// Never (plain HTTP on a trusted network only).
    Never,
}

pub fn serve(global: &Global, addr: &str, secure: CookieSecure) -> Result<(), Failure> {
    let addr: SocketAddr = addr.parse().map_err(|e| {
        Failure::from_error(format!(
            "`{addr}` is not an address to listen on ({e}); give e.g. 127.0.0.1:8080"
        ))
    })?;
    let kernel = open_kernel(global)?;
    let first = server::first_start(&kernel).map_err(service_failure)?;
    let secure_cookies = match secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => !addr.ip().is_loopback(),
    };
    // The script and plugin registry with hot reload, for the server's lifetime.
    let (registry, first_load) =
        mmsm_registry::Registry::load(crate::scripts_cmd::registry_config(global));
    let registry = std::sync::Arc::new(registry);
    // One registry per process: the watched one also runs the phase actions.
    let kernel = kernel.with_actions(registry.clone());
    let loaded = first_load.len();
    let watcher = mmsm_registry::Watcher::start(std::sync::Arc::clone(&registry), |event| {
        eprintln!("scripts: {event}");
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::from_error(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            Failure::from_error(format!(
                "cannot listen on {addr}: {e}; is another server running there? choose another --addr"
            ))
        })?;
        let local = listener
            .local_addr()
            .map_err(|e| Failure::from_error(e.to_string()))?;
        println!("mmsm serving on http://{local}/ (API: http://{local}/api/v1, OpenAPI: http://{local}/api/v1/openapi.json)");
        println!("store: {}", kernel.store().describe());
        if let Some(first) = &first {
            match &first.demo {
                Some(Ok(demo)) => {
                    println!("loaded the shipped schemas and the demo enterprise `{demo}`")
                }
                Some(Err(why)) => eprintln!("warning: the demo enterprise was not generated: {why}"),
                None => {}
            }
            println!(
                "log in as `{}` with the one-time password: {}",
                first.user, first.password
            );
            println!("(it is shown only now; create more accounts with `mmsm user add`)");
        } else {
            println!("log in with an account of this store (`mmsm user list`)");
        }
        match &watcher {
            Ok(w) if !w.watched().is_empty() => println!(
                "scripts and plugins: {loaded} loaded, reloaded as their files change ({})",
                w.watched().iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            ),
            Ok(_) => println!("scripts and plugins: no scripts or plugin folder to watch"),
            Err(e) => eprintln!("warning: the script watcher did not start: {e}"),
        }
        // The metric scheduler: every minute, the metrics that are due, for every ISMS.
        if loaded > 0 {
            tokio::spawn(mmsm_kernel::services::schedule_metrics(
                kernel.clone(),
                registry.clone(),
                mmsm_kernel::access::Principal::system(),
                std::time::Duration::from_secs(60),
                quiet_repeats(),
            ));
            println!("metrics: due metrics run every minute for every ISMS");
        } else {
            println!("metrics: no script loaded, so no metric is scheduled (give --scripts DIR, e.g. the repository's scripts/)");
        }
        println!("stop with Ctrl-C (SIGINT) or SIGTERM: requests in flight finish first");
        use std::io::Write;
        let _ = std::io::stdout().flush();
        server::serve(kernel, listener, secure_cookies, Some(registry))
            .await
            .map_err(|e| Failure::from_error(format!("the server stopped: {e}")))?;
        println!("stopped; the store is flushed");
        Ok(())
    })
}

pub fn user(global: &Global, command: &AccountCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    match command {
        AccountCommand::Add {
            name,
            roles,
            isms,
            admin,
            password_stdin,
            permanent,
        } => {
            let password = read_password(*password_stdin)?;
            let view = kernel
                .create_account(
                    &who,
                    NewAccount {
                        name: name.clone(),
                        roles: roles.clone(),
                        admin: *admin,
                        isms: isms.clone(),
                        password,
                        permanent: *permanent,
                    },
                )
                .map_err(service_failure)?;
            if global.json {
                return print_json(&view);
            }
            println!(
                "created {} account `{}` with roles {}{}",
                if view.admin { "administrator" } else { "the" },
                view.name,
                if view.roles.is_empty() {
                    "none".to_owned()
                } else {
                    view.roles.join(", ")
                },
                view.isms
                    .map(|i| format!(", an enterprise user of `{i}`"))
                    .unwrap_or_else(|| ", a consultancy account".into())
            );
            if view.must_change_password {
                println!(
                    "the password is a one-time password: `{}` changes it at the first login, within {} days",
                    view.name,
                    mmsm_kernel::services::ONE_TIME_DAYS
                );
            }
            Ok(())
        }
        AccountCommand::Disable { name } | AccountCommand::Enable { name } => {
            let disable = matches!(command, AccountCommand::Disable { .. });
            let view = kernel
                .set_account_disabled(&who, name, disable)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&view);
            }
            if disable {
                println!("`{name}` is disabled: it cannot log in, and its sessions and tokens no longer work");
            } else {
                println!("`{name}` is enabled: it logs in again (with a new session)");
            }
            Ok(())
        }
        AccountCommand::Remove { name } => {
            kernel.remove_account(&who, name).map_err(service_failure)?;
            if global.json {
                return print_json(&serde_json::json!({ "user": name, "removed": true }));
            }
            println!("removed the account `{name}` with its tokens and assignments; the audit trail keeps what it did");
            Ok(())
        }
        AccountCommand::Roles { name, roles } => {
            let view = kernel
                .set_account_roles(&who, name, roles)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&view);
            }
            println!("`{name}` now holds {}", view.roles.join(", "));
            Ok(())
        }
        AccountCommand::Unassign { name, isms } => {
            kernel
                .unassign_isms(&who, name, isms)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&serde_json::json!({ "user": name, "unassigned": isms }));
            }
            println!("`{name}` no longer sees `{isms}`");
            Ok(())
        }
        AccountCommand::List => {
            let list = kernel.list_accounts(&who).map_err(service_failure)?;
            if global.json {
                return print_json(&list);
            }
            let mut table =
                Table::new(&["NAME", "ROLES", "ADMIN", "ENTERPRISE", "ASSIGNED", "STATE"]);
            for a in &list {
                table.row(vec![
                    a.name.clone(),
                    a.roles.join(", "),
                    if a.admin { "yes".into() } else { String::new() },
                    a.isms.clone().unwrap_or_default(),
                    a.assigned.join(", "),
                    account_state(a).into(),
                ]);
            }
            table.print();
            Ok(())
        }
        AccountCommand::Assign { name, isms } => {
            kernel
                .assign_isms(&who, name, isms)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&serde_json::json!({ "user": name, "isms": isms }));
            }
            println!("`{name}` now sees `{isms}`");
            Ok(())
        }
        AccountCommand::Passwd {
            name,
            password_stdin,
            permanent,
        } => {
            let password = read_password(*password_stdin)?;
            kernel
                .set_password(&who, name, &password, *permanent)
                .map_err(service_failure)?;
            let one_time = who.user != *name && !permanent;
            if global.json {
                return print_json(
                    &serde_json::json!({ "user": name, "password": "set", "one_time": one_time }),
                );
            }
            if one_time {
                println!(
                    "the password of `{name}` is set as a one-time password: it is changed at the next login, within {} days; its open sessions are closed",
                    mmsm_kernel::services::ONE_TIME_DAYS
                );
            } else {
                println!("the password of `{name}` is set");
            }
            Ok(())
        }
        AccountCommand::Tokens { name } => {
            let tokens = kernel.list_tokens(&who, name).map_err(service_failure)?;
            if global.json {
                return print_json(&tokens);
            }
            if tokens.is_empty() {
                println!("`{name}` has no live API token");
                return Ok(());
            }
            let mut table = Table::new(&["ID", "LABEL", "CREATED", "EXPIRES", "ENDS WITH"]);
            for t in &tokens {
                table.row(vec![
                    t.id.clone(),
                    t.label.clone().unwrap_or_default(),
                    crate::output::datetime(t.created),
                    crate::output::datetime(t.expires),
                    if t.ends_with_session {
                        "its login session".into()
                    } else {
                        "its expiry (long-lived)".into()
                    },
                ]);
            }
            table.print();
            Ok(())
        }
        AccountCommand::RevokeToken { name, id } => {
            kernel
                .revoke_token(&who, name, id)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&serde_json::json!({ "user": name, "revoked": id }));
            }
            println!("revoked token {id} of `{name}`");
            Ok(())
        }
    }
}

/// An account's state in words.
fn account_state(account: &mmsm_kernel::services::AccountView) -> &'static str {
    if account.disabled {
        "disabled"
    } else if account.must_change_password {
        "one-time password"
    } else {
        "active"
    }
}

/// The password on standard input (`--password-stdin`, so that it stays out
/// of the shell history), without its line end.
fn read_password(password_stdin: bool) -> Result<String, Failure> {
    if !password_stdin {
        return Err(Failure::from_error(
            "give the password on standard input with --password-stdin (so that it stays out of the shell history), e.g. `echo 'a long pass phrase' | mmsm user add ...`",
        ));
    }
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .map_err(|e| Failure::from_error(format!("cannot read the password: {e}")))?;
    Ok(password.trim_end_matches(['\n', '\r']).to_owned())
}

pub fn audit(global: &Global, command: &AuditCommand) -> Result<(), Failure> {
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    match command {
        AuditCommand::Verify => {
            let result = kernel.audit_verify(&who).map_err(service_failure)?;
            match result {
                Ok(report) => {
                    if global.json {
                        return print_json(&serde_json::json!({
                            "intact": true, "entries": report.entries, "head": report.head,
                        }));
                    }
                    println!(
                        "the audit trail is intact: {} records, head {}",
                        report.entries, report.head
                    );
                    Ok(())
                }
                Err(broken) => Err(Failure::with_json(
                    format!(
                        "{broken}; restore the store from a backup and find out who changed it"
                    ),
                    serde_json::json!({
                        "intact": false, "key": broken.key, "reason": broken.reason,
                        "checked": broken.checked, "others": broken.others,
                    }),
                )),
            }
        }
        AuditCommand::Log { isms } => {
            let entries = kernel
                .audit_log(&who, isms.as_deref())
                .map_err(service_failure)?;
            if global.json {
                return print_json(&entries);
            }
            for e in &entries {
                println!(
                    "{:>6} {} {} {} {}",
                    e.seq,
                    chrono::DateTime::from_timestamp(e.at as i64, 0)
                        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default(),
                    e.user,
                    e.action,
                    e.ids.join(" ")
                );
            }
            Ok(())
        }
    }
}

/// Prints each scheduled run, but a metric's failure only when it first
/// appears or changes: a missing evidence file would otherwise repeat every minute.
fn quiet_repeats() -> impl Fn(mmsm_kernel::services::ScheduledRun) + Send + Sync + 'static {
    let reported = std::sync::Mutex::new(std::collections::HashMap::<String, String>::new());
    move |mut run| {
        if let mmsm_kernel::services::ScheduledRun::Ran(metrics) = &mut run {
            let mut reported = reported.lock().unwrap_or_else(|p| p.into_inner());
            let isms = metrics.isms.to_string();
            metrics.metrics.retain(|m| {
                let key = format!("{isms}/{}", m.metric);
                match &m.error {
                    Some(error) => reported.insert(key, error.clone()).as_ref() != Some(error),
                    None => {
                        reported.remove(&key);
                        true
                    }
                }
            });
        }
        crate::scripts_cmd::print_scheduled(false, &run);
    }
}
