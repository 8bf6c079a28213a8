//! `AppState`: what every handler shares.

use std::sync::Arc;

use mmsm_kernel::services::Kernel;
use mmsm_registry::Registry;

use super::error::AppError;
use super::limiter::LoginLimiter;

/// The state of the server: the kernel and the login limiter.
#[derive(Clone)]
pub struct AppState {
    /// The kernel: every request becomes one service call on it.
    pub kernel: Kernel,
    /// Failed logins per user and per client address.
    pub limiter: Arc<LoginLimiter>,
    /// Whether session cookies carry `Secure` (off only for plain HTTP on loopback).
    pub secure_cookies: bool,
    /// The script and plugin registry (metrics, `/api/v1/scripts`), when loaded.
    pub registry: Option<Arc<Registry>>,
}

impl AppState {
    /// The state over `kernel`.
    pub fn new(kernel: Kernel, secure_cookies: bool) -> Self {
        AppState {
            kernel,
            limiter: Arc::new(LoginLimiter::default()),
            secure_cookies,
            registry: None,
        }
    }

    /// The state with the script and plugin `registry`.
    pub fn with_registry(mut self, registry: Arc<Registry>) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Runs a (blocking) service call off the async workers.
    pub async fn call<T, F>(&self, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Kernel) -> Result<T, mmsm_kernel::services::ServiceError> + Send + 'static,
    {
        let kernel = self.kernel.clone();
        Ok(tokio::task::spawn_blocking(move || f(&kernel)).await??)
    }
}
