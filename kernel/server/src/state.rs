//! `AppState`: what every handler shares.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mmsm_kernel::services::Kernel;
use mmsm_registry::Registry;

use super::error::AppError;

/// The state of the server: the kernel and the login limiter.
#[derive(Clone)]
pub struct AppState {
    /// The kernel: every request becomes one service call on it.
    pub kernel: Kernel,
    /// Failed logins per user and per client address.
    pub limiter: Arc<RateLimiter>,
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
            limiter: Arc::new(RateLimiter::new(5, Duration::from_secs(60))),
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

/// At most `max` failed logins per key within `window`.
#[derive(Debug)]
pub struct RateLimiter {
    max: usize,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl RateLimiter {
    /// A limiter of `max` failures per `window`.
    pub fn new(max: usize, window: Duration) -> Self {
        RateLimiter {
            max,
            window,
            failures: Mutex::default(),
        }
    }

    /// The seconds to wait when `key` has failed too often, else `None`.
    pub fn blocked(&self, key: &str) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let list = map.entry(key.to_owned()).or_default();
        list.retain(|t| now.duration_since(*t) < self.window);
        if list.len() >= self.max {
            let oldest = list[0];
            return Some((self.window - now.duration_since(oldest)).as_secs().max(1));
        }
        None
    }

    /// Records a failure of `key`.
    pub fn fail(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key.to_owned()).or_default().push(Instant::now());
    }

    /// Forgets the failures of `key` (after a successful login).
    pub fn clear(&self, key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(key);
    }
}
