//! The C ABI that mmsm's dynamic plugins implement (DESIGN.md 7.2).
//!
//! A plugin is a `cdylib` exporting one symbol, [`ENTRY_SYMBOL`]
//! (`mmsm_plugin_v1`), a function returning a pointer to a static
//! [`PluginDescriptor`]. Only JSON crosses the boundary, so a plugin need not
//! share Rust's ABI with the kernel (nor even be written in Rust):
//!
//! - the host calls `call(input, len, &mut out_len)` with a UTF-8 JSON
//!   [`PluginCall`] and receives a buffer of `out_len` bytes holding a JSON
//!   [`PluginReply`];
//! - the host gives that buffer back with `free(ptr, out_len)`, so that it is
//!   released by the allocator that made it.
//!
//! In Rust, [`declare_plugin!`] writes all of this: the plugin supplies a
//! handler `fn(PluginCall) -> Result<serde_json::Value, String>`, and the macro
//! catches its panics, which come back as an error reply instead of aborting
//! the kernel.
//!
//! ```
//! use mmsm_plugin_abi::{declare_plugin, PluginCall};
//! use serde_json::{json, Value};
//!
//! fn handle(call: PluginCall) -> Result<Value, String> {
//!     match call.function.as_str() {
//!         "collect" => Ok(json!(call.ctx["assets"].as_array().map_or(0, Vec::len))),
//!         other => Err(format!("no function {other}")),
//!     }
//! }
//!
//! declare_plugin! {
//!     id: "asset-count",
//!     kind: "metric",
//!     declaration: r#"{"name": "Number of assets", "unit": "assets"}"#,
//!     handler: handle,
//! }
//! ```
#![deny(missing_docs)]

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::{Deserialize, Serialize};

#[doc(hidden)]
pub use serde_json;

/// The ABI version this crate implements. A host refuses any other.
pub const ABI_VERSION: u32 = 1;

/// The symbol every plugin exports, NUL-terminated for `dlsym`.
pub const ENTRY_SYMBOL: &[u8] = b"mmsm_plugin_v1\0";

/// The signature of [`ENTRY_SYMBOL`].
pub type EntryFn = unsafe extern "C" fn() -> *const PluginDescriptor;

/// Calls the plugin: `input` holds `len` bytes of JSON ([`PluginCall`]); the
/// plugin writes the length of its reply to `out_len` and returns the reply
/// ([`PluginReply`] as JSON), to be released with the descriptor's `free`.
pub type CallFn =
    unsafe extern "C" fn(input: *const u8, len: usize, out_len: *mut usize) -> *mut u8;

/// Releases a buffer returned by [`CallFn`], given its length.
pub type FreeFn = unsafe extern "C" fn(ptr: *mut u8, len: usize);

/// What a plugin declares about itself, in a layout fixed by this ABI.
///
/// `abi_version` is the first field in every version of the ABI, so that a
/// host can read it before trusting anything else.
#[repr(C)]
pub struct PluginDescriptor {
    /// The ABI version the plugin was built against ([`ABI_VERSION`]).
    pub abi_version: u32,
    /// The plugin's id, a NUL-terminated UTF-8 string (`mfa-coverage`).
    pub id: *const c_char,
    /// Its kind, NUL-terminated: `metric`, `procedure_action` or `importer`.
    pub kind: *const c_char,
    /// The rest of its declaration as a NUL-terminated JSON object, with the
    /// same fields as a Lua script's declaration table (`name`, and for a
    /// metric `unit`, `subcontrols`, `schedule`; for an importer `formats`),
    /// plus `functions`: the functions `call` answers (default: the kind's
    /// required ones).
    pub declaration: *const c_char,
    /// Calls a function of the plugin with JSON in and out.
    pub call: CallFn,
    /// Releases a reply returned by `call`.
    pub free: FreeFn,
}

// SAFETY: the descriptor is immutable and its pointers point to static,
// NUL-terminated strings and to functions, all valid for the library's life.
unsafe impl Sync for PluginDescriptor {}

/// The JSON a host sends to `call`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PluginCall {
    /// The function to run (`collect`, `score`, `run`, `import`).
    pub function: String,
    /// Its arguments after the context (for `score`, the value; for `import`,
    /// the parsed input).
    #[serde(default)]
    pub args: Vec<serde_json::Value>,
    /// The data of the ISMS being served (enterprise, users, answers, ...).
    #[serde(default)]
    pub ctx: serde_json::Value,
}

/// The JSON a plugin returns: exactly one of `ok` and `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginReply {
    /// The function's result.
    Ok(serde_json::Value),
    /// Why it failed (a panic inside the plugin lands here too).
    Error(String),
}

/// Runs `handler` on the JSON at `input` and returns the reply as a buffer for
/// [`free_reply`]. Used by [`declare_plugin!`]; never unwinds.
///
/// # Safety
/// `input` must point to `len` readable bytes and `out_len` must be writable.
pub unsafe fn call_handler(
    handler: fn(PluginCall) -> Result<serde_json::Value, String>,
    input: *const u8,
    len: usize,
    out_len: *mut usize,
) -> *mut u8 {
    let reply = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the caller guarantees `len` readable bytes at `input`.
        let bytes = if len == 0 {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(input, len) }
        };
        match serde_json::from_slice::<PluginCall>(bytes) {
            Ok(call) => match handler(call) {
                Ok(value) => PluginReply::Ok(value),
                Err(message) => PluginReply::Error(message),
            },
            Err(err) => PluginReply::Error(format!("the call is not valid JSON: {err}")),
        }
    }))
    .unwrap_or_else(|panic| {
        PluginReply::Error(format!("the plugin panicked: {}", panic_message(&panic)))
    });
    let bytes = serde_json::to_vec(&reply).unwrap_or_else(|err| {
        format!(r#"{{"error":"the reply could not be encoded: {err}"}}"#).into_bytes()
    });
    let buffer = bytes.into_boxed_slice();
    // SAFETY: the caller guarantees `out_len` is writable.
    unsafe { *out_len = buffer.len() };
    Box::into_raw(buffer).cast::<u8>()
}

/// Releases a buffer made by [`call_handler`].
///
/// # Safety
/// `ptr` and `len` must come from one [`call_handler`] reply, released once.
pub unsafe fn free_reply(ptr: *mut u8, len: usize) {
    if !ptr.is_null() {
        // SAFETY: `ptr` is a `Box<[u8]>` of `len` bytes leaked by `call_handler`.
        drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) });
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Declares a plugin: exports [`ENTRY_SYMBOL`] returning a static
/// [`PluginDescriptor`] of [`ABI_VERSION`] whose `call` runs `handler` with
/// panics caught.
///
/// `id`, `kind` and `declaration` are string literals; `handler` is a
/// `fn(PluginCall) -> Result<serde_json::Value, String>`. Use it once per
/// crate.
#[macro_export]
macro_rules! declare_plugin {
    (
        id: $id:literal,
        kind: $kind:literal,
        declaration: $declaration:literal,
        handler: $handler:path $(,)?
    ) => {
        $crate::declare_plugin!(@with_version $crate::ABI_VERSION, $id, $kind, $declaration, $handler);
    };
    (@with_version $version:expr, $id:literal, $kind:literal, $declaration:literal, $handler:path) => {
        #[doc(hidden)]
        unsafe extern "C" fn __mmsm_plugin_call(
            input: *const u8,
            len: usize,
            out_len: *mut usize,
        ) -> *mut u8 {
            // SAFETY: the host passes `len` readable bytes and a writable `out_len`.
            unsafe { $crate::call_handler($handler, input, len, out_len) }
        }

        #[doc(hidden)]
        unsafe extern "C" fn __mmsm_plugin_free(ptr: *mut u8, len: usize) {
            // SAFETY: the host gives back each reply once, with its length.
            unsafe { $crate::free_reply(ptr, len) }
        }

        #[doc(hidden)]
        static __MMSM_PLUGIN_DESCRIPTOR: $crate::PluginDescriptor = $crate::PluginDescriptor {
            abi_version: $version,
            id: concat!($id, "\0").as_ptr() as *const ::std::ffi::c_char,
            kind: concat!($kind, "\0").as_ptr() as *const ::std::ffi::c_char,
            declaration: concat!($declaration, "\0").as_ptr() as *const ::std::ffi::c_char,
            call: __mmsm_plugin_call,
            free: __mmsm_plugin_free,
        };

        /// The plugin's entry point: its descriptor.
        #[no_mangle]
        pub extern "C" fn mmsm_plugin_v1() -> *const $crate::PluginDescriptor {
            &__MMSM_PLUGIN_DESCRIPTOR
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn echo_or_panic(call: PluginCall) -> Result<Value, String> {
        match call.function.as_str() {
            "echo" => Ok(json!({ "args": call.args, "ctx": call.ctx })),
            "fail" => Err("asked to fail".to_owned()),
            _ => panic!("unknown function {}", call.function),
        }
    }

    fn round_trip(input: &[u8]) -> PluginReply {
        let mut out_len = 0;
        // SAFETY: a valid input slice and a local out_len.
        let ptr = unsafe { call_handler(echo_or_panic, input.as_ptr(), input.len(), &mut out_len) };
        // SAFETY: the reply is `out_len` bytes at `ptr`, released once below.
        let reply =
            serde_json::from_slice(unsafe { std::slice::from_raw_parts(ptr, out_len) }).unwrap();
        unsafe { free_reply(ptr, out_len) };
        reply
    }

    #[test]
    fn a_handler_result_comes_back_as_ok() {
        let call = json!({"function": "echo", "args": [1], "ctx": {"users": []}});
        let reply = round_trip(call.to_string().as_bytes());
        assert_eq!(
            reply,
            PluginReply::Ok(json!({"args": [1], "ctx": {"users": []}}))
        );
    }

    #[test]
    fn handler_errors_panics_and_bad_json_become_error_replies() {
        let fail = round_trip(br#"{"function": "fail"}"#);
        assert_eq!(fail, PluginReply::Error("asked to fail".to_owned()));
        let PluginReply::Error(panic) = round_trip(br#"{"function": "explode"}"#) else {
            panic!("a panic must become an error reply");
        };
        assert_eq!(panic, "the plugin panicked: unknown function explode");
        let PluginReply::Error(bad) = round_trip(b"not json") else {
            panic!("bad JSON must become an error reply");
        };
        assert!(bad.starts_with("the call is not valid JSON"), "{bad}");
    }
}
