//! Importer benchmark (BENCHMARKS.md, "Importers"): `oscal-catalog` on
//! `NIST_SP-800-53_rev5_catalog.json` (target <= 300 ms), end to end as
//! `mmsm import` does it: read and parse the file, run the Lua importer,
//! merge, validate and store into a fresh store. Reads the file in place in
//! `../shared/data/` (never copied into the repository).
//!
//! Run with `cargo bench -p mmsm-kernel --bench importers`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::{Kernel, NoProgress};
use mmsm_registry::{Registry, RegistryConfig};
use mmsm_store::Store;

fn import_800_53(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join("../shared/data/nist-oscal/NIST_SP-800-53_rev5_catalog.json");
    let mut config = RegistryConfig::new(root.join("scripts"), None);
    config.host.limits.time = Duration::from_secs(60);
    config.host.limits.memory = 1 << 30;
    config.host.log = Arc::new(|_: &_| {});
    let registry = Registry::load(config).0;
    let who = Principal::local_operator();
    let mut group = c.benchmark_group("importers");
    group.sample_size(20);
    group.bench_function("oscal-catalog NIST SP 800-53 rev5 (3.2 MB)", |b| {
        b.iter(|| {
            let kernel = Kernel::new(Store::temporary().unwrap());
            let summary = kernel
                .import_with_script(
                    &who,
                    &registry,
                    "oscal-catalog",
                    &file,
                    "nist",
                    true,
                    &NoProgress,
                )
                .unwrap();
            assert_eq!(summary.kinds["controls"].added, 298);
        })
    });
    group.finish();
}

criterion_group!(benches, import_800_53);
criterion_main!(benches);
