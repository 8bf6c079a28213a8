//! Engine tests: the worked examples of DESIGN.md 4.2 and 4.3, edge cases, and
//! property tests of the incremental invariant (DESIGN.md 4.6).

mod examples;
mod properties;
mod reference;

use std::sync::Arc;

use super::*;
use mmsm_model::*;

/// Parses a schema written in YAML (the exchange format of DESIGN.md 3).
fn schema(yaml: &str) -> Arc<Schema> {
    Arc::new(serde_saphyr::from_str(yaml).expect("test schema parses"))
}

/// Parses inputs written in YAML.
fn inputs(yaml: &str) -> Inputs {
    serde_saphyr::from_str(yaml).expect("test inputs parse")
}

/// Asserts two numbers agree within 1e-9.
#[track_caller]
fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-9,
        "expected {expected}, got {actual}"
    );
}

/// The value of a subject, which must exist and be applicable.
#[track_caller]
fn value(engine: &Engine, subject: &str) -> f64 {
    let subject: Subject = subject.parse().expect("subject parses");
    engine
        .value(&subject)
        .expect("subject exists")
        .expect("subject is applicable")
}
