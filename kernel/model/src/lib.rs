//! The domain model: schemas (DESIGN.md 3) and the enterprise's inputs.
//!
//! `model` depends on nothing of ours: it is plain data with serde, shared by
//! every other module. Unknown fields are rejected everywhere, so that a typo
//! in a document never passes silently.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod ids;
pub mod isms;
pub mod limits;
pub mod period;
pub mod profile;
pub mod schema;

pub use ids::*;
pub use isms::*;
pub use limits::{check_length, MAX_NAME, MAX_TEXT, MAX_TITLE};
pub use period::*;
pub use profile::*;
pub use schema::*;
