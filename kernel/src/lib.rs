//! The mmsm kernel: an ISMS kernel for SMEs implementing the MMSM-SME methodology.
#![deny(missing_docs)]

pub mod model;
pub mod engine;
