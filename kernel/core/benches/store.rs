//! The store and the services over it, on a real sled store in a temp dir:
//! importing the base schema, reading a schema version, generating the sample
//! SME's ISMS, and one answer from the command to the stored, updated board.
//!
//! Run: `cargo bench -p mmsm-kernel --bench store`

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use mmsm_engine::{synth, Change};
use mmsm_kernel::access::Principal;
use mmsm_kernel::services::Kernel;
use mmsm_model::{Answer, Enterprise, Profile, SubControlId};
use mmsm_schema as schema_docs;
use mmsm_schema::profiles;
use mmsm_store::Store;

fn repo(path: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn bench(c: &mut Criterion) {
    let who = Principal::local_operator();
    let base = schema_docs::load_path(&repo("schemas/base"))
        .expect("the base schema loads")
        .schema;
    // The sample clinic is generated on the schema made for its sector.
    let health = schema_docs::load_path(&repo("schemas/health-small"))
        .expect("the health schema loads")
        .schema;
    let profile_path = repo("schemas/examples/dental-clinic.yaml");
    let profile = profiles::read_profile(&profile_path).expect("the sample profile parses");

    c.bench_function("load and validate schemas/base from YAML", |b| {
        b.iter(|| schema_docs::load_path(&repo("schemas/base")).unwrap())
    });

    c.bench_function("import the base schema into an empty store", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let kernel = Kernel::new(Store::open(dir.path()).unwrap());
                (dir, kernel)
            },
            |(dir, kernel)| {
                kernel.import_schema(&who, base.clone()).unwrap();
                dir
            },
            criterion::BatchSize::PerIteration,
        )
    });

    let dir = tempfile::tempdir().unwrap();
    let kernel = Kernel::new(Store::open(dir.path()).unwrap());
    kernel.import_schema(&who, base.clone()).unwrap();
    kernel.import_schema(&who, health).unwrap();
    c.bench_function("read the latest base schema version", |b| {
        b.iter(|| kernel.schema(&who, "base", None).unwrap())
    });

    c.bench_function("generate the sample SME's ISMS (one transaction)", |b| {
        b.iter(|| {
            kernel
                .generate_isms(&who, profile.clone(), None, None)
                .unwrap()
        })
    });

    let id = kernel
        .generate_isms(&who, profile.clone(), None, None)
        .unwrap()
        .id;
    let mut yes = true;
    c.bench_function(
        "answer one subcontrol: read, re-value, store board and history",
        |b| {
            b.iter(|| {
                yes = !yes;
                let answer = if yes { Answer::Yes } else { Answer::No };
                let change = Change::Answer {
                    subcontrol: SubControlId::new("8.13.2"),
                    answer: Some(answer),
                };
                kernel
                    .update_isms(&who, id.as_str(), change, "answer")
                    .unwrap()
            })
        },
    );

    c.bench_function("read an ISMS's board", |b| {
        b.iter(|| kernel.isms(&who, id.as_str()).unwrap().board)
    });

    large_answer(c, &who);
}

/// The answer path on the engine benchmark's large shape (1,200 controls,
/// 6,000 subcontrols, 300 assets), through the kernel, store write included:
/// the live engine applies the change (issue 12).
fn large_answer(c: &mut Criterion, who: &Principal) {
    let (mut schema, inputs) = synth::generate(&synth::Params::large(), 42);
    schema.schema.id = mmsm_model::SchemaId::new("large");
    let dir = tempfile::tempdir().unwrap();
    let kernel = Kernel::new(Store::open(dir.path()).unwrap());
    kernel.import_schema(who, schema.clone()).unwrap();
    let profile = Profile {
        enterprise: Enterprise {
            name: "Large".into(),
            sector: schema
                .sectors
                .first()
                .map_or_else(|| mmsm_model::SectorId::new("any"), |s| s.id.clone()),
            employees: 40,
            turnover_eur: None,
        },
        schema: None,
        target_level: None,
        speaker: None,
        departments: Vec::new(),
        users: Vec::new(),
        business_checklist: Default::default(),
        answers: inputs.answers.clone(),
        assets: inputs.assets.clone(),
    };
    let id = kernel
        .generate_isms(who, profile, None, Some("large"))
        .unwrap()
        .id;
    let subs: Vec<SubControlId> = inputs.answers.keys().cloned().collect();
    let mut n = 0usize;
    c.bench_function(
        "large shape: answer one subcontrol through the kernel (live engine, store write)",
        |b| {
            b.iter(|| {
                n += 1;
                let answer = if n.is_multiple_of(2) {
                    Answer::Yes
                } else {
                    Answer::No
                };
                let change = Change::Answer {
                    subcontrol: subs[(n * 7919) % subs.len()].clone(),
                    answer: Some(answer),
                };
                kernel
                    .update_isms(who, id.as_str(), change, "answer")
                    .unwrap()
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
