//! The schema as dense indices and sparse matrices, built once per schema version.
//!
//! Ids become `u32` positions; every relation the engine walks (subcontrols of a
//! control, controls of a threat, threats of a control, threats of an asset
//! type after inheritance and vulnerability gating) becomes a plain vector.
//! Rows that do not resolve are skipped and listed in [`SchemaIndex::problems`].

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::sync::Arc;

use mmsm_model::{natural_cmp, Band, Dimension, Schema, StatusBands};

/// The number of dimensions of an asset's value.
pub(crate) const DIMENSIONS: usize = 5;

/// The position of a dimension in `[f64; DIMENSIONS]` rows.
pub(crate) fn dimension_slot(dimension: Dimension) -> usize {
    match dimension {
        Dimension::D => 0,
        Dimension::I => 1,
        Dimension::C => 2,
        Dimension::A => 3,
        Dimension::T => 4,
    }
}

/// A subcontrol of the index.
#[derive(Debug, Clone)]
pub(crate) struct SubInfo {
    pub(crate) id: String,
    pub(crate) control: u32,
    pub(crate) level: u8,
    pub(crate) weight: f64,
    pub(crate) mandatory: bool,
    /// Position among the subcontrols of its level.
    pub(crate) level_slot: u32,
}

/// A control of the index.
#[derive(Debug, Clone)]
pub(crate) struct ControlInfo {
    pub(crate) id: String,
    pub(crate) effort: f64,
    pub(crate) subs: Range<u32>,
    /// The objective, when the control has one that resolves.
    pub(crate) objective: Option<u32>,
    pub(crate) domain: u32,
    /// Position among the children of its objective, or of its domain when it has no objective.
    pub(crate) parent_slot: u32,
    /// The threats it mitigates, with the position of the link in the threat's links.
    pub(crate) threats: Vec<(u32, u32)>,
    /// Position in the natural order of control ids.
    pub(crate) natural_rank: u32,
}

/// An objective of the index.
#[derive(Debug, Clone)]
pub(crate) struct ObjectiveInfo {
    pub(crate) id: String,
    pub(crate) domain_slot: u32,
    pub(crate) controls: Vec<u32>,
}

/// A child of a domain: one of its objectives or one of its controls without objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DomainChild {
    Objective(u32),
    Control(u32),
}

/// A domain of the index.
#[derive(Debug, Clone)]
pub(crate) struct DomainInfo {
    pub(crate) id: String,
    pub(crate) children: Vec<DomainChild>,
}

/// A maturity level of the index.
#[derive(Debug, Clone)]
pub(crate) struct LevelInfo {
    pub(crate) level: u8,
    /// On the 0..1 scale.
    pub(crate) threshold: f64,
    pub(crate) subs: Vec<u32>,
}

/// A threat-control link: E(c,t).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Link {
    pub(crate) control: u32,
    /// 0..100.
    pub(crate) effect: f64,
}

/// A threat of the index.
#[derive(Debug, Clone)]
pub(crate) struct ThreatInfo {
    pub(crate) id: String,
    pub(crate) links: Vec<Link>,
}

/// A row of the TAD matrix.
#[derive(Debug, Clone)]
pub(crate) struct TadRow {
    /// The asset type that declares the row.
    pub(crate) asset_type: u32,
    pub(crate) probability: f64,
    pub(crate) degradation: [f64; DIMENSIONS],
    pub(crate) listed: [bool; DIMENSIONS],
}

/// A threat that applies to an asset type, with the TAD row that wins for it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TypeThreat {
    pub(crate) threat: u32,
    pub(crate) row: u32,
}

/// An asset type of the index.
#[derive(Debug, Clone)]
pub(crate) struct TypeInfo {
    pub(crate) id: String,
    /// The threats that apply, sorted by threat index.
    pub(crate) threats: Vec<TypeThreat>,
}

/// The schema compiled for the engine: dense indices and sparse matrices.
///
/// Built once per schema version by [`SchemaIndex::new`] and shared (`Arc`) by
/// every engine of that version.
#[derive(Debug, Clone)]
pub struct SchemaIndex {
    pub(crate) schema: Arc<Schema>,
    pub(crate) subs: Vec<SubInfo>,
    pub(crate) controls: Vec<ControlInfo>,
    pub(crate) objectives: Vec<ObjectiveInfo>,
    pub(crate) domains: Vec<DomainInfo>,
    pub(crate) levels: Vec<LevelInfo>,
    pub(crate) threats: Vec<ThreatInfo>,
    pub(crate) types: Vec<TypeInfo>,
    pub(crate) tad_rows: Vec<TadRow>,
    pub(crate) risk_bands: Vec<Band>,
    /// Whether the risk bands are in order and do not overlap (so a band holding a value
    /// is the first that does).
    pub(crate) disjoint_bands: bool,
    pub(crate) status_bands: StatusBands,
    pub(crate) sub_ids: HashMap<String, u32>,
    pub(crate) control_ids: HashMap<String, u32>,
    pub(crate) objective_ids: HashMap<String, u32>,
    pub(crate) domain_ids: HashMap<String, u32>,
    pub(crate) threat_ids: HashMap<String, u32>,
    pub(crate) type_ids: HashMap<String, u32>,
    problems: Vec<String>,
}

fn sane(value: f64, low: f64, high: f64) -> f64 {
    if value.is_nan() {
        low
    } else {
        value.clamp(low, high)
    }
}

impl SchemaIndex {
    /// Compiles `schema`. Never fails: rows that do not resolve are skipped and
    /// listed in [`SchemaIndex::problems`], values outside their scale are clamped.
    pub fn new(schema_arc: Arc<Schema>) -> SchemaIndex {
        let schema: &Schema = &schema_arc;
        let mut problems = Vec::new();

        // Domains, declared first, then any a control or objective names.
        let mut domains: Vec<DomainInfo> = Vec::new();
        let mut domain_ids: HashMap<String, u32> = HashMap::new();
        let mut domain_of = |id: &str, domains: &mut Vec<DomainInfo>| -> u32 {
            *domain_ids.entry(id.to_owned()).or_insert_with(|| {
                domains.push(DomainInfo {
                    id: id.to_owned(),
                    children: Vec::new(),
                });
                (domains.len() - 1) as u32
            })
        };
        for domain in &schema.domains {
            domain_of(domain.id.as_str(), &mut domains);
        }
        let mut objectives: Vec<ObjectiveInfo> = Vec::new();
        let mut objective_ids = HashMap::new();
        for objective in &schema.objectives {
            if objective_ids.contains_key(objective.id.as_str()) {
                problems.push(format!("objective `{}` declared twice", objective.id));
                continue;
            }
            let domain = domain_of(objective.domain.as_str(), &mut domains);
            let index = objectives.len() as u32;
            objective_ids.insert(objective.id.0.clone(), index);
            let domain_slot = domains[domain as usize].children.len() as u32;
            domains[domain as usize]
                .children
                .push(DomainChild::Objective(index));
            objectives.push(ObjectiveInfo {
                id: objective.id.0.clone(),
                domain_slot,
                controls: Vec::new(),
            });
        }

        let mut controls: Vec<ControlInfo> = Vec::new();
        let mut control_ids = HashMap::new();
        let mut subs: Vec<SubInfo> = Vec::new();
        let mut sub_ids = HashMap::new();
        for control in &schema.controls {
            if control_ids.contains_key(control.id.as_str()) {
                problems.push(format!("control `{}` declared twice", control.id));
                continue;
            }
            let index = controls.len() as u32;
            control_ids.insert(control.id.0.clone(), index);
            let domain = domain_of(control.domain.as_str(), &mut domains);
            let objective = match &control.objective {
                Some(id) => match objective_ids.get(id.as_str()) {
                    Some(objective) => Some(*objective),
                    None => {
                        problems.push(format!(
                            "control `{}`: unknown objective `{id}`, counted under its domain",
                            control.id
                        ));
                        None
                    }
                },
                None => None,
            };
            let parent_slot = match objective {
                Some(objective) => {
                    let list = &mut objectives[objective as usize].controls;
                    list.push(index);
                    (list.len() - 1) as u32
                }
                None => {
                    let list = &mut domains[domain as usize].children;
                    list.push(DomainChild::Control(index));
                    (list.len() - 1) as u32
                }
            };
            let first = subs.len() as u32;
            for sub in &control.subcontrols {
                if sub_ids.contains_key(sub.id.as_str()) {
                    problems.push(format!("subcontrol `{}` declared twice", sub.id));
                    continue;
                }
                let weight = if sub.weight.is_finite() && sub.weight >= 0.0 {
                    sub.weight
                } else {
                    problems.push(format!(
                        "subcontrol `{}`: weight {} is not a number >= 0, 1 used",
                        sub.id, sub.weight
                    ));
                    1.0
                };
                let level = if sub.level == 0 {
                    problems.push(format!("subcontrol `{}`: level 0 read as 1", sub.id));
                    1
                } else {
                    sub.level
                };
                sub_ids.insert(sub.id.0.clone(), subs.len() as u32);
                subs.push(SubInfo {
                    id: sub.id.0.clone(),
                    control: index,
                    level,
                    weight,
                    mandatory: sub.mandatory,
                    level_slot: 0,
                });
            }
            controls.push(ControlInfo {
                id: control.id.0.clone(),
                effort: if control.effort.is_finite() {
                    control.effort
                } else {
                    1.0
                },
                subs: first..subs.len() as u32,
                objective,
                domain,
                parent_slot,
                threats: Vec::new(),
                natural_rank: 0,
            });
        }
        let mut by_natural: Vec<u32> = (0..controls.len() as u32).collect();
        by_natural
            .sort_by(|a, b| natural_cmp(&controls[*a as usize].id, &controls[*b as usize].id));
        for (rank, control) in by_natural.into_iter().enumerate() {
            controls[control as usize].natural_rank = rank as u32;
        }

        // Levels: 1..=the largest level declared by the schema or used by a subcontrol (3 at least).
        let top_level = schema
            .maturity_levels
            .iter()
            .map(|m| m.level)
            .chain(subs.iter().map(|s| s.level))
            .chain(std::iter::once(3))
            .max()
            .unwrap_or(3);
        let mut levels: Vec<LevelInfo> = (1..=top_level)
            .map(|level| LevelInfo {
                level,
                threshold: schema.threshold(level),
                subs: Vec::new(),
            })
            .collect();
        for (index, sub) in subs.iter_mut().enumerate() {
            let list = &mut levels[sub.level as usize - 1].subs;
            sub.level_slot = list.len() as u32;
            list.push(index as u32);
        }

        // Threats and the controls that mitigate them.
        let mut threats: Vec<ThreatInfo> = Vec::new();
        let mut threat_ids = HashMap::new();
        for threat in &schema.threats {
            if threat_ids.contains_key(threat.id.as_str()) {
                problems.push(format!("threat `{}` declared twice", threat.id));
                continue;
            }
            threat_ids.insert(threat.id.0.clone(), threats.len() as u32);
            threats.push(ThreatInfo {
                id: threat.id.0.clone(),
                links: Vec::new(),
            });
        }
        let mut linked = BTreeSet::new();
        for row in &schema.matrices.threat_control {
            let (Some(&threat), Some(&control)) = (
                threat_ids.get(row.threat.as_str()),
                control_ids.get(row.control.as_str()),
            ) else {
                problems.push(format!(
                    "threat_control ({}, {}): unknown threat or control, row skipped",
                    row.threat, row.control
                ));
                continue;
            };
            if !linked.insert((threat, control)) {
                problems.push(format!(
                    "threat_control ({}, {}) listed twice, the first row kept",
                    row.threat, row.control
                ));
                continue;
            }
            let links = &mut threats[threat as usize].links;
            controls[control as usize]
                .threats
                .push((threat, links.len() as u32));
            links.push(Link {
                control,
                effect: sane(row.effect, 0.0, 100.0),
            });
        }

        // Asset types, their lineage, the TAD rows and vulnerability gating.
        let mut type_ids = HashMap::new();
        for (index, asset_type) in schema.asset_types.iter().enumerate() {
            if type_ids
                .insert(asset_type.id.0.clone(), index as u32)
                .is_some()
            {
                problems.push(format!("asset type `{}` declared twice", asset_type.id));
            }
        }
        let parents: Vec<Option<u32>> = schema
            .asset_types
            .iter()
            .map(|t| {
                t.parent
                    .as_ref()
                    .and_then(|p| type_ids.get(p.as_str()).copied())
            })
            .collect();
        let mut tad_rows = Vec::new();
        let mut rows_by_type_threat: HashMap<(u32, u32), u32> = HashMap::new();
        for row in &schema.matrices.asset_type_threat {
            let (Some(&asset_type), Some(&threat)) = (
                type_ids.get(row.asset_type.as_str()),
                threat_ids.get(row.threat.as_str()),
            ) else {
                problems.push(format!(
                    "asset_type_threat ({}, {}): unknown asset type or threat, row skipped",
                    row.asset_type, row.threat
                ));
                continue;
            };
            if rows_by_type_threat.contains_key(&(asset_type, threat)) {
                problems.push(format!(
                    "asset_type_threat ({}, {}) listed twice, the first row kept",
                    row.asset_type, row.threat
                ));
                continue;
            }
            let mut degradation = [0.0; DIMENSIONS];
            let mut listed = [false; DIMENSIONS];
            for (dimension, value) in &row.degradation {
                degradation[dimension_slot(*dimension)] = sane(*value, 0.0, 100.0);
                listed[dimension_slot(*dimension)] = true;
            }
            rows_by_type_threat.insert((asset_type, threat), tad_rows.len() as u32);
            tad_rows.push(TadRow {
                asset_type,
                probability: sane(row.probability, 0.0, 100.0),
                degradation,
                listed,
            });
        }
        let mut type_vulnerabilities: Vec<BTreeSet<&str>> =
            vec![BTreeSet::new(); schema.asset_types.len()];
        for row in &schema.matrices.asset_type_vulnerability {
            match type_ids.get(row.asset_type.as_str()) {
                Some(t) => {
                    type_vulnerabilities[*t as usize].insert(row.vulnerability.as_str());
                }
                None => problems.push(format!(
                    "asset_type_vulnerability ({}, {}): unknown asset type, row skipped",
                    row.asset_type, row.vulnerability
                )),
            }
        }
        let mut threat_vulnerabilities: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); threats.len()];
        for row in &schema.matrices.threat_vulnerability {
            match threat_ids.get(row.threat.as_str()) {
                Some(t) => {
                    threat_vulnerabilities[*t as usize].insert(row.vulnerability.as_str());
                }
                None => problems.push(format!(
                    "threat_vulnerability ({}, {}): unknown threat, row skipped",
                    row.threat, row.vulnerability
                )),
            }
        }
        let mut types = Vec::with_capacity(schema.asset_types.len());
        for (index, asset_type) in schema.asset_types.iter().enumerate() {
            let mut lineage = vec![index as u32];
            let mut cursor = parents[index];
            while let Some(parent) = cursor {
                if lineage.contains(&parent) {
                    problems.push(format!(
                        "asset type `{}`: its parents form a cycle, cut there",
                        asset_type.id
                    ));
                    break;
                }
                lineage.push(parent);
                cursor = parents[parent as usize];
            }
            let vulnerabilities: BTreeSet<&str> = lineage
                .iter()
                .flat_map(|t| type_vulnerabilities[*t as usize].iter().copied())
                .collect();
            let mut applicable = Vec::new();
            for threat in 0..threats.len() as u32 {
                let Some(row) = lineage
                    .iter()
                    .find_map(|t| rows_by_type_threat.get(&(*t, threat)).copied())
                else {
                    continue;
                };
                let needed = &threat_vulnerabilities[threat as usize];
                if !needed.is_empty() && needed.is_disjoint(&vulnerabilities) {
                    continue;
                }
                applicable.push(TypeThreat { threat, row });
            }
            types.push(TypeInfo {
                id: asset_type.id.0.clone(),
                threats: applicable,
            });
        }

        let mut risk_bands = schema.risk_bands();
        if risk_bands.is_empty() {
            problems.push("the risk criterion has no band: DESIGN.md 4.3's defaults used".into());
            risk_bands = mmsm_model::default_risk_bands();
        }
        let disjoint_bands = risk_bands.windows(2).all(|w| w[0].to <= w[1].from)
            && risk_bands.iter().all(|b| b.from <= b.to);
        SchemaIndex {
            disjoint_bands,
            schema: schema_arc.clone(),
            subs,
            controls,
            objectives,
            domains,
            levels,
            threats,
            types,
            tad_rows,
            risk_bands,
            status_bands: schema.status_bands(),
            sub_ids,
            control_ids,
            objective_ids,
            domain_ids,
            threat_ids,
            type_ids,
            problems,
        }
    }

    /// The schema it was compiled from.
    pub fn schema(&self) -> &Arc<Schema> {
        &self.schema
    }

    /// What did not resolve or was out of scale while compiling, one line each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// The index (0..bands) of the risk band holding `risk`: `from <= risk < to`, the last
    /// band also holding its upper bound; below every band is band 0, above every band the last.
    pub(crate) fn risk_level(&self, risk: f64) -> u8 {
        self.risk_level_from(risk, None)
    }

    /// [`SchemaIndex::risk_level`], first trying `hint` (the band the value was in before):
    /// most changes stay in their band.
    #[inline]
    pub(crate) fn risk_level_from(&self, risk: f64, hint: Option<u8>) -> u8 {
        if let (Some(level), true) = (hint, self.disjoint_bands) {
            let last = self.risk_bands.len() - 1;
            if let Some(band) = self.risk_bands.get(level as usize) {
                if band.from <= risk
                    && (risk < band.to || (level as usize == last && risk <= band.to))
                {
                    return level;
                }
            }
        }
        let bands = &self.risk_bands;
        let last = bands.len() - 1;
        for (index, band) in bands.iter().enumerate() {
            if band.from <= risk && (risk < band.to || (index == last && risk <= band.to)) {
                return index as u8;
            }
        }
        if risk < bands[0].from {
            0
        } else {
            last as u8
        }
    }

    /// The band of a control-board status for a compliance on 0..100.
    pub(crate) fn status(&self, compliance: Option<f64>) -> Status {
        match compliance {
            None => Status::Na,
            Some(c) if c < self.status_bands.red => Status::Red,
            Some(c) if c < self.status_bands.amber => Status::Amber,
            Some(_) => Status::Green,
        }
    }
}

/// The colour of a control on the board (DESIGN.md 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Compliance below the schema's `red` band.
    Red,
    /// Compliance below the schema's `amber` band.
    Amber,
    /// Compliance at or above the `amber` band.
    Green,
    /// Not applicable: every subcontrol is n/a.
    Na,
}
