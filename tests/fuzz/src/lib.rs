//! What each fuzz target feeds its input to. Shared with `tests/fuzz_replay.rs`,
//! which runs the seeds and the saved crashes through the same functions on
//! stable. Every function must return (an error is fine); a panic, a hang or an
//! abort is the finding.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mmsm_schema::profiles::{parse_profile, validate_profile};
use mmsm_schema::{load_files, SourceFile};

/// The fuzz targets, by name (the file names under `fuzz_targets/`).
pub const TARGETS: &[&str] = &[
    "schema_document",
    "profile",
    "import_csv",
    "import_json",
    "api_body",
];

/// Runs target `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "schema_document" => schema_document(data),
        "profile" => profile(data),
        "import_csv" => import_text("csv", data),
        "import_json" => import_text("json", data),
        "api_body" => api_body(data),
        _ => panic!("no fuzz target `{name}`"),
    }
}

/// A schema document on its own: parsed, merged, validated. (Next to the whole
/// base schema a run managed 24 inputs a second; the parser and the checks are
/// the same.)
pub fn schema_document(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = load_files(vec![SourceFile {
        path: PathBuf::from("fuzzed.yaml"),
        text: text.to_owned(),
    }]);
}

/// A profile: parsed as YAML, then checked against the base schema.
pub fn profile(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(profile) = parse_profile(Path::new("fuzzed.yaml"), text) {
        let _ = validate_profile(&profile, base_schema(), None);
    }
}

/// An importer's input, as `mmsm import` parses it before the script sees it.
pub fn import_text(format: &str, data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = mmsm_kernel::services::parse_input_text("fuzzed", format, text);
}

/// A JSON body of the API, read as every request type the API accepts.
pub fn api_body(data: &[u8]) {
    use mmsm_server::api::{documents, findings, isms, maintenance, schemas, session};
    macro_rules! read_as {
        ($($ty:ty),* $(,)?) => {
            $( let _ = serde_json::from_slice::<$ty>(data); )*
        };
    }
    read_as!(
        isms::AnswerRequest,
        isms::BusinessRequest,
        isms::WhyRequest,
        isms::CertifyRequest,
        maintenance::StartRequest,
        maintenance::AdvanceRequest,
        maintenance::ApplyRequest,
        maintenance::TakeRequest,
        maintenance::PlanFollowUpRequest,
        session::AccountRequest,
        session::Credentials,
        session::PasswordRequest,
        session::TokenRequest,
        session::AssignRequest,
        session::RolesRequest,
        schemas::CloneRequest,
        findings::FindingRequest,
        findings::ResponseRequest,
        findings::AuditHeldRequest,
        documents::SetRequest,
    );
}

fn base_files() -> &'static Vec<SourceFile> {
    static FILES: OnceLock<Vec<SourceFile>> = OnceLock::new();
    FILES.get_or_init(|| {
        mmsm_shipped::schema_files()
            .into_iter()
            .find(|(name, _)| name == "base")
            .expect("the shipped base schema")
            .1
    })
}

fn base_schema() -> &'static mmsm_model::Schema {
    static SCHEMA: OnceLock<mmsm_model::Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| load_files(base_files().clone()).expect("base loads").schema)
}

/// The seed files of `target` listed in `tests/fuzz/seeds.txt`, under the
/// repository's `root`; patterns that match nothing (a missing ../shared) give
/// nothing.
pub fn seeds(root: &Path, target: &str) -> Vec<PathBuf> {
    let list =
        std::fs::read_to_string(root.join("tests/fuzz/seeds.txt")).expect("tests/fuzz/seeds.txt");
    let mut found = Vec::new();
    for line in list.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, pattern) = line.split_once(' ').expect("`TARGET PATTERN`");
        if name == target {
            expand(root, pattern.trim(), &mut found);
        }
    }
    found.sort();
    found
}

/// Every file matching `pattern` (segments with at most one `*`) under `dir`.
fn expand(dir: &Path, pattern: &str, found: &mut Vec<PathBuf>) {
    let (segment, rest) = match pattern.split_once('/') {
        Some((segment, rest)) => (segment, Some(rest)),
        None => (pattern, None),
    };
    let candidates: Vec<PathBuf> = match segment.split_once('*') {
        None => vec![dir.join(segment)],
        Some((prefix, suffix)) => std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy().into_owned();
                        name.len() >= prefix.len() + suffix.len()
                            && name.starts_with(prefix)
                            && name.ends_with(suffix)
                    })
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default(),
    };
    for candidate in candidates {
        match rest {
            Some(rest) if candidate.is_dir() => expand(&candidate, rest, found),
            None if candidate.is_file() => found.push(candidate),
            _ => {}
        }
    }
}
