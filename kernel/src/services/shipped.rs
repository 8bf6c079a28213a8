//! The schemas shipped with mmsm (embedded from `schemas/` at build time).

use std::path::PathBuf;

use crate::schema_docs::SourceFile;

include!(concat!(env!("OUT_DIR"), "/shipped_schemas.rs"));

/// The shipped schemas as (folder, documents), `base` first (clones refer to it).
pub fn shipped_schema_files() -> Vec<(String, Vec<SourceFile>)> {
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
