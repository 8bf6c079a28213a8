//! Metric benchmark (BENCHMARKS.md, "Metrics"): `metric run` of the 20
//! shipped metrics on the demo ISMS with the sample evidence: snapshot, Lua
//! calls, and one transaction storing the values and re-valuing the board
//! incrementally.
//!
//! Run with `cargo bench -p mmsm-kernel --bench metrics`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::Kernel;
use mmsm_registry::{Registry, RegistryConfig};
use mmsm_schema::profiles;
use mmsm_store::Store;

fn run_all(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let kernel = Kernel::new(Store::temporary().unwrap());
    kernel
        .ensure_shipped_schemas(mmsm_shipped::schema_files())
        .unwrap();
    let path = Path::new("schemas/examples/dental-clinic.yaml");
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    let profile = profiles::parse_profile(path, &text).unwrap();
    let who = Principal::local_operator();
    let id = kernel
        .generate_isms(&who, profile, Some(path), None)
        .unwrap()
        .id;
    let mut config = RegistryConfig::new(root.join("scripts"), None);
    config.host.evidence_dir = Some(root.join("scripts/evidence-sample"));
    config.host.log = Arc::new(|_: &_| {});
    let registry = Registry::load(config).0;
    let mut day = 0u64;
    c.bench_function("metric run: 20 metrics on the demo ISMS", |b| {
        b.iter(|| {
            // A new day each time, so that every value is stored again.
            day += 1;
            let now = UNIX_EPOCH + Duration::from_secs(1_795_824_000 + day * 60);
            let run = kernel
                .run_metrics(&who, &registry, id.as_str(), None, now)
                .unwrap();
            assert_eq!(run.metrics.len(), 20);
        })
    });
}

criterion_group!(benches, run_all);
criterion_main!(benches);
