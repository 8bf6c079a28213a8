//! Embeds the shipped schemas (`schemas/*/`, except `standards/` and `examples/`) into the
//! kernel, so that an installed binary works outside the repository.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let schemas = manifest.join("..").join("..").join("schemas");
    println!("cargo:rerun-if-changed={}", schemas.display());
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&schemas) {
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_dir()
                    && p.file_name()
                        .is_some_and(|n| n != "standards" && n != "examples")
            })
            .collect();
        dirs.sort();
        for dir in dirs {
            collect(&dir, &mut files);
        }
    }
    files.sort();
    let mut out = String::from("/// Shipped schema documents: (schema folder, path under schemas/, text).\npub static SHIPPED: &[(&str, &str, &str)] = &[\n");
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&schemas).unwrap();
        let folder = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        writeln!(
            out,
            "    ({:?}, {:?}, include_str!({:?})),",
            folder,
            rel.to_string_lossy(),
            file.canonicalize().unwrap().display().to_string()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("shipped_schemas.rs");
    std::fs::write(dest, out).unwrap();
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, out);
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json" | "toml")
        ) {
            out.push(path);
        }
    }
}
