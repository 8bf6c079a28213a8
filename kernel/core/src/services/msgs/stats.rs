//! The knowledge loop (DESIGN.md 6.4): statistics of a schema across every
//! ISMS generated from it, for the architect, without naming any enterprise:
//! answer distributions, frequent gaps, incidents per threat against the
//! schema's probability, and trends. `--suggest` turns them into concrete
//! schema changes, which are never applied automatically.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::access::Principal;
use mmsm_model::{
    natural_cmp, Answer, AssetTypeId, FieldKind, Schema, SchemaId, SubControlId, ThreatId, Zone,
};
use mmsm_store::Repo;

use super::procedures::ProcedureInstance;
use super::{BoardPoint, IsmsRecord, Kernel, Result, ServiceError};

/// A subcontrol met by more than this share of enterprises is a candidate for a lower level.
pub const ALMOST_ALWAYS_MET: f64 = 0.95;
const YEAR: u64 = 365 * 86_400;

/// How the enterprises answered one subcontrol.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerStats {
    /// The subcontrol.
    pub subcontrol: SubControlId,
    /// Its question, as the schema asks it.
    pub text: String,
    /// Its level.
    pub level: u8,
    /// Answers `yes`.
    pub yes: usize,
    /// Answers `partial`.
    pub partial: usize,
    /// Answers `no`.
    pub no: usize,
    /// Answers `na`.
    pub na: usize,
    /// Answers `unknown`.
    pub unknown: usize,
    /// No answer.
    pub unanswered: usize,
    /// `yes` among the applicable answers (all but `na`), 0..1.
    pub met_share: Option<f64>,
    /// Not met (`no`, `unknown`, unanswered) among the applicable, 0..1.
    pub gap_share: Option<f64>,
}

/// Incidents of a threat on an asset type, against the schema's probability.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentStats {
    /// The threat.
    pub threat: ThreatId,
    /// The asset type hit.
    pub asset_type: AssetTypeId,
    /// Closed incidents.
    pub incidents: usize,
    /// Enterprises with an asset of that type.
    pub exposed: usize,
    /// Enterprises with such an incident in the last year, per 100 exposed.
    pub observed: f64,
    /// Incidents closed in the last year.
    pub incidents_last_year: usize,
    /// Incidents in the last year per exposed enterprise: a yearly frequency.
    pub yearly_rate: f64,
    /// That frequency on the scale of P (20 every few years, 40 yearly, 60
    /// quarterly, 80 monthly, 100 weekly); none without an incident in the year.
    pub observed_probability: Option<f64>,
    /// P(T,t) of the schema's TAD matrix (own row or nearest ancestor's), 0..100.
    pub schema_probability: Option<f64>,
}

/// A yearly frequency on the scale of P: each band reaches from the geometric
/// middle between its frequency and the one below (a year has 52 weeks,
/// 12 months, 4 quarters; "every few years" is taken as every 3).
pub fn probability_band(yearly_rate: f64) -> Option<f64> {
    const BANDS: [(f64, f64); 5] = [
        (100.0, 52.0),
        (80.0, 12.0),
        (60.0, 4.0),
        (40.0, 1.0),
        (20.0, 1.0 / 3.0),
    ];
    if yearly_rate <= 0.0 {
        return None;
    }
    for window in BANDS.windows(2) {
        let ((band, frequency), (_, below)) = (window[0], window[1]);
        if yearly_rate >= (frequency * below).sqrt() {
            return Some(band);
        }
    }
    Some(20.0)
}

/// The name of a band of P.
fn band_name(p: f64) -> &'static str {
    match p.round() as u32 {
        0..=29 => "every few years",
        30..=49 => "yearly",
        50..=69 => "quarterly",
        70..=89 => "monthly",
        _ => "weekly",
    }
}

/// The 95 % Wilson interval of `k` successes in `n` trials, 0..1.
fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n, z) = (k as f64, n as f64, 1.96f64);
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Mean compliance of the enterprises in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrendPoint {
    /// `YYYY-MM`.
    pub month: String,
    /// Enterprises with a board that month.
    pub enterprises: usize,
    /// Mean of their last compliance that month, 0..100.
    pub compliance: Option<f64>,
    /// Mean of their last maximum risk that month.
    pub risk_max: f64,
}

/// A measured (metric or culture) value across enterprises.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeasuredStats {
    /// The subcontrol.
    pub subcontrol: SubControlId,
    /// Enterprises measuring it.
    pub enterprises: usize,
    /// The mean value, 0..1.
    pub mean: f64,
}

/// A schema change the statistics suggest to the architect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSuggestion {
    /// `raise-probability`, `lower-level`, `review-subcontrol`, `add-tad-row`.
    pub kind: String,
    /// What to change, e.g. `asset_type_threat(HW, A.24).probability`.
    pub target: String,
    /// The value now.
    pub current: Option<f64>,
    /// The value proposed.
    pub proposed: Option<f64>,
    /// Why, in words.
    pub reason: String,
    /// The asset type of a TAD-row change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_type: Option<AssetTypeId>,
    /// The threat of a TAD-row change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threat: Option<ThreatId>,
    /// The subcontrol of a level change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcontrol: Option<SubControlId>,
    /// How many enterprises the suggestion rests on.
    #[serde(default)]
    pub sample: usize,
}

impl StatsSuggestion {
    /// Whether [`Kernel::apply_stats_suggestions`] can make this change by
    /// itself (a new TAD row needs degradations only the architect can give).
    pub fn applicable(&self) -> bool {
        matches!(self.kind.as_str(), "raise-probability" | "lower-level") && self.proposed.is_some()
    }
}

/// `schema stats`: never an enterprise's name or id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaStats {
    /// The schema.
    pub schema: SchemaId,
    /// Enterprises (ISMSs) generated from any version of it.
    pub enterprises: usize,
    /// Per subcontrol, in schema order.
    pub answers: Vec<AnswerStats>,
    /// The most frequent gaps, worst first (at most 10).
    pub gaps: Vec<AnswerStats>,
    /// Incidents per threat and asset type.
    pub incidents: Vec<IncidentStats>,
    /// Compliance per month.
    pub trends: Vec<TrendPoint>,
    /// Measured values now.
    pub measured: Vec<MeasuredStats>,
    /// Concrete schema changes (with `--suggest`).
    pub suggestions: Vec<StatsSuggestion>,
    /// The fewest enterprises a suggestion rests on (the schema's `min_sample`).
    pub min_sample: usize,
}

/// P(T,t) of the TAD row of `asset_type` or its nearest ancestor.
fn schema_probability(schema: &Schema, asset_type: &AssetTypeId, threat: &ThreatId) -> Option<f64> {
    tad_row_in_lineage(schema, asset_type, threat).map(|r| r.probability)
}

fn month_of(nanos_key: &str) -> Option<String> {
    let stamp = nanos_key.rsplit('/').next()?;
    let nanos: i64 = stamp
        .get(..20)?
        .parse::<u128>()
        .ok()?
        .checked_div(1_000_000_000)? as i64;
    chrono::DateTime::from_timestamp(nanos, 0).map(|d| d.format("%Y-%m").to_string())
}

/// The TAD row of `asset_type` or its nearest ancestor, for `threat`.
fn tad_row_in_lineage(
    schema: &Schema,
    asset_type: &AssetTypeId,
    threat: &ThreatId,
) -> Option<mmsm_model::AssetTypeThreat> {
    let mut current = Some(asset_type.clone());
    let mut seen = BTreeSet::new();
    while let Some(t) = current {
        if !seen.insert(t.clone()) {
            return None;
        }
        if let Some(row) = schema
            .matrices
            .asset_type_threat
            .iter()
            .find(|r| r.asset_type == t && &r.threat == threat)
        {
            return Some(row.clone());
        }
        current = schema
            .asset_types
            .iter()
            .find(|a| a.id == t)
            .and_then(|a| a.parent.clone());
    }
    None
}

/// Makes one suggested change to `schema`; says what it did.
fn apply_suggestion(
    schema: &mut Schema,
    s: &StatsSuggestion,
) -> std::result::Result<String, String> {
    let proposed = s.proposed.ok_or("it proposes no value")?;
    match (s.kind.as_str(), &s.asset_type, &s.threat, &s.subcontrol) {
        ("raise-probability", Some(t), Some(threat), _) => {
            let own = schema
                .matrices
                .asset_type_threat
                .iter_mut()
                .find(|r| &r.asset_type == t && &r.threat == threat);
            match own {
                Some(row) => row.probability = proposed,
                None => {
                    // The probability came from an ancestor's row: give this type its own,
                    // so the ancestor's other descendants keep theirs.
                    let mut row = tad_row_in_lineage(schema, t, threat)
                        .ok_or_else(|| format!("no TAD row exposes {t} to {threat}"))?;
                    row.asset_type = t.clone();
                    row.probability = proposed;
                    schema.matrices.asset_type_threat.push(row);
                }
            }
            Ok(format!("P({threat}, {t}) = {proposed}"))
        }
        ("lower-level", _, _, Some(id)) => {
            let sub = schema
                .controls
                .iter_mut()
                .flat_map(|c| c.subcontrols.iter_mut())
                .find(|x| &x.id == id)
                .ok_or_else(|| format!("subcontrol {id} is not in the schema"))?;
            sub.level = proposed as u8;
            Ok(format!("subcontrol {id} at level {}", sub.level))
        }
        _ => Err(format!(
            "`{}` changes are made by editing the schema document",
            s.kind
        )),
    }
}

/// What applying suggestions made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppliedSuggestions {
    /// The new version (or the same when nothing changed).
    pub outcome: super::super::ImportOutcome,
    /// The changes made, in words.
    pub applied: Vec<String>,
}

impl Kernel {
    /// Makes the next version of schema `id` with the suggestions of
    /// [`Kernel::schema_stats`] numbered `picked` (0-based, in its order).
    /// The statistics are computed anew, so the numbers refer to what the
    /// architect saw only while nothing changed; a suggestion that cannot be
    /// made by itself refuses the whole change. For the schemas zone.
    pub fn apply_stats_suggestions(
        &self,
        principal: &Principal,
        id: &str,
        picked: &[usize],
    ) -> Result<AppliedSuggestions> {
        let stats = self.schema_stats(principal, id, true)?;
        if picked.is_empty() {
            return Err(ServiceError::Refused(
                "no suggestion was picked: tick the changes to make".into(),
            ));
        }
        let mut schema = self.schema(principal, id, None)?.schema;
        let mut applied = Vec::new();
        for &n in picked {
            let s = stats.suggestions.get(n).ok_or_else(|| {
                ServiceError::Refused(format!(
                    "schema {id} has {} suggestions now, not a number {}; reload the statistics",
                    stats.suggestions.len(),
                    n + 1
                ))
            })?;
            let said = apply_suggestion(&mut schema, s).map_err(|why| {
                ServiceError::Refused(format!("suggestion {} ({}): {why}", n + 1, s.target))
            })?;
            applied.push(said);
        }
        let outcome = self.import_schema(principal, schema)?;
        Ok(AppliedSuggestions { outcome, applied })
    }

    /// Statistics of schema `id` across its ISMSs; with `suggest`, the schema
    /// changes they support. For the schemas zone (AGS, GED).
    pub fn schema_stats(
        &self,
        principal: &Principal,
        id: &str,
        suggest: bool,
    ) -> Result<SchemaStats> {
        principal.require(Zone::Schemas, "read schema statistics")?;
        let stored = self.schema(principal, id, None)?;
        let schema = stored.schema;
        // The summary index names the ISMSs of the schema; only those are read.
        let prefix = format!("{id}@");
        let mut records: Vec<IsmsRecord> = Vec::new();
        for listed in self.list_isms(&Principal::system())? {
            if listed.schema.starts_with(&prefix) {
                records.push(self.isms(&Principal::system(), listed.id.as_str())?);
            }
        }
        let answers = answer_stats(&schema, &records);
        let mut gaps: Vec<AnswerStats> = answers
            .iter()
            .filter(|a| a.gap_share.is_some_and(|g| g > 0.0))
            .cloned()
            .collect();
        gaps.sort_by(|a, b| {
            b.gap_share
                .unwrap_or(0.0)
                .total_cmp(&a.gap_share.unwrap_or(0.0))
                .then_with(|| natural_cmp(a.subcontrol.as_str(), b.subcontrol.as_str()))
        });
        gaps.truncate(10);
        let incidents = self.incident_stats(&schema, &records)?;
        let trends = self.trends(&records)?;
        let mut measured: BTreeMap<SubControlId, Vec<f64>> = BTreeMap::new();
        for record in &records {
            for (sub, value) in &record.inputs.measured {
                measured.entry(sub.clone()).or_default().push(*value);
            }
        }
        let measured = measured
            .into_iter()
            .map(|(subcontrol, values)| MeasuredStats {
                subcontrol,
                enterprises: values.len(),
                mean: values.iter().sum::<f64>() / values.len() as f64,
            })
            .collect();
        let min_sample = schema
            .schema
            .min_sample
            .unwrap_or(mmsm_model::DEFAULT_MIN_SAMPLE) as usize;
        let suggestions = if suggest {
            schema_suggestions(&answers, &incidents, min_sample)
        } else {
            Vec::new()
        };
        Ok(SchemaStats {
            schema: schema.schema.id.clone(),
            enterprises: records.len(),
            answers,
            gaps,
            incidents,
            trends,
            measured,
            suggestions,
            min_sample,
        })
    }

    fn incident_stats(
        &self,
        schema: &Schema,
        records: &[IsmsRecord],
    ) -> Result<Vec<IncidentStats>> {
        let now = self.now();
        // (threat, type) -> (incidents, enterprises with one in the last
        // year, incidents in the last year)
        let mut counts: BTreeMap<(ThreatId, AssetTypeId), (usize, BTreeSet<usize>, usize)> =
            BTreeMap::new();
        for (n, record) in records.iter().enumerate() {
            let instances: Vec<ProcedureInstance> = self
                .store()
                .scan::<ProcedureInstance>(Repo::Isms, &format!("proc/{}/", record.id))?
                .into_iter()
                .map(|(_, i)| i)
                .filter(|i| i.closed_at.is_some())
                .collect();
            for instance in &instances {
                for (register_id, entry) in &instance.registers {
                    let Some(register) = schema.artefacts.iter().find(|a| &a.id == register_id)
                    else {
                        continue;
                    };
                    let field = |kind: FieldKind| {
                        register
                            .fields
                            .iter()
                            .find(|f| f.kind == kind)
                            .and_then(|f| entry.get(&f.id))
                    };
                    let (Some(threat), Some(assets)) = (
                        field(FieldKind::Threat).and_then(Value::as_str),
                        field(FieldKind::Assets).and_then(Value::as_array),
                    ) else {
                        continue;
                    };
                    let types: BTreeSet<AssetTypeId> = assets
                        .iter()
                        .filter_map(Value::as_str)
                        .filter_map(|a| record.inputs.assets.iter().find(|x| x.id.as_str() == a))
                        .map(|a| a.asset_type.clone())
                        .collect();
                    for asset_type in types {
                        let entry = counts
                            .entry((ThreatId::new(threat), asset_type))
                            .or_default();
                        entry.0 += 1;
                        if instance.closed_at.is_some_and(|c| c + YEAR >= now) {
                            entry.1.insert(n);
                            entry.2 += 1;
                        }
                    }
                }
            }
        }
        Ok(counts
            .into_iter()
            .map(|((threat, asset_type), (incidents, recent, last_year))| {
                let exposed = records
                    .iter()
                    .filter(|r| r.inputs.assets.iter().any(|a| a.asset_type == asset_type))
                    .count();
                let yearly_rate = last_year as f64 / exposed.max(1) as f64;
                IncidentStats {
                    schema_probability: schema_probability(schema, &asset_type, &threat),
                    observed: 100.0 * recent.len() as f64 / exposed.max(1) as f64,
                    incidents_last_year: last_year,
                    yearly_rate,
                    observed_probability: probability_band(yearly_rate),
                    threat,
                    asset_type,
                    incidents,
                    exposed,
                }
            })
            .collect())
    }

    fn trends(&self, records: &[IsmsRecord]) -> Result<Vec<TrendPoint>> {
        // month -> per enterprise, its last board of the month
        let mut months: BTreeMap<String, BTreeMap<usize, BoardPoint>> = BTreeMap::new();
        for (n, record) in records.iter().enumerate() {
            for (key, board) in self
                .store()
                .scan::<BoardPoint>(Repo::Info, &format!("board/{}/", record.id))?
            {
                if let Some(month) = month_of(&key) {
                    months.entry(month).or_default().insert(n, board);
                }
            }
        }
        Ok(months
            .into_iter()
            .map(|(month, boards)| {
                let compliances: Vec<f64> = boards.values().filter_map(|b| b.compliance).collect();
                TrendPoint {
                    month,
                    enterprises: boards.len(),
                    compliance: (!compliances.is_empty())
                        .then(|| compliances.iter().sum::<f64>() / compliances.len() as f64),
                    risk_max: boards.values().map(|b| b.risk.max).sum::<f64>()
                        / boards.len().max(1) as f64,
                }
            })
            .collect())
    }
}

fn answer_stats(schema: &Schema, records: &[IsmsRecord]) -> Vec<AnswerStats> {
    schema
        .subcontrols()
        .map(|(_, sub)| {
            let mut stats = AnswerStats {
                subcontrol: sub.id.clone(),
                text: sub.text.clone(),
                level: sub.level,
                yes: 0,
                partial: 0,
                no: 0,
                na: 0,
                unknown: 0,
                unanswered: 0,
                met_share: None,
                gap_share: None,
            };
            for record in records {
                match record.inputs.answers.get(&sub.id) {
                    Some(Answer::Yes) => stats.yes += 1,
                    Some(Answer::Partial) => stats.partial += 1,
                    Some(Answer::No) => stats.no += 1,
                    Some(Answer::Na) => stats.na += 1,
                    Some(Answer::Unknown) => stats.unknown += 1,
                    None => stats.unanswered += 1,
                }
            }
            let applicable = records.len() - stats.na;
            if applicable > 0 {
                stats.met_share = Some(stats.yes as f64 / applicable as f64);
                stats.gap_share =
                    Some((stats.no + stats.unknown + stats.unanswered) as f64 / applicable as f64);
            }
            stats
        })
        .collect()
}

fn schema_suggestions(
    answers: &[AnswerStats],
    incidents: &[IncidentStats],
    min_sample: usize,
) -> Vec<StatsSuggestion> {
    let mut suggestions = Vec::new();
    for incident in incidents {
        let target = format!(
            "asset_type_threat({}, {}).probability",
            incident.asset_type, incident.threat
        );
        let Some(observed) = incident.observed_probability else {
            continue;
        };
        let seen = format!(
            "{} incident{} of {} in the last year across the {} enterprise{} with assets of type {}: about {:.2} a year each, the band of P = {observed:.0} ({})",
            incident.incidents_last_year,
            if incident.incidents_last_year == 1 { "" } else { "s" },
            incident.threat,
            incident.exposed,
            if incident.exposed == 1 { "" } else { "s" },
            incident.asset_type,
            incident.yearly_rate,
            band_name(observed)
        );
        match incident.schema_probability {
            // Like with like: the frequency's band against P's, one band at a
            // time, and only from enough enterprises.
            Some(p) if observed > p + 1e-9 && incident.exposed >= min_sample => {
                let proposed = (p + 20.0).min(100.0);
                suggestions.push(StatsSuggestion {
                    kind: "raise-probability".into(),
                    target,
                    current: Some(p),
                    proposed: Some(proposed),
                    reason: format!(
                        "{seen}; the schema says P = {p:.0} ({}): one band up to {proposed:.0} ({})",
                        band_name(p),
                        band_name(proposed)
                    ),
                    asset_type: Some(incident.asset_type.clone()),
                    threat: Some(incident.threat.clone()),
                    subcontrol: None,
                    sample: incident.exposed,
                })
            }
            // A fact, not a statistic: the matrix does not expose the type at all.
            None => suggestions.push(StatsSuggestion {
                kind: "add-tad-row".into(),
                target,
                current: None,
                proposed: Some(observed),
                reason: format!(
                    "{seen}; the TAD matrix does not expose assets of type {} to {}",
                    incident.asset_type, incident.threat
                ),
                asset_type: Some(incident.asset_type.clone()),
                threat: Some(incident.threat.clone()),
                subcontrol: None,
                sample: incident.exposed,
            }),
            Some(_) => {}
        }
    }
    for a in answers {
        let Some(met) = a.met_share else { continue };
        let answered = a.yes + a.partial + a.no + a.unknown + a.unanswered;
        if met > ALMOST_ALWAYS_MET && a.level > 1 && answered >= min_sample {
            let (low, high) = wilson(a.yes, answered);
            suggestions.push(StatsSuggestion {
                kind: "lower-level".into(),
                target: format!("subcontrol {}.level", a.subcontrol),
                current: Some(f64::from(a.level)),
                proposed: Some(f64::from(a.level - 1)),
                reason: format!(
                    "met by {:.0} % of the {answered} enterprises it applies to (95 % interval {:.0}-{:.0} %): a candidate for a lower level",
                    met * 100.0,
                    low * 100.0,
                    high * 100.0
                ),
                asset_type: None,
                threat: None,
                subcontrol: Some(a.subcontrol.clone()),
                sample: answered,
            });
        }
    }
    suggestions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/msgs");
        mmsm_schema::load_path(std::path::Path::new(path))
            .unwrap()
            .schema
    }

    #[test]
    fn frequencies_fall_in_the_bands_of_p() {
        // Issue 16: a share of enterprises was compared with P, a frequency.
        assert_eq!(probability_band(0.0), None);
        assert_eq!(probability_band(0.2), Some(20.0), "every five years");
        assert_eq!(probability_band(1.0), Some(40.0), "yearly");
        assert_eq!(probability_band(3.0), Some(60.0), "three times a year");
        assert_eq!(probability_band(12.0), Some(80.0), "monthly");
        assert_eq!(probability_band(60.0), Some(100.0), "weekly");
        let (low, high) = wilson(5, 5);
        assert!((0.56..0.57).contains(&low) && high > 0.999, "{low} {high}");
    }

    fn incident(exposed: usize, last_year: usize, p: f64) -> IncidentStats {
        let yearly_rate = last_year as f64 / exposed as f64;
        IncidentStats {
            threat: "A.24".into(),
            asset_type: "HW".into(),
            incidents: last_year,
            exposed,
            observed: 100.0,
            incidents_last_year: last_year,
            yearly_rate,
            observed_probability: probability_band(yearly_rate),
            schema_probability: Some(p),
        }
    }

    fn answered_yes(n: usize) -> AnswerStats {
        AnswerStats {
            subcontrol: "8.13.2".into(),
            text: String::new(),
            level: 2,
            yes: n,
            partial: 0,
            no: 0,
            na: 0,
            unknown: 0,
            unanswered: 0,
            met_share: Some(1.0),
            gap_share: Some(0.0),
        }
    }

    #[test]
    fn suggestions_need_the_minimum_sample_and_move_one_band() {
        // One incident in one enterprise once proposed "60 -> 100 (weekly)".
        assert!(schema_suggestions(&[answered_yes(1)], &[incident(1, 1, 20.0)], 5).is_empty());
        let s = schema_suggestions(&[answered_yes(6)], &[incident(6, 30, 40.0)], 5);
        assert_eq!(s.len(), 2, "{s:#?}");
        let raise = &s[0];
        assert_eq!(
            (raise.current, raise.proposed),
            (Some(40.0), Some(60.0)),
            "one band"
        );
        assert_eq!(raise.sample, 6);
        assert!(
            raise.reason.contains("about 5.00 a year each"),
            "{}",
            raise.reason
        );
        assert!(s[1].reason.contains("95 % interval"), "{}", s[1].reason);
        // A frequency within the schema's band suggests nothing.
        assert!(schema_suggestions(&[], &[incident(10, 10, 40.0)], 5).is_empty());
    }

    fn raise(asset_type: &str, proposed: f64) -> StatsSuggestion {
        StatsSuggestion {
            kind: "raise-probability".into(),
            target: format!("asset_type_threat({asset_type}, A.24).probability"),
            current: Some(40.0),
            proposed: Some(proposed),
            reason: String::new(),
            asset_type: Some(asset_type.into()),
            threat: Some("A.24".into()),
            subcontrol: None,
            sample: 5,
        }
    }

    fn p(schema: &Schema, asset_type: &str) -> Option<f64> {
        schema
            .matrices
            .asset_type_threat
            .iter()
            .find(|r| r.asset_type.as_str() == asset_type && r.threat.as_str() == "A.24")
            .map(|r| r.probability)
    }

    #[test]
    fn a_raised_probability_changes_the_own_row_or_gives_the_type_its_own() {
        let mut s = schema();
        apply_suggestion(&mut s, &raise("HW", 60.0)).unwrap();
        assert_eq!(p(&s, "HW"), Some(60.0));

        // A descendant that inherited the row gets its own; the ancestor keeps its value.
        let mut s = schema();
        s.asset_types.push(mmsm_model::AssetType {
            parent: Some("HW".into()),
            ..serde_saphyr::from_str("{ id: HW.srv, name: Servers }").unwrap()
        });
        let said = apply_suggestion(&mut s, &raise("HW.srv", 80.0)).unwrap();
        assert_eq!(said, "P(A.24, HW.srv) = 80");
        assert_eq!((p(&s, "HW"), p(&s, "HW.srv")), (Some(40.0), Some(80.0)));
    }

    #[test]
    fn a_lower_level_moves_the_subcontrol_and_a_new_tad_row_is_left_to_the_architect() {
        let mut s = schema();
        let lower = StatsSuggestion {
            kind: "lower-level".into(),
            target: "subcontrol 8.13.2.level".into(),
            current: Some(2.0),
            proposed: Some(1.0),
            reason: String::new(),
            asset_type: None,
            threat: None,
            subcontrol: Some("8.13.2".into()),
            sample: 5,
        };
        assert!(lower.applicable());
        apply_suggestion(&mut s, &lower).unwrap();
        let level = s
            .subcontrols()
            .find(|(_, x)| x.id.as_str() == "8.13.2")
            .map(|(_, x)| x.level);
        assert_eq!(level, Some(1));
        let new_row = StatsSuggestion {
            kind: "add-tad-row".into(),
            ..raise("D", 30.0)
        };
        assert!(!new_row.applicable());
        assert!(apply_suggestion(&mut s, &new_row).is_err());
    }
}
