//! The mmsm kernel: an ISMS kernel for SMEs implementing the MMSM-SME methodology.
//!
//! - [`model`]: the schema and ISMS data types (depends on nothing of ours);
//! - [`schema_docs`]: loading, validating, exporting and diffing schema documents;
//! - [`engine`]: the matrix engine (compliance, maturity, risk, plan, board), pure;
//! - [`store`]: the three repositories (schemas, isms, info) behind a trait, on sled;
//! - [`profiles`]: enterprise profiles (parse, validate against a schema, template);
//! - [`access`]: principals, roles and zones;
//! - [`services`]: the operations of the three zones, each checking its principal;
//! - [`reports`]: the Statement of Applicability and the enterprise's report;
//! - [`scripting`]: the sandboxed Lua host of metrics, procedure actions and importers;
//! - [`plugins`]: the host of native plugins (C ABI, JSON in and out);
//! - [`registry`]: scripts and plugins by id, hot reload and the watcher;
//! - [`server`]: the HTTP API and web UI over the services.
#![deny(missing_docs)]

pub mod access;
pub mod engine;
pub mod model;
pub mod plugins;
pub mod profiles;
pub mod registry;
pub mod reports;
pub mod schema_docs;
pub mod scripting;
pub mod server;
pub mod services;
pub mod store;
