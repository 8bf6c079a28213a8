//! The plugin host (DESIGN.md 7.2): native libraries implementing the C ABI
//! of the `mmsm-plugin-abi` crate, called with JSON in and out.
//!
//! A plugin is trusted native code: the host refuses another ABI version and
//! turns the plugin's errors and panics (caught by `declare_plugin!`) into
//! [`ScriptError`](mmsm_scripting::ScriptError)s, but cannot bound its time
//! or memory as it does for Lua.

#![deny(missing_docs)]

mod host;

pub use host::{library_extension, Plugin, PLUGIN_BUDGET};
