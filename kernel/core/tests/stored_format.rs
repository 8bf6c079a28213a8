//! The stored ISMS record's shape is pinned: the JSON fields of its parts
//! (head and answers; every path of object keys, arrays as `[]`) must
//! equal `stored-isms-record.keys`. A
//! renamed engine or model field that would change what the store holds,
//! silently, fails here; a deliberate change updates the file (and, for
//! stores already written, the record's format version and a migration).

use std::collections::BTreeSet;
use std::path::Path;

use mmsm_kernel::access::Principal;
use mmsm_kernel::services::Kernel;
use mmsm_schema::profiles;
use mmsm_store::{Repo, Store};
use serde_json::Value;

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/msgs");
const PROFILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/msgs-profile.yaml"
);
const PINNED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stored-isms-record.keys");

fn paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                // Map keys that are ids (answers by subcontrol, ...) are data, not fields.
                let field = if key.chars().next().is_some_and(|c| c.is_ascii_digit())
                    || key.contains('.')
                {
                    "{id}"
                } else {
                    key.as_str()
                };
                let path = format!("{prefix}/{field}");
                out.insert(path.clone());
                paths(v, &path, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                paths(v, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_stored_isms_record_keeps_its_fields() {
    let kernel = Kernel::new(Store::temporary().unwrap());
    let local = Principal::local_operator();
    let schema = mmsm_schema::load_path(Path::new(FIXTURE)).unwrap().schema;
    kernel.import_schema(&local, schema).unwrap();
    let profile = profiles::read_profile(Path::new(PROFILE)).unwrap();
    let id = kernel
        .generate_isms(&local, profile, None, Some("msgs"))
        .unwrap()
        .id;
    // The parts of the layout (services/stored.rs): the head and the
    // answers' buckets (the board is derived, not stored).
    let store = kernel.store();
    let mut found = BTreeSet::new();
    let head: Value = store
        .get(Repo::Isms, &format!("isms/{id}"))
        .unwrap()
        .unwrap();
    assert_eq!(head["record_format"], 2, "the layout's version is written");
    paths(&head, "head", &mut found);
    let buckets: Vec<(String, Value)> = store
        .scan(Repo::Isms, &format!("isms-answers/{id}/"))
        .unwrap();
    assert!(!buckets.is_empty(), "the answers are stored");
    for (_, bucket) in &buckets {
        paths(bucket, "answers", &mut found);
    }
    let found: Vec<String> = found.into_iter().collect();
    let pinned = std::fs::read_to_string(PINNED).unwrap_or_default();
    let pinned: Vec<&str> = pinned.lines().filter(|l| !l.is_empty()).collect();
    if std::env::var_os("MMSM_PIN").is_some() {
        std::fs::write(PINNED, found.join("\n") + "\n").unwrap();
        return;
    }
    assert_eq!(
        found, pinned,
        "the stored ISMS record changed shape; if deliberate, run with MMSM_PIN=1 to update {PINNED}"
    );
}
