//! The schemas and the demo enterprise shipped with mmsm, embedded from
//! `schemas/` at build time, so that an installed binary works outside the
//! repository. Only the binary and the server depend on this crate: editing a
//! document under `schemas/` recompiles neither the engine nor the services.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

use std::path::PathBuf;

use mmsm_schema::SourceFile;

include!(concat!(env!("OUT_DIR"), "/shipped_schemas.rs"));

/// Where the demo enterprise's profile lives in the repository (named in its provenance).
pub const DEMO_PROFILE_PATH: &str = "schemas/examples/dental-clinic.yaml";

/// The demo enterprise's profile: a 25-person dental clinic.
pub const DEMO_PROFILE: &str = include_str!("../../../schemas/examples/dental-clinic.yaml");

/// The shipped schemas as (folder, documents), `base` first (clones refer to it).
pub fn schema_files() -> Vec<(String, Vec<SourceFile>)> {
    let mut folders: Vec<(String, Vec<SourceFile>)> = Vec::new();
    for (folder, path, text) in SHIPPED {
        let file = SourceFile {
            path: PathBuf::from("schemas").join(path),
            text: (*text).to_owned(),
        };
        match folders.iter_mut().find(|(f, _)| f == folder) {
            Some((_, files)) => files.push(file),
            None => folders.push(((*folder).to_owned(), vec![file])),
        }
    }
    folders.sort_by_key(|(folder, _)| (folder != "base", folder.clone()));
    folders
}
