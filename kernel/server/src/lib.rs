//! The HTTP server (issue 8): the REST API under `/api/v1`, the web UI of
//! the three zones, and authentication. It is a thin edge beside the CLI:
//! a handler authenticates, calls one kernel service with the principal and
//! returns the service's view type. It knows no formula and does no access
//! check of its own: the services do both.
//!
//! - [`routes`]: `app(state) -> Router`;
//! - [`state`]: `AppState` (kernel, login limiter, templates);
//! - [`limiter`]: failed logins slow the next guesses;
//! - [`extract`]: the principal from the session cookie or `Authorization: Bearer`;
//! - [`error`]: `AppError` to status and JSON;
//! - [`api`]: the API handlers per zone; [`ui`]: the web pages.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod api;
pub mod download;
pub mod drawn;
pub mod error;
pub mod extract;
pub mod limiter;
pub mod lists;
pub mod routes;
pub mod state;
pub mod ui;

use std::net::SocketAddr;
use std::path::Path;

use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{random_password, Kernel, NewAccount, Result};
use mmsm_schema::profiles;

pub use routes::app;
pub use state::AppState;

pub use mmsm_shipped::{DEMO_PROFILE, DEMO_PROFILE_PATH};

/// What the first start of an empty store created.
#[derive(Debug, Clone)]
pub struct FirstStart {
    /// The admin account's name.
    pub user: String,
    /// Its one-time password.
    pub password: String,
    /// The demo enterprise's ISMS id, or why it could not be generated.
    pub demo: Option<std::result::Result<String, String>>,
}

/// On the first start of a store without accounts: loads the shipped
/// schemas, generates the demo enterprise (when the store has no ISMS), and
/// creates the `admin` account with a random one-time password.
pub fn first_start(kernel: &Kernel) -> Result<Option<FirstStart>> {
    kernel.ensure_shipped_schemas(mmsm_shipped::schema_files())?;
    if kernel.has_accounts()? || !kernel.claim_first_start(kernel.now())? {
        // Set up already, or another server starting beside this one on the
        // same database is making the admin account and the demo.
        return Ok(None);
    }
    let system = Principal::system();
    let demo = if kernel.list_isms(&system)?.is_empty() {
        // The demo is a convenience: a store whose schemas do not fit the
        // sample profile still gets its admin account.
        let generated = profiles::parse_profile(Path::new(DEMO_PROFILE_PATH), DEMO_PROFILE)
            .map_err(mmsm_kernel::services::ServiceError::Invalid)
            .and_then(|profile| {
                kernel.generate_isms(&system, profile, Some(Path::new(DEMO_PROFILE_PATH)), None)
            });
        Some(match generated {
            Ok(g) => Ok(g.id.to_string()),
            Err(e) => Err(e.to_string().lines().take(3).collect::<Vec<_>>().join("; ")),
        })
    } else {
        None
    };
    let password = random_password();
    kernel.create_account(
        &system,
        NewAccount {
            name: "admin".into(),
            roles: vec!["AGS".into(), "GED".into(), "CoS".into(), "AuS".into()],
            admin: true,
            isms: None,
            password: password.clone(),
            // Printed on the console: its owner chooses their own at once.
            permanent: false,
        },
    )?;
    Ok(Some(FirstStart {
        user: "admin".into(),
        password,
        demo,
    }))
}

/// Serves `app` (with the script `registry`, if any) on `listener` until SIGINT or SIGTERM; in-flight requests
/// finish (every write is one store batch), then the store is flushed.
pub async fn serve(
    kernel: Kernel,
    listener: tokio::net::TcpListener,
    secure_cookies: bool,
    registry: Option<std::sync::Arc<mmsm_registry::Registry>>,
) -> std::io::Result<()> {
    let mut state = AppState::new(kernel.clone(), secure_cookies);
    if let Some(registry) = registry {
        state = state.with_registry(registry);
    }
    let app = app(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    kernel
        .store()
        .flush()
        .map_err(|e| std::io::Error::other(e.to_string()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    eprintln!("shutting down: finishing the requests in flight");
}
