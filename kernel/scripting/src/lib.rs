//! The Lua host (DESIGN.md 7.1): sandboxed VMs running the scripts of
//! `scripts/metrics/`, `scripts/procedures/` and `scripts/importers/`.
//!
//! Scripting knows nothing of sled or of the services: the kernel hands a call
//! the data of the ISMS being served ([`CtxData`]) and gets JSON back. Every
//! failure of a script, including running out of time or memory, is a
//! [`ScriptError`] naming its id, file and line, never a panic or a hang of
//! the kernel.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod ctx;
mod declaration;
mod error;
mod limits;
mod patterns;
mod sandbox;
mod script;

pub use ctx::{stderr_log, CtxData, EvidenceSource, LogLevel, LogRecord, LogSink};
pub use declaration::{describe, parse_schedule, Declaration, KindFields, ScriptKind};
pub use error::{Origin, ScriptError};
pub use limits::{Limits, HOOK_PERIOD};
pub use script::{HostConfig, LuaScript};

#[cfg(test)]
mod tests;
