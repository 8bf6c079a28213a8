//! The limits of a script's VM: memory per VM, time per call.
//!
//! Time is enforced by a global instruction hook that checks a deadline every
//! [`HOOK_PERIOD`] instructions. Once the deadline passes, the hook re-arms
//! itself to fail on *every* instruction, so that a `pcall` that swallows the
//! first error fails again on its next instruction (RUST-NOTES: the three ways
//! out of a Lua sandbox). C functions such as `string.rep` count as one
//! instruction: the memory limit is their bound. The pattern functions,
//! which can backtrack for hours inside one call, are Rust functions that
//! look at the deadline as they go ([`super::patterns`]).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mlua::{HookTriggers, Lua, VmState};

/// How many instructions run between two checks of the deadline.
pub const HOOK_PERIOD: u32 = 1000;

const OUT_OF_TIME: &str = "time budget exceeded";

/// The limits of one script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most memory the script's VM may hold, in bytes (default 64 MiB).
    pub memory: usize,
    /// The longest a call may run (default 1 s).
    pub time: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory: 64 * 1024 * 1024,
            time: Duration::from_secs(1),
        }
    }
}

/// The time budget of one VM: a deadline, and whether it ran out.
#[derive(Debug)]
pub(crate) struct Budget {
    epoch: Instant,
    budget: Duration,
    /// Nanoseconds after `epoch` when the current call must stop.
    deadline: AtomicU64,
    tripped: AtomicBool,
    /// The line running when the budget ran out (0: unknown).
    line: AtomicU32,
}

impl Budget {
    /// Installs the hook on `lua` and returns the budget that drives it. The
    /// deadline starts in the past: Lua code run outside a call (such as a
    /// finalizer) is stopped at once.
    pub(crate) fn install(lua: &Lua, budget: Duration) -> mlua::Result<Arc<Budget>> {
        let this = Arc::new(Budget {
            epoch: Instant::now(),
            budget,
            deadline: AtomicU64::new(0),
            tripped: AtomicBool::new(false),
            line: AtomicU32::new(0),
        });
        this.arm(lua)?;
        Ok(this)
    }

    fn arm(self: &Arc<Self>, lua: &Lua) -> mlua::Result<()> {
        let budget = Arc::clone(self);
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_PERIOD),
            move |lua, debug| {
                if !budget.expired() {
                    return Ok(VmState::Continue);
                }
                let line = debug.current_line().and_then(|l| u32::try_from(l).ok());
                Err(budget.trip(lua, line))
            },
        )
    }

    /// Whether the current call's deadline has passed.
    pub(crate) fn expired(&self) -> bool {
        self.elapsed_nanos() > self.deadline.load(Relaxed)
    }

    /// Stops the current call: records the line (the first time) and makes
    /// every next instruction fail, so that a `pcall` cannot swallow it.
    /// Called by the hook, and by Rust functions that run long without
    /// reaching it (the pattern functions).
    pub(crate) fn trip(&self, lua: &Lua, line: Option<u32>) -> mlua::Error {
        if !self.tripped.swap(true, Relaxed) {
            self.line.store(line.unwrap_or(0), Relaxed);
            let rearmed = lua
                .set_global_hook(HookTriggers::new().every_nth_instruction(1), |_, _| {
                    Err(mlua::Error::runtime(OUT_OF_TIME))
                });
            if let Err(e) = rearmed {
                return e;
            }
        }
        mlua::Error::runtime(OUT_OF_TIME)
    }

    /// Starts a call: a fresh deadline, and the normal hook back if the last
    /// call ran out of time.
    pub(crate) fn start(self: &Arc<Self>, lua: &Lua) -> mlua::Result<()> {
        let deadline = self
            .elapsed_nanos()
            .saturating_add(self.budget.as_nanos() as u64);
        self.deadline.store(deadline, Relaxed);
        if self.tripped.swap(false, Relaxed) {
            self.line.store(0, Relaxed);
            self.arm(lua)?;
        }
        Ok(())
    }

    /// Ends a call: the deadline moves to the past. Returns whether the call ran
    /// out of time, and the line it was at.
    pub(crate) fn finish(&self) -> Option<Option<u32>> {
        self.deadline.store(0, Relaxed);
        self.tripped
            .load(Relaxed)
            .then(|| Some(self.line.load(Relaxed)).filter(|line| *line > 0))
    }

    /// The budget per call.
    pub(crate) fn budget(&self) -> Duration {
        self.budget
    }

    fn elapsed_nanos(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }
}
