//! A generator of synthetic schemas and ISMSs, for benchmarks and property tests.
//!
//! Deterministic for a given [`Params`] and seed (its own small PRNG: the engine
//! depends on nothing but the model). Shapes follow the base schema: domains of
//! controls with subcontrols at levels 1..3, a tree of asset types whose TAD rows
//! are inherited, vulnerability gating on some threats, and asset groups.

use std::collections::{BTreeMap, HashSet};

use super::inputs::Inputs;
use mmsm_model::*;

/// The sizes of a synthetic schema and ISMS.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Domains of controls.
    pub domains: usize,
    /// Objectives per domain (0: controls hang from their domain).
    pub objectives_per_domain: usize,
    /// Controls in all.
    pub controls: usize,
    /// Subcontrols in all (at least one per control).
    pub subcontrols: usize,
    /// Threats.
    pub threats: usize,
    /// Asset types (a tree).
    pub asset_types: usize,
    /// TAD rows declared by a root asset type (children declare a few of their own).
    pub threats_per_root_type: usize,
    /// Vulnerabilities.
    pub vulnerabilities: usize,
    /// threat_control rows (distinct pairs).
    pub links: usize,
    /// Assets, groups included.
    pub assets: usize,
    /// How many of the assets are groups of others.
    pub groups: usize,
    /// Share of subcontrols answered `na`.
    pub na_share: f64,
    /// Share of subcontrols left unanswered.
    pub unanswered_share: f64,
    /// Share of subcontrols with a measured value.
    pub measured_share: f64,
    /// Share of mandatory subcontrols.
    pub mandatory_share: f64,
}

impl Params {
    /// About the base schema: 93 controls, 300 subcontrols, 50 threats, 25 asset types, 15 assets.
    pub fn small() -> Params {
        Params {
            domains: 4,
            objectives_per_domain: 0,
            controls: 93,
            subcontrols: 300,
            threats: 50,
            asset_types: 25,
            threats_per_root_type: 12,
            vulnerabilities: 30,
            links: 600,
            assets: 15,
            groups: 2,
            na_share: 0.05,
            unanswered_share: 0.05,
            measured_share: 0.05,
            mandatory_share: 0.1,
        }
    }

    /// 1,200 controls, 6,000 subcontrols, 60 threats, 300 assets, 12,000 threat-control links.
    pub fn large() -> Params {
        Params {
            domains: 12,
            objectives_per_domain: 8,
            controls: 1_200,
            subcontrols: 6_000,
            threats: 60,
            asset_types: 100,
            threats_per_root_type: 12,
            vulnerabilities: 60,
            links: 12_000,
            assets: 300,
            groups: 10,
            ..Params::small()
        }
    }

    /// Ten times large.
    pub fn xl() -> Params {
        Params {
            domains: 40,
            objectives_per_domain: 20,
            controls: 12_000,
            subcontrols: 60_000,
            threats: 600,
            asset_types: 1_000,
            threats_per_root_type: 12,
            vulnerabilities: 600,
            links: 120_000,
            assets: 3_000,
            groups: 100,
            ..Params::small()
        }
    }

    /// Small random sizes for property tests, drawn from `seed`.
    pub fn tiny(seed: u64) -> Params {
        let mut rng = Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
        let controls = 1 + rng.below(7);
        let threats = rng.below(6);
        Params {
            domains: 1 + rng.below(3),
            objectives_per_domain: rng.below(3),
            controls,
            subcontrols: controls + rng.below(3 * controls + 1),
            threats,
            asset_types: 1 + rng.below(6),
            threats_per_root_type: rng.below(threats + 1),
            vulnerabilities: rng.below(4),
            links: rng.below(threats * controls + 1),
            assets: rng.below(7),
            groups: rng.below(3),
            na_share: 0.15,
            unanswered_share: 0.15,
            measured_share: 0.15,
            mandatory_share: 0.25,
        }
    }
}

/// A small deterministic PRNG (splitmix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (0 when n is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// Uniform in [0,1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

const PERCENTS: [f64; 5] = [10.0, 30.0, 50.0, 70.0, 100.0];
const PROBABILITIES: [f64; 5] = [20.0, 40.0, 60.0, 80.0, 100.0];
const EFFECTS: [f64; 5] = [20.0, 40.0, 60.0, 80.0, 100.0];

fn dimensions(rng: &mut Rng) -> BTreeMap<Dimension, f64> {
    let mut degradation = BTreeMap::new();
    let n = 1 + rng.below(3);
    for _ in 0..n {
        degradation.insert(rng.pick(&Dimension::ALL), rng.pick(&PERCENTS));
    }
    degradation
}

/// A synthetic schema and the inputs of one ISMS over it.
pub fn generate(params: &Params, seed: u64) -> (Schema, Inputs) {
    let mut rng = Rng::new(seed);
    let mut schema = Document::default().with_header(SchemaHeader {
        id: SchemaId::new("synth"),
        name: "Synthetic schema".into(),
        version: 1,
        based_on: None,
        description: None,
        applies_to: AppliesTo::default(),
        target_level: [("micro", 1), ("small", 2), ("medium", 3)]
            .into_iter()
            .map(|(s, l)| (SizeId::new(s), l))
            .collect(),
        min_sample: None,
    });
    schema.sizes = [("micro", 9, 2e6), ("small", 49, 1e7), ("medium", 249, 5e7)]
        .into_iter()
        .map(|(id, employees, turnover)| Size {
            id: SizeId::new(id),
            name: id.into(),
            max_employees: Some(employees),
            max_turnover_eur: Some(turnover),
            description: None,
        })
        .collect();

    for d in 0..params.domains.max(1) {
        let domain = DomainId::new((5 + d).to_string());
        for o in 0..params.objectives_per_domain {
            schema.objectives.push(Objective {
                id: ObjectiveId::new(format!("O{}.{}", 5 + d, o + 1)),
                domain: domain.clone(),
                name: format!("Objective {}.{}", 5 + d, o + 1),
                description: None,
            });
        }
        schema.domains.push(Domain {
            id: domain,
            name: format!("Domain {}", 5 + d),
            description: None,
            in_soa: true,
        });
    }

    let n_controls = params.controls;
    let mut per_control = vec![1usize; n_controls];
    for _ in n_controls..params.subcontrols.max(n_controls) {
        per_control[rng.below(n_controls)] += 1;
    }
    for (c, n_subcontrols) in per_control.iter().copied().enumerate() {
        let d = c % schema.domains.len();
        let domain = schema.domains[d].id.clone();
        let number = c / schema.domains.len() + 1;
        let id = format!("{domain}.{number}");
        let objective = (params.objectives_per_domain > 0 && rng.unit() < 0.85).then(|| {
            ObjectiveId::new(format!(
                "O{domain}.{}",
                rng.below(params.objectives_per_domain) + 1
            ))
        });
        let subcontrols = (0..n_subcontrols)
            .map(|k| {
                let roll = rng.unit();
                SubControl {
                    id: SubControlId::new(format!("{id}.{}", k + 1)),
                    text: format!("Is {id}.{} in place?", k + 1),
                    level: if roll < 0.45 {
                        1
                    } else if roll < 0.8 {
                        2
                    } else {
                        3
                    },
                    weight: rng.pick(&[1.0, 1.0, 1.0, 2.0, 0.5]),
                    mandatory: rng.unit() < params.mandatory_share,
                }
            })
            .collect();
        schema.controls.push(Control {
            id: ControlId::new(id),
            domain,
            objective,
            title: format!("Control {c}"),
            description: None,
            effort: rng.pick(&[1.0, 2.0, 3.0, 5.0]),
            subcontrols,
        });
    }

    let origins = [
        ("N", Origin::Natural),
        ("I", Origin::Industrial),
        ("E", Origin::Error),
        ("A", Origin::Attack),
    ];
    for t in 0..params.threats {
        let (prefix, origin) = origins[t % 4];
        schema.threats.push(Threat {
            id: ThreatId::new(format!("{prefix}.{}", t / 4 + 1)),
            name: format!("Threat {t}"),
            origin,
            dimensions: Vec::new(),
            description: None,
        });
    }
    for v in 0..params.vulnerabilities {
        schema.vulnerabilities.push(Vulnerability {
            id: VulnerabilityId::new(format!("V{}", v + 1)),
            name: format!("Vulnerability {}", v + 1),
            description: None,
        });
    }
    let roots = params.asset_types.div_ceil(5).max(1);
    for t in 0..params.asset_types {
        let parent = (t >= roots).then(|| AssetTypeId::new(format!("T{}", rng.below(t) + 1)));
        schema.asset_types.push(AssetType {
            id: AssetTypeId::new(format!("T{}", t + 1)),
            name: format!("Asset type {}", t + 1),
            parent,
            description: None,
        });
    }

    let matrices = &mut schema.matrices;
    for t in 0..params.asset_types {
        let rows = if t < roots {
            params.threats_per_root_type
        } else if rng.unit() < 0.4 {
            1 + rng.below(3)
        } else {
            0
        };
        let mut seen = HashSet::new();
        for _ in 0..rows.min(params.threats) {
            let threat = rng.below(params.threats);
            if !seen.insert(threat) {
                continue;
            }
            matrices.asset_type_threat.push(AssetTypeThreat {
                asset_type: AssetTypeId::new(format!("T{}", t + 1)),
                threat: schema.threats[threat].id.clone(),
                probability: rng.pick(&PROBABILITIES),
                degradation: dimensions(&mut rng),
            });
        }
        if params.vulnerabilities > 0 {
            for _ in 0..rng.below(3) {
                matrices
                    .asset_type_vulnerability
                    .push(AssetTypeVulnerability {
                        asset_type: AssetTypeId::new(format!("T{}", t + 1)),
                        vulnerability: VulnerabilityId::new(format!(
                            "V{}",
                            rng.below(params.vulnerabilities) + 1
                        )),
                    });
            }
        }
    }
    if params.vulnerabilities > 0 {
        for threat in &schema.threats {
            if rng.unit() < 0.3 {
                for _ in 0..1 + rng.below(2) {
                    matrices.threat_vulnerability.push(ThreatVulnerability {
                        threat: threat.id.clone(),
                        vulnerability: VulnerabilityId::new(format!(
                            "V{}",
                            rng.below(params.vulnerabilities) + 1
                        )),
                    });
                }
            }
        }
    }
    let links = params.links.min(params.threats * n_controls);
    // With many controls per threat, full effects would drive every product of
    // (1 - C*E/100) to 0 (one fully met control with E = 100 is enough): scale the
    // effects so that a threat's sum of C*E/100 stays near 2, as with the few controls
    // per threat of the base schema.
    let per_threat = links as f64 / params.threats.max(1) as f64;
    let effect_scale = (5.0 / per_threat).min(1.0);
    let mut linked = HashSet::new();
    while linked.len() < links {
        let (t, c) = (rng.below(params.threats), rng.below(n_controls));
        if linked.insert((t, c)) {
            matrices.threat_control.push(ThreatControl {
                threat: schema.threats[t].id.clone(),
                control: schema.controls[c].id.clone(),
                effect: rng.pick(&EFFECTS) * effect_scale,
            });
        }
    }

    let inputs = synth_inputs(&schema, params, &mut rng);
    (schema, inputs)
}

fn synth_inputs(schema: &Schema, params: &Params, rng: &mut Rng) -> Inputs {
    let mut inputs = Inputs {
        employees: Some(rng.pick(&[5, 30, 120, 400])),
        ..Inputs::default()
    };
    for (_, sub) in schema.subcontrols() {
        let roll = rng.unit();
        if roll < params.na_share {
            inputs.answers.insert(sub.id.clone(), Answer::Na);
        } else if roll >= params.na_share + params.unanswered_share {
            let answer = rng.pick(&[
                Answer::Yes,
                Answer::Yes,
                Answer::Partial,
                Answer::No,
                Answer::Unknown,
            ]);
            inputs.answers.insert(sub.id.clone(), answer);
        }
        if rng.unit() < params.measured_share {
            inputs
                .measured
                .insert(sub.id.clone(), rng.pick(&[0.0, 0.25, 0.5, 0.9, 1.0]));
        }
    }
    if schema.asset_types.is_empty() {
        return inputs;
    }
    let plain = params.assets.saturating_sub(params.groups);
    for a in 0..params.assets {
        let asset_type = schema.asset_types[rng.below(schema.asset_types.len())]
            .id
            .clone();
        let mut asset = Asset {
            id: AssetId::new(format!("a{}", a + 1)),
            name: format!("Asset {}", a + 1),
            asset_type,
            values: BTreeMap::new(),
            strategic_value: None,
            requirements: BTreeMap::new(),
            members: Vec::new(),
            depends_on: Vec::new(),
            description: None,
        };
        if a >= plain && a > 0 {
            for _ in 0..2 + rng.below(3) {
                asset
                    .members
                    .push(AssetId::new(format!("a{}", rng.below(a) + 1)));
            }
        } else if rng.unit() < 0.5 {
            for dimension in Dimension::ALL {
                if rng.unit() < 0.7 {
                    asset.values.insert(dimension, rng.below(11) as f64);
                }
            }
        } else {
            asset.strategic_value = Some(rng.below(11) as f64);
            if rng.unit() < 0.6 {
                for dimension in Dimension::ALL {
                    asset.requirements.insert(dimension, rng.below(4) as f64);
                }
            }
        }
        inputs.assets.push(asset);
    }
    // About a third of the plain assets rest on another one (data on a server), which
    // then holds their value; drawn after the assets so that their shapes stay as they were.
    for a in 0..plain {
        if params.assets > 1 && rng.unit() < 0.3 {
            let support = (a + 1 + rng.below(params.assets - 1)) % params.assets;
            inputs.assets[a]
                .depends_on
                .push(AssetId::new(format!("a{}", support + 1)));
        }
    }
    inputs
}
