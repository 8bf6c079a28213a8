//! Failed logins slow the next guesses (issue 18).
//!
//! Each attempt is counted when it starts, under one lock, so parallel
//! guesses cannot all pass the check before any failure is recorded; a
//! success takes its count back. A name has a few free failures, an address
//! many more (people share addresses); past them, the next attempt waits an
//! exponential back-off from the last failure (1 s, 2 s, 4 s... at most 15
//! minutes), after which one attempt is allowed: the rightful user, with the
//! right password, gets in once the back-off has passed. Counts are
//! forgotten after a quiet quarter of an hour.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures a user name has before the back-off starts.
pub const FREE_PER_NAME: u32 = 5;
/// Failures an address has before the back-off starts.
pub const FREE_PER_ADDRESS: u32 = 50;
const FIRST_WAIT: Duration = Duration::from_secs(1);
const LONGEST_WAIT: Duration = Duration::from_secs(15 * 60);
const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, Copy)]
struct Count {
    failures: u32,
    /// Attempts started and not finished: they count as failures meanwhile.
    pending: u32,
    last: Instant,
}

/// Failed logins by key (`user:NAME`, `ip:ADDRESS`).
#[derive(Debug, Default)]
pub struct LoginLimiter {
    counts: Mutex<HashMap<String, Count>>,
}

/// One key of an attempt and its free failures.
pub type Key = (String, u32);

/// An attempt under way: finish it with [`Attempt::succeeded`] or
/// [`Attempt::failed`]; dropped unfinished, it counts for nothing.
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    keys: Vec<Key>,
    open: bool,
}

impl LoginLimiter {
    /// Starts an attempt for `keys`, or says how many seconds to wait.
    pub fn begin(&self, keys: Vec<Key>) -> Result<Attempt<'_>, u64> {
        let mut counts = self.lock();
        let now = Instant::now();
        for (key, free) in &keys {
            if let Some(count) = counts.get(key) {
                if count.pending == 0 && now.duration_since(count.last) > FORGET_AFTER {
                    counts.remove(key);
                    continue;
                }
                let tried = count.failures + count.pending;
                if tried >= *free {
                    let wait = back_off(tried - free + 1);
                    let waited = now.duration_since(count.last);
                    if waited < wait {
                        return Err((wait - waited).as_secs().max(1));
                    }
                }
            }
        }
        for (key, _) in &keys {
            let count = counts.entry(key.clone()).or_insert(Count {
                failures: 0,
                pending: 0,
                last: now,
            });
            count.pending += 1;
        }
        Ok(Attempt {
            limiter: self,
            keys,
            open: true,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Count>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn back_off(over: u32) -> Duration {
    FIRST_WAIT
        .saturating_mul(1u32 << (over - 1).min(20))
        .min(LONGEST_WAIT)
}

impl Attempt<'_> {
    /// The password was right: the name's failures are forgotten.
    pub fn succeeded(mut self) {
        self.close(|key, count| {
            if key.starts_with("user:") {
                count.failures = 0;
            }
        });
    }

    /// The password was wrong. Returns the keys this failure locked (their
    /// free failures are used up: the next attempt waits), for the audit trail.
    pub fn failed(mut self) -> Vec<String> {
        let now = Instant::now();
        let free: HashMap<String, u32> = self.keys.iter().cloned().collect();
        let mut locked = Vec::new();
        self.close(|key, count| {
            count.failures += 1;
            count.last = now;
            if free.get(key) == Some(&count.failures) {
                locked.push(key.to_owned());
            }
        });
        locked
    }

    fn close(&mut self, mut update: impl FnMut(&str, &mut Count)) {
        if !self.open {
            return;
        }
        self.open = false;
        let mut counts = self.limiter.lock();
        for (key, _) in &self.keys {
            if let Some(count) = counts.get_mut(key) {
                count.pending = count.pending.saturating_sub(1);
                update(key, count);
                if count.failures == 0 && count.pending == 0 {
                    counts.remove(key);
                }
            }
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.close(|_, _| {});
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(user: &str) -> Vec<Key> {
        vec![
            (format!("user:{user}"), FREE_PER_NAME),
            ("ip:10.0.0.1".into(), FREE_PER_ADDRESS),
        ]
    }

    #[test]
    fn parallel_attempts_count_before_they_finish() {
        let limiter = LoginLimiter::default();
        let started: Vec<_> = (0..40)
            .filter_map(|_| limiter.begin(keys("us")).ok())
            .collect();
        assert_eq!(
            started.len(),
            FREE_PER_NAME as usize,
            "only the free attempts start"
        );
        for attempt in started {
            attempt.failed();
        }
        assert!(limiter.begin(keys("us")).is_err());
    }

    #[test]
    fn one_name_failing_leaves_others_behind_the_same_address_alone() {
        let limiter = LoginLimiter::default();
        let locked: Vec<Vec<String>> = (0..FREE_PER_NAME)
            .map(|_| limiter.begin(keys("us")).unwrap().failed())
            .collect();
        // Only the failure that used up the free ones locks, and only the name.
        assert!(locked[..locked.len() - 1].iter().all(Vec::is_empty));
        assert_eq!(locked.last().unwrap(), &["user:us".to_owned()]);
        assert!(limiter.begin(keys("us")).is_err());
        limiter.begin(keys("rs")).unwrap().succeeded();
    }

    #[test]
    fn the_back_off_doubles_and_a_success_after_it_forgets_the_failures() {
        assert_eq!(back_off(1), Duration::from_secs(1));
        assert_eq!(back_off(4), Duration::from_secs(8));
        assert_eq!(back_off(40), LONGEST_WAIT);
        let limiter = LoginLimiter::default();
        for _ in 0..FREE_PER_NAME {
            limiter.begin(keys("us")).unwrap().failed();
        }
        assert_eq!(limiter.begin(keys("us")).err(), Some(1));
        std::thread::sleep(Duration::from_millis(1100));
        limiter.begin(keys("us")).unwrap().succeeded();
        // Forgotten: the free attempts are back.
        for _ in 0..FREE_PER_NAME {
            limiter.begin(keys("us")).unwrap().failed();
        }
    }

    #[test]
    fn an_attempt_dropped_unfinished_counts_for_nothing() {
        let limiter = LoginLimiter::default();
        for _ in 0..20 {
            drop(limiter.begin(keys("us")).unwrap());
        }
        assert!(limiter.lock().is_empty());
    }
}
