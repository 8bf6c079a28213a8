//! The mmsm kernel: an ISMS kernel for SMEs implementing the MMSM-SME methodology.
//!
//! - [`model`]: the schema and ISMS data types (depends on nothing of ours);
//! - [`schema_docs`]: loading, validating, exporting and diffing schema documents;
//! - [`engine`]: the matrix engine (compliance, maturity, risk, plan, board), pure;
//! - [`store`]: the three repositories (schemas, isms, info) behind a trait, on sled;
//! - [`profiles`]: enterprise profiles (parse, validate against a schema, template);
//! - [`access`]: principals, roles and zones;
//! - [`services`]: the operations of the three zones, each checking its principal;
//! - [`reports`]: the Statement of Applicability and the enterprise's report.
#![deny(missing_docs)]

pub mod access;
pub mod engine;
pub mod model;
pub mod profiles;
pub mod reports;
pub mod schema_docs;
pub mod services;
pub mod store;
