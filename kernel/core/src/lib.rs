//! The mmsm kernel proper: the operations of the three zones of the MMSM-SME
//! methodology over the repositories and the matrix engine.
//!
//! - [`access`]: principals, roles and zones;
//! - [`services`]: the operations of the three zones, each checking its principal,
//!   with the history and the audit trail; scripts and plugins are reached only
//!   through the host traits of [`services::host`] and [`services::msgs::PhaseActions`].
//!
//! It knows nothing of HTTP, templates, terminals, command lines, Lua or native
//! plugins: those live in the crates around it.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod access;
pub mod services;
