//! The fuzz targets' seeds and saved regressions, replayed on stable (issue
//! 18.6): `cargo fuzz` needs nightly, so what it found stays tested everywhere.
//! A crash file goes to `tests/fuzz/regressions/TARGET/` once it is fixed.

#[path = "fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

mod common;

use common::repo_root;

#[test]
fn every_seed_and_regression_runs_through_its_target() {
    let root = repo_root();
    for target in targets::TARGETS {
        let mut inputs = targets::seeds(root, target);
        assert!(!inputs.is_empty(), "{target} has no seed in this checkout");
        if let Ok(entries) = std::fs::read_dir(root.join("tests/fuzz/regressions").join(target)) {
            inputs.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
        }
        for input in inputs {
            let data = std::fs::read(&input).unwrap();
            targets::run(target, &data);
        }
    }
}

#[test]
fn the_targets_reject_what_is_not_their_input_without_panicking() {
    for target in targets::TARGETS {
        for data in [
            &b""[..],
            b"\xff\xfe\x00",
            b"{",
            b"- - - [",
            b"a,b\n1,2,3\n\"open",
            b"schema: { id: ../../etc }",
        ] {
            targets::run(target, data);
        }
    }
}
