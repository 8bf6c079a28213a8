//! DESIGN.md 4.1-4.3 written as plainly as possible, straight from the schema and the
//! inputs: the reference the engine's full compute is checked against.

use std::collections::{BTreeMap, BTreeSet};

use super::*;

/// What the reference derives.
#[derive(Debug)]
pub(super) struct Reference {
    pub(super) controls: Vec<Option<f64>>,
    pub(super) objectives: Vec<Option<f64>>,
    pub(super) domains: BTreeMap<String, Option<f64>>,
    pub(super) isms: Option<f64>,
    pub(super) levels: Vec<Option<f64>>,
    pub(super) current: u8,
    pub(super) vul: BTreeMap<String, f64>,
    /// (asset, threat) -> (impact, potential, residual).
    pub(super) pairs: BTreeMap<(String, String), (f64, f64, f64)>,
    pub(super) max: f64,
    pub(super) mean: f64,
    pub(super) total: f64,
}

fn mean(values: &[Option<f64>]) -> Option<f64> {
    let applicable: Vec<f64> = values.iter().flatten().copied().collect();
    (!applicable.is_empty()).then(|| applicable.iter().sum::<f64>() / applicable.len() as f64)
}

fn x(inputs: &Inputs, control: &Control, sub: &SubControl) -> Option<f64> {
    let value = match (inputs.measured.get(&sub.id), inputs.answers.get(&sub.id)) {
        (Some(measured), _) => Some(measured.clamp(0.0, 1.0)),
        (None, None) => Some(0.0),
        (None, Some(answer)) => answer.value(),
    }?;
    Some(match inputs.caps.get(&control.id) {
        Some(cap) => value.min(cap.clamp(0.0, 1.0)),
        None => value,
    })
}

pub(super) fn derive(schema: &Schema, inputs: &Inputs) -> Reference {
    let controls: Vec<Option<f64>> = schema
        .controls
        .iter()
        .map(|control| {
            let (mut wx, mut w) = (0.0, 0.0);
            for sub in &control.subcontrols {
                if let Some(x) = x(inputs, control, sub) {
                    wx += sub.weight * x;
                    w += sub.weight;
                }
            }
            (w > 0.0).then(|| wx / w)
        })
        .collect();
    let objectives: Vec<Option<f64>> = schema
        .objectives
        .iter()
        .map(|o| {
            let children: Vec<Option<f64>> = schema
                .controls
                .iter()
                .zip(&controls)
                .filter(|(c, _)| c.objective.as_ref() == Some(&o.id))
                .map(|(_, v)| *v)
                .collect();
            mean(&children)
        })
        .collect();
    let mut domains = BTreeMap::new();
    for domain in &schema.domains {
        let mut children: Vec<Option<f64>> = schema
            .objectives
            .iter()
            .zip(&objectives)
            .filter(|(o, _)| o.domain == domain.id)
            .map(|(_, v)| *v)
            .collect();
        children.extend(
            schema
                .controls
                .iter()
                .zip(&controls)
                .filter(|(c, _)| c.domain == domain.id && c.objective.is_none())
                .map(|(_, v)| *v),
        );
        domains.insert(domain.id.0.clone(), mean(&children));
    }
    let isms = mean(&domains.values().copied().collect::<Vec<_>>());

    let mut levels = Vec::new();
    let mut current = 0;
    let mut reached = true;
    for level in 1..=3u8 {
        let (mut wx, mut w, mut failing) = (0.0, 0.0, false);
        for (control, sub) in schema.subcontrols().filter(|(_, s)| s.level == level) {
            if let Some(x) = x(inputs, control, sub) {
                wx += sub.weight * x;
                w += sub.weight;
                failing |= sub.mandatory && x < 1.0 - 1e-9;
            }
        }
        let compliance = (w > 0.0).then(|| wx / w);
        let rule = !failing && compliance.is_none_or(|c| c >= schema.threshold(level) - 1e-9);
        reached = reached && rule;
        if reached {
            current = level;
        }
        levels.push(compliance);
    }

    let mut vul = BTreeMap::new();
    for threat in &schema.threats {
        let mut product = 1.0;
        for link in schema
            .matrices
            .threat_control
            .iter()
            .filter(|l| l.threat == threat.id)
        {
            let c = schema
                .controls
                .iter()
                .position(|c| c.id == link.control)
                .unwrap();
            if let Some(c) = controls[c] {
                product *= 1.0 - c * link.effect / 100.0;
            }
        }
        vul.insert(threat.id.0.clone(), 100.0 * product);
    }

    let lineage = |asset_type: &AssetTypeId| {
        let mut chain = vec![asset_type.clone()];
        while let Some(parent) = schema
            .asset_types
            .iter()
            .find(|t| &t.id == chain.last().unwrap())
            .and_then(|t| t.parent.clone())
        {
            chain.push(parent);
        }
        chain
    };
    let value_of = |asset: &Asset| -> [f64; 5] {
        let mut reachable = vec![asset.id.clone()];
        let mut i = 0;
        while i < reachable.len() {
            let node = inputs.assets.iter().find(|a| a.id == reachable[i]).unwrap();
            for member in &node.members {
                if inputs.assets.iter().any(|a| &a.id == member) && !reachable.contains(member) {
                    reachable.push(member.clone());
                }
            }
            // An asset holds the value of the assets that depend on it.
            for dependent in inputs
                .assets
                .iter()
                .filter(|a| a.depends_on.contains(&node.id))
            {
                if !reachable.contains(&dependent.id) {
                    reachable.push(dependent.id.clone());
                }
            }
            i += 1;
        }
        let mut values = [0.0f64; 5];
        for id in reachable {
            let node = inputs.assets.iter().find(|a| a.id == id).unwrap();
            for (d, dimension) in Dimension::ALL.iter().enumerate() {
                values[d] = values[d].max(node.own_value(*dimension).clamp(0.0, 10.0));
            }
        }
        values
    };
    let mut pairs = BTreeMap::new();
    for asset in &inputs.assets {
        let chain = lineage(&asset.asset_type);
        let vulnerabilities: BTreeSet<&VulnerabilityId> = schema
            .matrices
            .asset_type_vulnerability
            .iter()
            .filter(|r| chain.contains(&r.asset_type))
            .map(|r| &r.vulnerability)
            .collect();
        let values = value_of(asset);
        for threat in &schema.threats {
            let Some(row) = chain.iter().find_map(|t| {
                schema
                    .matrices
                    .asset_type_threat
                    .iter()
                    .find(|r| &r.asset_type == t && r.threat == threat.id)
            }) else {
                continue;
            };
            let needed: Vec<&VulnerabilityId> = schema
                .matrices
                .threat_vulnerability
                .iter()
                .filter(|r| r.threat == threat.id)
                .map(|r| &r.vulnerability)
                .collect();
            if !needed.is_empty() && !needed.iter().any(|v| vulnerabilities.contains(v)) {
                continue;
            }
            let key = (asset.asset_type.clone(), threat.id.clone());
            let probability = inputs
                .probability
                .get(&key)
                .copied()
                .unwrap_or(row.probability);
            let mut degradation = row.degradation.clone();
            for ((t, h, d), v) in &inputs.degradation {
                if *t == key.0 && *h == key.1 {
                    degradation.insert(*d, *v);
                }
            }
            let impact = degradation
                .iter()
                .map(|(d, deg)| {
                    values[Dimension::ALL.iter().position(|x| x == d).unwrap()] / 10.0 * deg
                })
                .fold(0.0, f64::max);
            let potential = impact * probability / 100.0;
            let residual = potential * vul[threat.id.as_str()] / 100.0;
            pairs.insert(
                (asset.id.0.clone(), threat.id.0.clone()),
                (impact, potential, residual),
            );
        }
    }
    let max = pairs.values().map(|p| p.2).fold(0.0, f64::max);
    let total = pairs.values().map(|p| p.2).sum();
    let mut asset_risk: BTreeMap<&str, f64> = BTreeMap::new();
    for ((asset, _), (_, _, residual)) in &pairs {
        let risk = asset_risk.entry(asset.as_str()).or_insert(0.0);
        *risk = risk.max(*residual);
    }
    let mean = if asset_risk.is_empty() {
        0.0
    } else {
        asset_risk.values().sum::<f64>() / asset_risk.len() as f64
    };
    Reference {
        controls,
        objectives,
        domains,
        isms,
        levels,
        current,
        vul,
        pairs,
        max,
        mean,
        total,
    }
}
