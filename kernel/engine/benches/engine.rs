//! Engine benchmarks (issue 3): build + full recompute, one incremental answer
//! update, one asset revaluation and the full plan, on synthetic schemas of three
//! sizes. Figures and the command are in BENCHMARKS.md.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mmsm_engine::synth::{self, Params};
use mmsm_engine::{Change, Engine, SchemaIndex};
use mmsm_model::{Answer, SubControlId};

fn bench_size(c: &mut Criterion, name: &str, params: Params) {
    let (schema, inputs) = synth::generate(&params, 42);
    let schema = Arc::new(schema);
    let index = Arc::new(SchemaIndex::new(schema.clone()));
    let engine = Engine::with_index(index.clone(), inputs.clone());
    eprintln!(
        "{name}: {} controls, {} subcontrols, {} threats, {} asset types, {} assets, {} links, {} pairs, {} plan items",
        schema.controls.len(),
        schema.subcontrols().count(),
        schema.threats.len(),
        schema.asset_types.len(),
        inputs.assets.len(),
        schema.matrices.threat_control.len(),
        engine.risks().len(),
        engine.plan().len(),
    );

    let mut group = c.benchmark_group(format!("engine/{name}"));
    if name == "xl" {
        group.sample_size(10);
    }
    group.bench_function("build (compile schema + inputs + full compute)", |b| {
        b.iter_batched(
            || inputs.clone(),
            |inputs| Engine::new(schema.clone(), inputs),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("inputs + full compute (compiled schema)", |b| {
        b.iter_batched(
            || inputs.clone(),
            |inputs| Engine::with_index(index.clone(), inputs),
            BatchSize::LargeInput,
        )
    });
    group.bench_function("full recompute", |b| b.iter(|| engine.recompute()));

    // One answer flipped yes <-> no, cycling over every 7th subcontrol so that the
    // controls (and their threats) vary from one update to the next.
    let subs: Vec<SubControlId> = schema
        .subcontrols()
        .map(|(_, s)| s.id.clone())
        .step_by(7)
        .collect();
    let mut updated = engine.clone();
    let mut yes = vec![false; subs.len()];
    for (s, flag) in subs.iter().zip(&mut yes) {
        updated
            .apply(Change::Answer {
                subcontrol: s.clone(),
                answer: Some(Answer::No),
            })
            .expect("known subcontrol");
        *flag = false;
    }
    let mut next = 0;
    group.bench_function("one incremental answer update", |b| {
        b.iter(|| {
            let i = next % subs.len();
            next += 1;
            yes[i] = !yes[i];
            let answer = if yes[i] { Answer::Yes } else { Answer::No };
            updated
                .apply(Change::Answer {
                    subcontrol: subs[i].clone(),
                    answer: Some(answer),
                })
                .expect("known subcontrol")
        })
    });

    // One asset revalued: its strategic value toggles between 9 and 3, cycling over
    // the assets that are not groups.
    let assets: Vec<_> = inputs
        .assets
        .iter()
        .filter(|a| a.members.is_empty())
        .cloned()
        .collect();
    let mut revalued = engine.clone();
    let mut high = vec![false; assets.len()];
    let mut next = 0;
    group.bench_function("one asset revaluation", |b| {
        b.iter(|| {
            let i = next % assets.len();
            next += 1;
            high[i] = !high[i];
            let mut asset = assets[i].clone();
            asset.strategic_value = Some(if high[i] { 9.0 } else { 3.0 });
            asset.values.clear();
            revalued
                .apply(Change::AssetValue { asset })
                .expect("known asset type")
        })
    });

    group.bench_function("full plan", |b| b.iter(|| black_box(&engine).plan()));
    group.bench_function("board", |b| b.iter(|| black_box(&engine).board()));
    group.finish();
}

/// Runs the sizes named in `MMSM_BENCH_SIZES` (comma-separated; all by default): each
/// size is generated before its benchmarks run, whatever criterion's filter says.
fn engine_benches(c: &mut Criterion) {
    let sizes = std::env::var("MMSM_BENCH_SIZES").unwrap_or_else(|_| "small,large,xl".into());
    for size in sizes.split(',') {
        match size.trim() {
            "small" => bench_size(c, "small", Params::small()),
            "large" => bench_size(c, "large", Params::large()),
            "xl" => bench_size(c, "xl", Params::xl()),
            other => eprintln!("MMSM_BENCH_SIZES: unknown size `{other}` (small, large, xl)"),
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = engine_benches
}
criterion_main!(benches);
