//! DESIGN.md 4.3: asset values, the (asset, threat) pairs with their impact,
//! potential and residual risk, Vul per threat, and the risk aggregates.

use std::collections::HashMap;
use std::sync::Arc;

use super::delta::Key;
use super::index::{TypeThreat, DIMENSIONS};
use super::tree::{Op, Tree};
use super::{Engine, EngineError, Log, Values};
use mmsm_model::{Asset, Dimension};

/// One (asset, threat) pair of the risk analysis: what an update touches (small, so
/// that many fit a cache line); its profile is kept apart in [`RiskState::profiles`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pair {
    pub(crate) asset: u32,
    pub(crate) threat: u32,
    /// Position among the pairs of its threat.
    pub(crate) slot: u32,
    pub(crate) alive: bool,
    pub(crate) impact: f64,
    pub(crate) potential: f64,
    pub(crate) residual: f64,
    pub(crate) level: u8,
}

/// The TAD row of a pair with the accepted changes applied.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Profile {
    /// The TAD row that wins for the asset's type.
    pub(crate) row: u32,
    /// P, with the accepted change if any, 0..100.
    pub(crate) probability: f64,
    /// Deg per dimension, with accepted changes, 0..100.
    pub(crate) degradation: [f64; DIMENSIONS],
    /// The dimensions that count.
    pub(crate) listed: [bool; DIMENSIONS],
}

/// The factor of a control in a threat's product: `1 - C(c) * E(c,t) / 100`, or 1 when the
/// control is not applicable (it protects nothing).
pub(crate) fn factor(compliance: Option<f64>, effect: f64) -> f64 {
    match compliance {
        Some(c) => 1.0 - c * effect / 100.0,
        None => 1.0,
    }
}

/// I(a,t) = max over the listed dimensions of V(a,d)/10 * Deg(d), and R0 = I * P / 100.
pub(crate) fn evaluate(values: &Values, profile: &Profile) -> (f64, f64) {
    let mut impact = 0.0;
    for ((value, listed), degradation) in values.iter().zip(profile.listed).zip(profile.degradation)
    {
        if listed {
            let dimension_impact = value / 10.0 * degradation;
            if dimension_impact > impact {
                impact = dimension_impact;
            }
        }
    }
    (impact, impact * profile.probability / 100.0)
}

/// R(a,t) = R0 * Vul / 100, computed as R0 * (Vul / 100) so that a threat's pairs share
/// the division (the update path re-values dozens of pairs per threat).
#[inline(always)]
pub(crate) fn residual(potential: f64, vul: f64) -> f64 {
    potential * (vul / 100.0)
}

/// The aggregates the board shows, to compare before and after a change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Summary {
    max: f64,
    mean: f64,
    total: f64,
    by_level: Vec<usize>,
}

/// The risk side of the derived state.
#[derive(Debug, Clone, Default)]
pub(crate) struct RiskState {
    /// Per threat: the product of its controls' factors.
    pub(crate) factors: Vec<Tree>,
    /// Vul(t), 0..100.
    pub(crate) vul: Vec<f64>,
    pub(crate) pairs: Vec<Pair>,
    /// Per pair: its profile.
    pub(crate) profiles: Vec<Profile>,
    /// Per threat: its live pairs, by asset.
    pub(crate) threat_pairs: Vec<Vec<u32>>,
    /// Per threat: the sum of R0 over its pairs.
    pub(crate) potential_sum: Vec<Tree>,
    /// Per threat: the max of R0 over its pairs.
    pub(crate) potential_max: Vec<Tree>,
    /// Per asset: its live pairs, by threat.
    pub(crate) asset_pairs: Vec<Vec<u32>>,
    /// Per asset: V(a,d), groups resolved.
    pub(crate) values: Vec<Values>,
    /// Per asset: max residual over its pairs (0 without pair).
    pub(crate) asset_risk: Vec<f64>,
    /// The sum of `asset_risk`, in asset order (recomputed when an asset's risk changes:
    /// one pass over the assets costs less than keeping a tree, and is exact by construction).
    asset_risk_sum: f64,
    pub(crate) assets_with_pairs: usize,
    /// Per threat: sum of its residuals, as R0 sum * Vul / 100.
    residual_by_threat: Tree,
    /// Per threat: max of its residuals, as R0 max * Vul / 100.
    max_by_threat: Tree,
    pub(crate) by_level: Vec<usize>,
    /// Per asset type: its assets (exactly that type).
    type_assets: Vec<Vec<u32>>,
    /// Per member id: the groups that list it.
    groups_of: HashMap<String, Vec<u32>>,
    /// Per supporting asset id: the assets that depend on it (and lend it their value).
    dependents_of: HashMap<String, Vec<u32>>,
    /// Assets whose pairs changed in this update.
    dirty: Dirty,
}

/// The assets whose pairs changed in the current update, with what flushing needs.
#[derive(Debug, Clone, Default)]
struct Dirty {
    /// The dirty assets are `list[..len]`; `list` has one spare slot, so that marking
    /// an asset can always write first and count it only if it was not dirty yet.
    list: Vec<u32>,
    len: usize,
    flag: Vec<bool>,
    /// Per asset: the max of its residuals so far, valid unless `rescan` (equal to its
    /// risk outside an update).
    pending_max: Vec<f64>,
    /// Per asset: the pair holding the max decreased, so the max is recomputed.
    rescan: Vec<bool>,
}

impl Dirty {
    fn new(asset_risk: &[f64]) -> Dirty {
        Dirty {
            list: vec![0; asset_risk.len() + 1],
            len: 0,
            flag: vec![false; asset_risk.len()],
            pending_max: asset_risk.to_vec(),
            rescan: vec![false; asset_risk.len()],
        }
    }

    fn push_asset(&mut self) {
        self.list.push(0);
        self.flag.push(false);
        self.pending_max.push(0.0);
        self.rescan.push(false);
    }

    /// Marks asset `a` dirty, without a branch (whether it already is, is a coin toss).
    #[inline(always)]
    fn touch(&mut self, a: usize) {
        self.list[self.len] = a as u32;
        self.len += usize::from(!self.flag[a]);
        self.flag[a] = true;
    }

    /// The pairs of asset `a` changed in a way that needs its max recomputed.
    fn rescan(&mut self, a: usize) {
        self.touch(a);
        self.rescan[a] = true;
    }

    /// A residual of asset `a` went from `old` to `new`: keeps its max without a rescan
    /// unless the pair that held it decreased.
    #[inline(always)]
    fn residual_moved(&mut self, a: usize, old: f64, new: f64) {
        self.touch(a);
        let pending = self.pending_max[a];
        let rises = new >= pending;
        self.rescan[a] |= !rises & (old.to_bits() == pending.to_bits());
        self.pending_max[a] = if rises { new } else { pending };
    }
}

/// An asset's own V(a,d) on 0..10 (NaN read as 0).
fn own_values(asset: &Asset) -> Values {
    let mut values = [0.0; DIMENSIONS];
    for (slot, dimension) in values.iter_mut().zip(Dimension::ALL) {
        let v = asset.own_value(dimension);
        *slot = if v.is_nan() { 0.0 } else { v.clamp(0.0, 10.0) };
    }
    values
}

fn same_values(a: &Values, b: &Values) -> bool {
    a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

impl RiskState {
    /// The full compute from the engine's inputs and its compliance state.
    pub(crate) fn compute(engine: &Engine) -> RiskState {
        let index = &engine.index;
        let n_threats = index.threats.len();
        let n_assets = engine.assets.len();
        let factors: Vec<Tree> = index
            .threats
            .iter()
            .map(|threat| {
                Tree::new(
                    Op::Product,
                    threat
                        .links
                        .iter()
                        .map(|l| factor(engine.compliance.control[l.control as usize], l.effect)),
                )
            })
            .collect();
        let vul: Vec<f64> = factors.iter().map(|f| 100.0 * f.total()).collect();

        let mut groups_of: HashMap<String, Vec<u32>> = HashMap::new();
        let mut dependents_of: HashMap<String, Vec<u32>> = HashMap::new();
        for (a, asset) in engine.assets.iter().enumerate() {
            for member in &asset.members {
                groups_of
                    .entry(member.0.clone())
                    .or_default()
                    .push(a as u32);
            }
            for support in &asset.depends_on {
                dependents_of
                    .entry(support.0.clone())
                    .or_default()
                    .push(a as u32);
            }
        }
        let values: Vec<Values> = (0..n_assets)
            .map(|a| engine.reach_values(a, &dependents_of))
            .collect();

        let threats_of = |a: usize| {
            engine.asset_types[a].map_or(&[][..], |t| &index.types[t as usize].threats[..])
        };
        let mut per_threat = vec![0usize; n_threats];
        for a in 0..n_assets {
            for type_threat in threats_of(a) {
                per_threat[type_threat.threat as usize] += 1;
            }
        }
        let mut pairs = Vec::with_capacity(per_threat.iter().sum());
        let mut profiles = Vec::with_capacity(pairs.capacity());
        let mut threat_pairs: Vec<Vec<u32>> =
            per_threat.iter().map(|n| Vec::with_capacity(*n)).collect();
        let mut asset_pairs: Vec<Vec<u32>> = (0..n_assets)
            .map(|a| Vec::with_capacity(threats_of(a).len()))
            .collect();
        let mut type_assets = vec![Vec::new(); index.types.len()];
        let mut by_level = vec![0; index.risk_bands.len()];
        // The pairs of a threat get consecutive ids (threat by threat, assets in order),
        // so that re-valuing a threat's pairs, the update path, reads memory in order.
        let mut exposed: Vec<Vec<(u32, u32, TypeThreat)>> =
            per_threat.iter().map(|n| Vec::with_capacity(*n)).collect();
        for a in 0..n_assets {
            let Some(t) = engine.asset_types[a] else {
                continue;
            };
            type_assets[t as usize].push(a as u32);
            for type_threat in &index.types[t as usize].threats {
                exposed[type_threat.threat as usize].push((a as u32, t, *type_threat));
            }
        }
        for (threat, list) in exposed.into_iter().enumerate() {
            for (a, t, type_threat) in list {
                let (mut pair, profile) = engine.new_pair(a, t, type_threat);
                let (impact, potential) = evaluate(&values[a as usize], &profile);
                pair.impact = impact;
                pair.potential = potential;
                pair.residual = residual(potential, vul[threat]);
                pair.level = index.risk_level(pair.residual);
                by_level[pair.level as usize] += 1;
                let list = &mut threat_pairs[threat];
                pair.slot = list.len() as u32;
                list.push(pairs.len() as u32);
                asset_pairs[a as usize].push(pairs.len() as u32);
                pairs.push(pair);
                profiles.push(profile);
            }
        }
        let potential_sum: Vec<Tree> = threat_pairs
            .iter()
            .map(|list| Tree::new(Op::Sum, list.iter().map(|p| pairs[*p as usize].potential)))
            .collect();
        let potential_max: Vec<Tree> = threat_pairs
            .iter()
            .map(|list| Tree::new(Op::Max, list.iter().map(|p| pairs[*p as usize].potential)))
            .collect();
        let asset_risk: Vec<f64> = asset_pairs
            .iter()
            .map(|list| max_residual(&pairs, list))
            .collect();
        let mut state = RiskState {
            asset_risk_sum: asset_risk.iter().sum(),
            assets_with_pairs: asset_pairs.iter().filter(|l| !l.is_empty()).count(),
            residual_by_threat: Tree::default(),
            max_by_threat: Tree::default(),
            factors,
            vul,
            pairs,
            profiles,
            threat_pairs,
            potential_sum,
            potential_max,
            asset_pairs,
            values,
            asset_risk,
            by_level,
            type_assets,
            groups_of,
            dependents_of,
            dirty: Dirty::default(),
        };
        state.residual_by_threat =
            Tree::new(Op::Sum, (0..n_threats).map(|t| state.threat_residual(t)));
        state.max_by_threat = Tree::new(Op::Max, (0..n_threats).map(|t| state.threat_max(t)));
        state.dirty = Dirty::new(&state.asset_risk);
        state
    }

    fn threat_residual(&self, t: usize) -> f64 {
        residual(self.potential_sum[t].total(), self.vul[t])
    }

    fn threat_max(&self, t: usize) -> f64 {
        if self.threat_pairs[t].is_empty() {
            f64::NEG_INFINITY
        } else {
            residual(self.potential_max[t].total(), self.vul[t])
        }
    }

    fn refresh_threat(&mut self, t: usize) {
        let residual = self.threat_residual(t);
        self.residual_by_threat.set(t, residual);
        let max = self.threat_max(t);
        self.max_by_threat.set(t, max);
    }

    /// The max residual over all pairs; 0 without pair.
    pub(crate) fn max(&self) -> f64 {
        let max = self.max_by_threat.total();
        if max == f64::NEG_INFINITY {
            0.0
        } else {
            max
        }
    }

    /// The mean asset risk over the assets with at least one pair; 0 without pair.
    pub(crate) fn mean(&self) -> f64 {
        if self.assets_with_pairs == 0 {
            0.0
        } else {
            self.asset_risk_sum / self.assets_with_pairs as f64
        }
    }

    /// The sum of the residuals of all pairs, as the sum over threats of R0 sum * Vul / 100.
    pub(crate) fn total(&self) -> f64 {
        self.residual_by_threat.total()
    }

    /// The sum of R0 over the pairs of threat `t`.
    pub(crate) fn potential_sum(&self, t: usize) -> f64 {
        self.potential_sum[t].total()
    }

    /// The pair of asset `a` and threat `t`, if the threat applies to the asset.
    pub(crate) fn pair_of(&self, a: u32, t: u32) -> Option<u32> {
        let list = self.asset_pairs.get(a as usize)?;
        list.binary_search_by_key(&t, |p| self.pairs[*p as usize].threat)
            .ok()
            .map(|i| list[i])
    }

    pub(crate) fn summary(&self) -> Summary {
        Summary {
            max: self.max(),
            mean: self.mean(),
            total: self.total(),
            by_level: self.by_level.clone(),
        }
    }

    /// Records the aggregates that differ from `before`.
    pub(crate) fn record_summary(&self, before: &Summary, log: &mut Log) {
        log.record(Key::RiskMax, Some(before.max), Some(self.max()));
        log.record(Key::RiskMean, Some(before.mean), Some(self.mean()));
        log.record(Key::RiskTotal, Some(before.total), Some(self.total()));
        for (level, (old, new)) in before.by_level.iter().zip(&self.by_level).enumerate() {
            log.record(
                Key::RiskByLevel(level as u8),
                Some(*old as f64),
                Some(*new as f64),
            );
        }
    }

    /// The pairs of asset `a` changed in a way that needs its max recomputed.
    fn mark_dirty(&mut self, a: u32) {
        self.dirty.rescan(a as usize);
    }
}

fn max_residual(pairs: &[Pair], list: &[u32]) -> f64 {
    list.iter()
        .map(|p| pairs[*p as usize].residual)
        .fold(0.0, f64::max)
}

impl Engine {
    /// V(a,d): the max of the own values over the asset and every asset it reaches
    /// through `members` (a group takes the maximum of its members, never the mean).
    /// V(a,d) as the risk sees it: the maximum of the asset's own value, its members'
    /// (a group) and the assets that depend on it (their accumulated value), transitively.
    pub(crate) fn reach_values(
        &self,
        a: usize,
        dependents_of: &HashMap<String, Vec<u32>>,
    ) -> Values {
        let mut values = own_values(&self.assets[a]);
        let mut seen = vec![a as u32];
        let mut stack = vec![a as u32];
        while let Some(n) = stack.pop() {
            let asset = &self.assets[n as usize];
            let members = asset
                .members
                .iter()
                .filter_map(|member| self.asset_index.get(member.as_str()).copied());
            let dependents = dependents_of
                .get(asset.id.as_str())
                .into_iter()
                .flatten()
                .copied();
            for m in members.chain(dependents) {
                if seen.contains(&m) {
                    continue;
                }
                seen.push(m);
                stack.push(m);
                for (v, own) in values.iter_mut().zip(own_values(&self.assets[m as usize])) {
                    if own > *v {
                        *v = own;
                    }
                }
            }
        }
        values
    }

    /// The assets whose value reaches past `a`'s: the groups that list it and the
    /// assets it depends on.
    fn reached_by(&self, a: u32) -> Vec<u32> {
        let asset = &self.assets[a as usize];
        let groups = self
            .risk
            .groups_of
            .get(asset.id.as_str())
            .into_iter()
            .flatten()
            .copied();
        let supports = asset
            .depends_on
            .iter()
            .filter_map(|support| self.asset_index.get(support.as_str()).copied());
        groups.chain(supports).collect()
    }

    /// A pair with its profile (P and Deg, accepted changes applied), not yet evaluated.
    fn new_pair(&self, a: u32, asset_type: u32, type_threat: TypeThreat) -> (Pair, Profile) {
        let pair = Pair {
            asset: a,
            threat: type_threat.threat,
            slot: 0,
            alive: true,
            impact: 0.0,
            potential: 0.0,
            residual: 0.0,
            level: 0,
        };
        (
            pair,
            self.profile(type_threat.row, asset_type, type_threat.threat),
        )
    }

    /// The TAD row `row` with the accepted changes for (asset type, threat) applied.
    fn profile(&self, row: u32, asset_type: u32, threat: u32) -> Profile {
        let tad = &self.index.tad_rows[row as usize];
        let mut profile = Profile {
            row,
            probability: self
                .probability
                .get(&(asset_type, threat))
                .copied()
                .unwrap_or(tad.probability),
            degradation: tad.degradation,
            listed: tad.listed,
        };
        if !self.degradation.is_empty() {
            for ((_, _, d), value) in self
                .degradation
                .range((asset_type, threat, 0)..=(asset_type, threat, DIMENSIONS - 1))
            {
                profile.degradation[*d] = *value;
                profile.listed[*d] = true;
            }
        }
        profile
    }

    /// C(c) changed: re-values the threats it mitigates, then their pairs.
    pub(crate) fn control_changed(&mut self, c: usize, log: &mut Log) {
        let index = self.index.clone();
        let compliance = self.compliance.control[c];
        let reach: usize = index.controls[c]
            .threats
            .iter()
            .map(|(t, _)| self.risk.threat_pairs[*t as usize].len())
            .sum();
        log.raw.reserve(2 * reach + 16);
        for &(t, slot) in &index.controls[c].threats {
            let link = index.threats[t as usize].links[slot as usize];
            let factors = &mut self.risk.factors[t as usize];
            factors.set(slot as usize, factor(compliance, link.effect));
            let vul = 100.0 * factors.total();
            if vul.to_bits() != self.risk.vul[t as usize].to_bits() {
                self.vul_changed(t as usize, vul, log);
            }
        }
        self.flush_assets(log);
    }

    fn vul_changed(&mut self, t: usize, vul: f64, log: &mut Log) {
        let risk = &mut self.risk;
        log.record(Key::Vulnerability(t as u32), Some(risk.vul[t]), Some(vul));
        risk.vul[t] = vul;
        risk.refresh_threat(t);
        let bands = &self.index;
        for &p in &risk.threat_pairs[t] {
            let pair = &mut risk.pairs[p as usize];
            let new = residual(pair.potential, vul);
            let old = pair.residual;
            if new.to_bits() == old.to_bits() {
                continue;
            }
            log.record_number(
                Key::Residual {
                    asset: pair.asset,
                    threat: pair.threat,
                },
                old,
                new,
            );
            let level = bands.risk_level_from(new, Some(pair.level));
            let a = pair.asset as usize;
            if level != pair.level {
                risk.by_level[pair.level as usize] -= 1;
                risk.by_level[level as usize] += 1;
                pair.level = level;
            }
            pair.residual = new;
            risk.dirty.residual_moved(a, old, new);
        }
    }

    /// Recomputes a pair's impact, potential and residual from its asset's values and its profile.
    fn reevaluate(&mut self, p: u32, log: &mut Log) {
        let pair = &self.risk.pairs[p as usize];
        let profile = &self.risk.profiles[p as usize];
        let (impact, potential) = evaluate(&self.risk.values[pair.asset as usize], profile);
        let (t, asset, slot) = (pair.threat as usize, pair.asset, pair.slot as usize);
        let pair = &mut self.risk.pairs[p as usize];
        pair.impact = impact;
        if potential.to_bits() == pair.potential.to_bits() {
            return;
        }
        let key = Key::Potential {
            asset,
            threat: t as u32,
        };
        log.record(key, Some(pair.potential), Some(potential));
        pair.potential = potential;
        let new = residual(potential, self.risk.vul[t]);
        if new.to_bits() != pair.residual.to_bits() {
            let level = self.index.risk_level_from(new, Some(pair.level));
            log.record(
                Key::Residual {
                    asset,
                    threat: t as u32,
                },
                Some(pair.residual),
                Some(new),
            );
            self.risk.by_level[pair.level as usize] -= 1;
            self.risk.by_level[level as usize] += 1;
            pair.residual = new;
            pair.level = level;
        }
        self.risk.potential_sum[t].set(slot, potential);
        self.risk.potential_max[t].set(slot, potential);
        self.risk.refresh_threat(t);
        self.risk.mark_dirty(asset);
    }

    /// Recomputes the risk of every asset whose pairs changed, and their mean.
    fn flush_assets(&mut self, log: &mut Log) {
        let risk = &mut self.risk;
        if risk.dirty.len == 0 {
            return;
        }
        let mut changed = false;
        for i in 0..risk.dirty.len {
            let a = risk.dirty.list[i] as usize;
            risk.dirty.flag[a] = false;
            let new = if risk.dirty.rescan[a] {
                max_residual(&risk.pairs, &risk.asset_pairs[a])
            } else {
                risk.dirty.pending_max[a]
            };
            risk.dirty.rescan[a] = false;
            risk.dirty.pending_max[a] = new;
            if new.to_bits() != risk.asset_risk[a].to_bits() {
                log.record(
                    Key::AssetRisk(a as u32),
                    Some(risk.asset_risk[a]),
                    Some(new),
                );
                risk.asset_risk[a] = new;
                changed = true;
            }
        }
        risk.dirty.len = 0;
        if changed {
            risk.asset_risk_sum = risk.asset_risk.iter().sum();
        }
    }

    /// An accepted probability or degradation change for (asset type, threat).
    pub(crate) fn profile_changed(&mut self, asset_type: u32, threat: u32, log: &mut Log) {
        let assets = self.risk.type_assets[asset_type as usize].clone();
        for a in assets {
            if let Some(p) = self.risk.pair_of(a, threat) {
                let row = self.risk.profiles[p as usize].row;
                self.risk.profiles[p as usize] = self.profile(row, asset_type, threat);
                self.reevaluate(p, log);
            }
        }
        self.flush_assets(log);
    }

    /// Replaces (or adds) an asset: re-values it and the groups that reach it, and
    /// rebuilds its pairs when its type changed.
    pub(crate) fn asset_changed(&mut self, asset: Asset, log: &mut Log) -> Result<(), EngineError> {
        let Some(&asset_type) = self.index.type_ids.get(asset.asset_type.as_str()) else {
            return Err(EngineError::Unknown {
                kind: "asset type",
                id: asset.asset_type.0.clone(),
            });
        };
        let is_new = !self.asset_index.contains_key(asset.id.as_str());
        let mut left = Vec::new();
        let (a, old_type) = match self.asset_index.get(asset.id.as_str()) {
            Some(&a) => {
                if self.assets[a as usize] == asset {
                    return Ok(());
                }
                let old =
                    std::mem::replace(&mut Arc::make_mut(&mut self.assets)[a as usize], asset);
                if old.members != self.assets[a as usize].members {
                    for member in &old.members {
                        if let Some(list) = self.risk.groups_of.get_mut(member.as_str()) {
                            list.retain(|g| *g != a);
                        }
                    }
                    self.register_members(a);
                }
                if old.depends_on != self.assets[a as usize].depends_on {
                    for support in &old.depends_on {
                        if let Some(list) = self.risk.dependents_of.get_mut(support.as_str()) {
                            list.retain(|d| *d != a);
                        }
                        // The assets it leaves no longer hold its value.
                        if let Some(&s) = self.asset_index.get(support.as_str()) {
                            left.push(s);
                        }
                    }
                    self.register_supports(a);
                }
                (a, self.asset_types[a as usize])
            }
            None => {
                let a = self.assets.len() as u32;
                Arc::make_mut(&mut self.asset_index).insert(asset.id.0.clone(), a);
                Arc::make_mut(&mut self.asset_ids).push(asset.id.clone());
                Arc::make_mut(&mut self.assets).push(asset);
                self.asset_types.push(None);
                let risk = &mut self.risk;
                risk.values.push([0.0; DIMENSIONS]);
                risk.asset_pairs.push(Vec::new());
                risk.asset_risk.push(0.0);
                risk.dirty.push_asset();
                self.register_members(a);
                self.register_supports(a);
                (a, None)
            }
        };
        self.asset_types[a as usize] = Some(asset_type);
        let structural = old_type != Some(asset_type);

        // The asset, the assets it left, and every asset its value reaches, re-valued.
        let mut affected = vec![a];
        for s in left {
            if !affected.contains(&s) {
                affected.push(s);
            }
        }
        let mut cursor = 0;
        while cursor < affected.len() {
            for g in self.reached_by(affected[cursor]) {
                if !affected.contains(&g) {
                    affected.push(g);
                }
            }
            cursor += 1;
        }
        let mut revalued = Vec::new();
        for &g in &affected {
            let values = self.reach_values(g as usize, &self.risk.dependents_of);
            if !same_values(&values, &self.risk.values[g as usize]) {
                self.risk.values[g as usize] = values;
                revalued.push(g);
            }
        }
        if structural {
            self.rebuild_pairs(a, old_type, asset_type, log);
        }
        for g in revalued {
            if structural && g == a {
                continue;
            }
            for p in self.risk.asset_pairs[g as usize].clone() {
                self.reevaluate(p, log);
            }
        }
        self.flush_assets(log);
        if is_new {
            // A new asset had no risk before, rather than a risk of 0.
            let key = Key::AssetRisk(a);
            let after = Some(self.risk.asset_risk[a as usize]);
            match log.raw.iter_mut().find(|d| d.key == key) {
                Some(delta) => delta.before = f64::NAN,
                None => log.record(key, None, after),
            }
        }
        Ok(())
    }

    fn register_supports(&mut self, a: u32) {
        for support in &self.assets[a as usize].depends_on {
            self.risk
                .dependents_of
                .entry(support.0.clone())
                .or_default()
                .push(a);
        }
    }

    fn register_members(&mut self, g: u32) {
        for member in &self.assets[g as usize].members {
            self.risk
                .groups_of
                .entry(member.0.clone())
                .or_default()
                .push(g);
        }
    }

    /// The asset's type changed (or it is new): its pairs are those of the new type.
    fn rebuild_pairs(&mut self, a: u32, old_type: Option<u32>, asset_type: u32, log: &mut Log) {
        let index = self.index.clone();
        if let Some(old) = old_type {
            self.risk.type_assets[old as usize].retain(|x| *x != a);
        }
        let list = &mut self.risk.type_assets[asset_type as usize];
        let at = list.partition_point(|x| *x < a);
        list.insert(at, a);

        let mut touched = Vec::new();
        let old_pairs = std::mem::take(&mut self.risk.asset_pairs[a as usize]);
        let had_pairs = !old_pairs.is_empty();
        // (threat, potential before, residual before), by threat.
        let mut gone: Vec<(u32, f64, f64)> = Vec::with_capacity(old_pairs.len());
        for p in old_pairs {
            let pair = &mut self.risk.pairs[p as usize];
            pair.alive = false;
            self.risk.by_level[pair.level as usize] -= 1;
            gone.push((pair.threat, pair.potential, pair.residual));
            touched.push(pair.threat);
        }
        for type_threat in &index.types[asset_type as usize].threats {
            let (mut pair, profile) = self.new_pair(a, asset_type, *type_threat);
            let (impact, potential) = evaluate(&self.risk.values[a as usize], &profile);
            pair.impact = impact;
            pair.potential = potential;
            pair.residual = residual(potential, self.risk.vul[pair.threat as usize]);
            pair.level = index.risk_level(pair.residual);
            self.risk.by_level[pair.level as usize] += 1;
            let threat = pair.threat;
            let before = match gone.binary_search_by_key(&threat, |g| g.0) {
                Ok(i) => {
                    let (_, potential, residual) = gone.remove(i);
                    (Some(potential), Some(residual))
                }
                Err(_) => (None, None),
            };
            log.record(
                Key::Potential { asset: a, threat },
                before.0,
                Some(potential),
            );
            log.record(
                Key::Residual { asset: a, threat },
                before.1,
                Some(pair.residual),
            );
            self.risk.asset_pairs[a as usize].push(self.risk.pairs.len() as u32);
            self.risk.pairs.push(pair);
            self.risk.profiles.push(profile);
            touched.push(threat);
        }
        for (threat, potential, residual) in gone {
            log.record(Key::Potential { asset: a, threat }, Some(potential), None);
            log.record(Key::Residual { asset: a, threat }, Some(residual), None);
        }
        let has_pairs = !self.risk.asset_pairs[a as usize].is_empty();
        self.risk.assets_with_pairs =
            self.risk.assets_with_pairs + usize::from(has_pairs) - usize::from(had_pairs);
        touched.sort_unstable();
        touched.dedup();
        for t in touched {
            let risk = &mut self.risk;
            let t = t as usize;
            let mut list: Vec<u32> = risk.threat_pairs[t]
                .iter()
                .copied()
                .filter(|p| risk.pairs[*p as usize].alive)
                .collect();
            if let Some(p) = risk.pair_of(a, t as u32) {
                list.push(p);
            }
            list.sort_by_key(|p| risk.pairs[*p as usize].asset);
            list.dedup();
            for (slot, p) in list.iter().enumerate() {
                risk.pairs[*p as usize].slot = slot as u32;
            }
            risk.potential_sum[t] = Tree::new(
                Op::Sum,
                list.iter().map(|p| risk.pairs[*p as usize].potential),
            );
            risk.potential_max[t] = Tree::new(
                Op::Max,
                list.iter().map(|p| risk.pairs[*p as usize].potential),
            );
            risk.threat_pairs[t] = list;
            risk.refresh_threat(t);
        }
        self.risk.mark_dirty(a);
    }
}
