//! The schema: every element of DESIGN.md section 3, as the documents spell it.
//!
//! One type serves a single document and the merged schema: [`SchemaDoc`] is
//! generic over its header, so a document may lack the `schema:` header
//! ([`Document`]) while a stored [`Schema`] always has one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::ids::*;
use super::period::Period;

/// What a document may hold as its header: a stored schema always has one.
pub trait Header {
    /// Whether there is no header to write.
    fn is_absent(&self) -> bool;
}

impl Header for SchemaHeader {
    fn is_absent(&self) -> bool {
        false
    }
}

impl Header for Option<SchemaHeader> {
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

/// A schema document as read from one file: every section optional.
pub type Document = SchemaDoc<Option<SchemaHeader>>;
/// A complete schema: the merged sections of its documents, with its header.
pub type Schema = SchemaDoc<SchemaHeader>;

/// The sections of a schema document (DESIGN.md 3). Unknown sections are errors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(serialize = "H: Serialize + Header"))]
pub struct SchemaDoc<H> {
    /// The schema header: exactly one per schema.
    #[serde(skip_serializing_if = "Header::is_absent")]
    pub schema: H,
    /// A1.1 roles of the users who take part in the system.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// A1.1 business sectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sectors: Vec<Sector>,
    /// A1.1 size classes, ordered small to large.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sizes: Vec<Size>,
    /// A1.1 the maturity levels (1..3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maturity_levels: Vec<MaturityLevel>,
    /// Compliance bands of the control board.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_bands: Option<StatusBands>,
    /// A1.2 domains of controls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<Domain>,
    /// A1.2 control objectives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectives: Vec<Objective>,
    /// A1.2 controls with their subcontrols.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<Control>,
    /// A2.2 the questions of the business meeting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub business_checklist: Vec<BusinessQuestion>,
    /// A1.3 the asset-type tree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_types: Vec<AssetType>,
    /// A1.3 threats.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threats: Vec<Threat>,
    /// A1.3 vulnerabilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
    /// A1.3 the scales of the risk analysis as bands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_criteria: Vec<RiskCriterion>,
    /// A1.3 and A1.4 the matrices that relate the elements.
    #[serde(default, skip_serializing_if = "Matrices::is_empty")]
    pub matrices: Matrices,
    /// A1.4 procedures with their phases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procedures: Vec<Procedure>,
    /// A1.4 regulations with their rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regulations: Vec<Regulation>,
    /// A1.4 templates, registers and technical instructions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artefacts: Vec<Artefact>,
    /// Metric scripts or plugins bound to subcontrols (DESIGN.md 6.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricDef>,
    /// A3.1 the security-culture test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub culture: Option<Culture>,
    /// Cross-standard mappings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<Mapping>,
    /// Certification by levels and the audit programme (issue 15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certification: Option<Certification>,
    /// The laws, regulations and contracts the legal catalogue draws on (issue 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obligation_sources: Vec<ObligationSource>,
    /// The legal and regulatory catalogue: what each source asks, when it applies and
    /// the controls that meet it (issue 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub obligations: Vec<Obligation>,
}

impl<H: Default> Default for SchemaDoc<H> {
    fn default() -> Self {
        SchemaDoc {
            schema: H::default(),
            roles: Vec::new(),
            sectors: Vec::new(),
            sizes: Vec::new(),
            maturity_levels: Vec::new(),
            status_bands: None,
            domains: Vec::new(),
            objectives: Vec::new(),
            controls: Vec::new(),
            business_checklist: Vec::new(),
            asset_types: Vec::new(),
            threats: Vec::new(),
            vulnerabilities: Vec::new(),
            risk_criteria: Vec::new(),
            matrices: Matrices::default(),
            procedures: Vec::new(),
            regulations: Vec::new(),
            artefacts: Vec::new(),
            metrics: Vec::new(),
            culture: None,
            mappings: Vec::new(),
            certification: None,
            obligation_sources: Vec::new(),
            obligations: Vec::new(),
        }
    }
}

impl<H> SchemaDoc<H> {
    /// The same sections under another header.
    pub fn with_header<H2>(self, schema: H2) -> SchemaDoc<H2> {
        SchemaDoc {
            schema,
            roles: self.roles,
            sectors: self.sectors,
            sizes: self.sizes,
            maturity_levels: self.maturity_levels,
            status_bands: self.status_bands,
            domains: self.domains,
            objectives: self.objectives,
            controls: self.controls,
            business_checklist: self.business_checklist,
            asset_types: self.asset_types,
            threats: self.threats,
            vulnerabilities: self.vulnerabilities,
            risk_criteria: self.risk_criteria,
            matrices: self.matrices,
            procedures: self.procedures,
            regulations: self.regulations,
            artefacts: self.artefacts,
            metrics: self.metrics,
            culture: self.culture,
            mappings: self.mappings,
            certification: self.certification,
            obligation_sources: self.obligation_sources,
            obligations: self.obligations,
        }
    }

    /// Every subcontrol of every control, with its control.
    pub fn subcontrols(&self) -> impl Iterator<Item = (&Control, &SubControl)> {
        self.controls
            .iter()
            .flat_map(|c| c.subcontrols.iter().map(move |s| (c, s)))
    }
}

impl Schema {
    /// The threshold of maturity level `level`, from the schema or DESIGN.md 4.2's defaults.
    pub fn threshold(&self, level: u8) -> f64 {
        self.maturity_levels
            .iter()
            .find(|m| m.level == level)
            .and_then(|m| m.threshold)
            .unwrap_or_else(|| MaturityLevel::default_threshold(level))
    }

    /// The size class of an enterprise (DESIGN.md 4.2): the first size, in the
    /// schema's order, whose `max_employees` holds the head count and, when both
    /// are known, whose `max_turnover_eur` holds the turnover; the largest size otherwise.
    pub fn size_class(&self, employees: u32, turnover_eur: Option<f64>) -> Option<&Size> {
        let fits = |size: &&Size| {
            size.max_employees.is_none_or(|max| employees <= max)
                && match (size.max_turnover_eur, turnover_eur) {
                    (Some(max), Some(turnover)) => turnover <= max,
                    _ => true,
                }
        };
        self.sizes.iter().find(fits).or(self.sizes.last())
    }

    /// The certification settings and audit programme, or the defaults (no audit scheduled).
    pub fn certification(&self) -> Certification {
        self.certification.clone().unwrap_or_default()
    }

    /// The control-board bands, from the schema or the defaults (red < 50, amber < 80).
    pub fn status_bands(&self) -> StatusBands {
        self.status_bands.clone().unwrap_or_default()
    }

    /// The bands of the risk level, from the schema's `risk` criterion or DESIGN.md 4.3's defaults.
    pub fn risk_bands(&self) -> Vec<Band> {
        self.risk_criteria
            .iter()
            .find(|c| c.id == CriterionKind::Risk)
            .map(|c| c.bands.clone())
            .unwrap_or_else(default_risk_bands)
    }
}

/// DESIGN.md 4.3's default risk bands: insignificant, low, medium, high, critical.
pub fn default_risk_bands() -> Vec<Band> {
    let band = |from: f64, to: f64, label: &str, color: &str| Band {
        from,
        to,
        label: label.to_owned(),
        color: Some(color.to_owned()),
    };
    vec![
        band(0.0, 5.0, "insignificant", "#2e7d32"),
        band(5.0, 15.0, "low", "#9e9d24"),
        band(15.0, 30.0, "medium", "#f9a825"),
        band(30.0, 50.0, "high", "#ef6c00"),
        band(50.0, 100.0, "critical", "#c62828"),
    ]
}

/// The header of a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaHeader {
    /// `[a-z0-9._-]+`.
    pub id: SchemaId,
    /// A name for people.
    pub name: String,
    /// The version: set by the store when a changed schema is imported.
    #[serde(default = "one")]
    pub version: u32,
    /// The schema this one was cloned from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub based_on: Option<SchemaRef>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The enterprises this schema is meant for.
    #[serde(default)]
    pub applies_to: AppliesTo,
    /// The maturity level to reach, per size class (A2.2).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub target_level: BTreeMap<SizeId, u8>,
    /// The fewest enterprises whose data the schema statistics need before
    /// they suggest a change (default [`DEFAULT_MIN_SAMPLE`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_sample: Option<u32>,
}

/// The statistics' minimum sample when a schema names none.
pub const DEFAULT_MIN_SAMPLE: u32 = 5;

fn one() -> u32 {
    1
}

/// A reference to one version of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaRef {
    /// The schema id.
    pub id: SchemaId,
    /// Its version.
    pub version: u32,
}

/// The sectors and sizes a schema is made for; `"*"` matches every sector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppliesTo {
    /// Sector ids, or `"*"`.
    #[serde(default)]
    pub sectors: Vec<SectorId>,
    /// Size ids.
    #[serde(default)]
    pub sizes: Vec<SizeId>,
}

impl Default for AppliesTo {
    fn default() -> Self {
        AppliesTo {
            sectors: vec![SectorId::new("*")],
            sizes: Vec::new(),
        }
    }
}

/// The zones of the tool (paper section 4); a role belongs to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Zone {
    /// GEGS: the schemas zone (AGS, GED).
    Schemas,
    /// GSGS: the generation zone (CoS).
    Generation,
    /// MSGS: the maintenance zone (the enterprise's users).
    Maintenance,
    /// Audit (AuS, read only).
    Audit,
    /// The client's profiles.
    Client,
}

/// A role (A1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// e.g. `Cl/RS`.
    pub id: RoleId,
    /// e.g. "Responsible for security".
    pub name: String,
    /// The zone the role works in.
    pub zone: Zone,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A business sector (A1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sector {
    /// e.g. `health`.
    pub id: SectorId,
    /// A name for people.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A size class of enterprise (A1.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Size {
    /// e.g. `small`.
    pub id: SizeId,
    /// A name for people.
    pub name: String,
    /// Largest head count of the class (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_employees: Option<u32>,
    /// Largest yearly turnover of the class, in euros (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_turnover_eur: Option<f64>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A maturity level (A1.1, DESIGN.md 4.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaturityLevel {
    /// 1..3.
    pub level: u8,
    /// A name for people.
    pub name: String,
    /// What reaching the level means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Compliance of the level's subcontrols needed to reach it, in (0,1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
}

impl MaturityLevel {
    /// DESIGN.md 4.2's defaults: 0.80, 0.80, 0.90.
    pub fn default_threshold(level: u8) -> f64 {
        if level >= 3 {
            0.90
        } else {
            0.80
        }
    }
}

/// Control-board colours: compliance (percent) below `red` is red, below `amber` amber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBands {
    /// Below this compliance (0..100) a control is red.
    pub red: f64,
    /// Below this compliance (0..100) a control is amber; green otherwise.
    pub amber: f64,
}

impl Default for StatusBands {
    fn default() -> Self {
        StatusBands {
            red: 50.0,
            amber: 80.0,
        }
    }
}

/// Certification by levels and audits (issue 15): how long a level certificate
/// holds, how far an open major non-conformity holds its control down, and the
/// audits the enterprise is expected to undergo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Certification {
    /// Days a level certificate stays valid.
    #[serde(default = "default_certificate_days")]
    pub certificate_days: u32,
    /// The highest compliance (0..1) a control counts while a major
    /// non-conformity on it is open: 0, it is not implemented until closed.
    #[serde(default)]
    pub major_finding_cap: f64,
    /// The audit programme: audits scheduled like procedures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audits: Vec<AuditPlan>,
}

impl Default for Certification {
    fn default() -> Self {
        Certification {
            certificate_days: default_certificate_days(),
            major_finding_cap: 0.0,
            audits: Vec::new(),
        }
    }
}

fn default_certificate_days() -> u32 {
    365
}

/// Who performs an audit of the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    /// By the enterprise or its consultancy (ISO 27001 9.2).
    Internal,
    /// By a certification body or another third party.
    External,
}

impl AuditKind {
    /// `internal` or `external`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Internal => "internal",
            AuditKind::External => "external",
        }
    }
}

/// An audit of the programme: what, by whom, how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditPlan {
    /// e.g. `internal-audit`.
    pub id: AuditPlanId,
    /// A name for people.
    pub name: String,
    /// Internal or external.
    pub kind: AuditKind,
    /// How often it is due, e.g. `1y` or `6mo`.
    pub every: Period,
    /// What it covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A domain of controls (A1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Domain {
    /// e.g. `5`.
    pub id: DomainId,
    /// e.g. "Organizational controls".
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `false` for the requirements of the management system itself (ISO/IEC 27001
    /// clauses 4 to 10): they are not controls one selects, so the Statement of
    /// Applicability leaves them out and none of their questions can be not applicable.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub in_soa: bool,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Schema {
    /// Whether control `control` is a requirement of the management system (its
    /// domain has `in_soa: false`) rather than a control one selects.
    pub fn is_requirement(&self, control: &Control) -> bool {
        self.domains
            .iter()
            .any(|d| d.id == control.domain && !d.in_soa)
    }
}

/// A control objective (A1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objective {
    /// The id.
    pub id: ObjectiveId,
    /// Its domain.
    pub domain: DomainId,
    /// A name for people.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A control with its subcontrols (A1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// e.g. `8.13`.
    pub id: ControlId,
    /// Its domain.
    pub domain: DomainId,
    /// Its objective, if the standard has objectives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub objective: Option<ObjectiveId>,
    /// A short title.
    pub title: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Relative cost of implementing it (default 1).
    #[serde(default = "one_f64")]
    pub effort: f64,
    /// The subcontrols: the questions of the technical checklist.
    #[serde(default)]
    pub subcontrols: Vec<SubControl>,
}

fn one_f64() -> f64 {
    1.0
}
fn hundred() -> f64 {
    100.0
}

/// A subcontrol: one yes/no question of the technical checklist (A1.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubControl {
    /// e.g. `8.13.1`.
    pub id: SubControlId,
    /// The yes/no question.
    pub text: String,
    /// The lowest maturity level at which it is required: 1..3.
    pub level: u8,
    /// Its weight in the control's compliance (default 1, > 0).
    #[serde(default = "one_f64")]
    pub weight: f64,
    /// Whether the level cannot be reached without it.
    #[serde(default)]
    pub mandatory: bool,
}

/// How a business-checklist question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    /// A number (employees, turnover).
    Number,
    /// One of `options`.
    Choice,
    /// Yes or no.
    Bool,
}

/// A question of the business meeting (A2.2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessQuestion {
    /// The id, also the key in a profile's `business_checklist`.
    pub id: BusinessQuestionId,
    /// The question.
    pub text: String,
    /// How it is answered.
    pub kind: QuestionKind,
    /// The enterprise field it fills: `employees`, `turnover` or `sector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maps_to: Option<String>,
    /// The options of a `choice` question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Rules that raise the target level from the answer (DESIGN.md 4.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_rules: Vec<TargetRule>,
    /// Rules that mark controls not applicable from the answer (issue 16):
    /// the business checklist decides applicability, with a justification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<NaRule>,
}

impl BusinessQuestion {
    /// The answer as this question takes it: a yes/no text becomes a boolean, a
    /// number text a number, a choice its option as the schema spells it; an
    /// answer of another kind is refused with what was expected.
    pub fn accept(&self, value: &Scalar) -> Result<Scalar, String> {
        let accepted = match (self.kind, value) {
            (QuestionKind::Bool, Scalar::Bool(b)) => Some(Scalar::Bool(*b)),
            (QuestionKind::Bool, Scalar::Text(t)) => match t.trim().to_ascii_lowercase().as_str() {
                "yes" | "true" => Some(Scalar::Bool(true)),
                "no" | "false" => Some(Scalar::Bool(false)),
                _ => None,
            },
            (QuestionKind::Number, Scalar::Number(n)) if n.is_finite() => Some(Scalar::Number(*n)),
            (QuestionKind::Number, Scalar::Text(t)) => t
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(Scalar::Number),
            (QuestionKind::Choice, Scalar::Text(t)) => self
                .options
                .iter()
                .find(|o| o.eq_ignore_ascii_case(t.trim()))
                .map(|o| Scalar::Text(o.clone())),
            _ => None,
        };
        accepted.ok_or_else(|| {
            let expected = match self.kind {
                QuestionKind::Bool => "yes or no".to_owned(),
                QuestionKind::Number => "a number".to_owned(),
                QuestionKind::Choice => format!("one of {}", self.options.join(", ")),
            };
            format!(
                "`{}` does not answer {} ({}); expected {expected}",
                value.words(),
                self.id,
                self.text
            )
        })
    }
}

/// Marks `controls` not applicable when the answer equals `equals`, with
/// the justification the SoA gives for the exclusion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NaRule {
    /// The answer that makes them not applicable (e.g. `false`).
    pub equals: Scalar,
    /// The controls.
    pub controls: Vec<ControlId>,
    /// Why, in words (e.g. "no in-house development").
    pub justification: String,
}

/// A law, regulation or contract that obligations come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObligationSource {
    /// e.g. `GDPR`.
    pub id: ObligationSourceId,
    /// Its full name, for people.
    pub name: String,
    /// `law`, `regulation`, `contract` or `standard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Where it binds (`EU`, `ES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jurisdiction: Option<String>,
}

/// One obligation of the legal and regulatory catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Obligation {
    /// e.g. `GDPR-32`.
    pub id: ObligationId,
    /// The source it comes from.
    pub source: ObligationSourceId,
    /// The article, requirement or measure as the source numbers it (`Art. 32`, `op.acc.6`).
    pub reference: String,
    /// A short title.
    pub title: String,
    /// What it asks of the enterprise, in the schema's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// When it applies: every condition over the business checklist holds (always when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applies_when: Vec<Condition>,
    /// The controls that meet it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<ControlId>,
}

/// A condition on one answer of the business checklist: it equals a value, is a number
/// at least as large, or is one of a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The business question.
    pub question: BusinessQuestionId,
    /// Holds when the answer equals this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Scalar>,
    /// Holds when the answer is a number at least this large.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// Holds when the answer is one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub one_of: Vec<Scalar>,
}

impl Condition {
    /// Whether the answer satisfies the condition; `None` when it is unanswered.
    pub fn holds(&self, answer: Option<&Scalar>) -> Option<bool> {
        let answer = answer?;
        let equals = self.equals.as_ref().is_none_or(|e| answer.matches(e));
        let at_least = self
            .at_least
            .is_none_or(|min| matches!(answer, Scalar::Number(n) if *n >= min));
        let one_of = self.one_of.is_empty() || self.one_of.iter().any(|v| answer.matches(v));
        Some(equals && at_least && one_of)
    }

    /// The condition in words: `card_payments is yes`, `employees at least 50`.
    pub fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(e) = &self.equals {
            parts.push(format!("is {}", e.words()));
        }
        if let Some(min) = self.at_least {
            parts.push(format!("at least {min}"));
        }
        if !self.one_of.is_empty() {
            let values: Vec<String> = self.one_of.iter().map(Scalar::words).collect();
            parts.push(format!("one of {}", values.join(", ")));
        }
        format!("{} {}", self.question, parts.join(" and "))
    }
}

/// Whether an obligation applies to an enterprise, from its business checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "questions")]
pub enum Applicability {
    /// Every condition holds.
    Applies,
    /// A condition does not hold.
    DoesNotApply,
    /// No condition fails, but these questions are unanswered.
    Undetermined(Vec<BusinessQuestionId>),
}

impl Obligation {
    /// Whether it applies given the business answers.
    pub fn applicability(&self, business: &BTreeMap<BusinessQuestionId, Scalar>) -> Applicability {
        let mut unanswered = Vec::new();
        for condition in &self.applies_when {
            match condition.holds(business.get(&condition.question)) {
                Some(false) => return Applicability::DoesNotApply,
                None => unanswered.push(condition.question.clone()),
                Some(true) => {}
            }
        }
        if unanswered.is_empty() {
            Applicability::Applies
        } else {
            unanswered.dedup();
            Applicability::Undetermined(unanswered)
        }
    }

    /// `GDPR Art. 32 Security of processing`.
    pub fn label(&self) -> String {
        format!("{} {} {}", self.source, self.reference, self.title)
    }
}

/// Raises the target level to `level` when the answer matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetRule {
    /// Matches an answer equal to this (a bool, a choice or a number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Scalar>,
    /// Matches a number at least this large.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    /// The minimum target level when the rule matches.
    pub level: u8,
}

/// A plain value of a business answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    /// Yes or no.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A text or a choice.
    Text(String),
}

impl Scalar {
    /// Whether this answer equals a rule's `expected` value: same kind and
    /// value (texts ignore case; a yes/no text matches a boolean).
    pub fn matches(&self, expected: &Scalar) -> bool {
        let as_bool = |text: &str| match crate::Answer::parse(text) {
            Some(crate::Answer::Yes) => Some(true),
            Some(crate::Answer::No) => Some(false),
            _ => None,
        };
        match (self, expected) {
            (Scalar::Bool(a), Scalar::Bool(b)) => a == b,
            (Scalar::Number(a), Scalar::Number(b)) => a == b,
            (Scalar::Text(a), Scalar::Text(b)) => a.eq_ignore_ascii_case(b),
            (Scalar::Bool(b), Scalar::Text(t)) | (Scalar::Text(t), Scalar::Bool(b)) => {
                as_bool(t) == Some(*b)
            }
            _ => false,
        }
    }

    /// The value in words: `yes`, `no`, a number or the text.
    pub fn words(&self) -> String {
        match self {
            Scalar::Bool(true) => "yes".into(),
            Scalar::Bool(false) => "no".into(),
            Scalar::Number(n) => n.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }
}

/// An asset type of Magerit's tree (A1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetType {
    /// e.g. `HW.pc`.
    pub id: AssetTypeId,
    /// A name for people.
    pub name: String,
    /// The parent type (its TAD rows and vulnerabilities are inherited).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<AssetTypeId>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a threat comes from (Magerit v3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// [N] natural disasters.
    Natural,
    /// [I] of industrial origin.
    Industrial,
    /// [E] errors and unintentional failures.
    Error,
    /// [A] wilful attacks.
    Attack,
}

/// A dimension of security of an asset's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dimension {
    /// Availability.
    D,
    /// Integrity.
    I,
    /// Confidentiality.
    C,
    /// Authenticity.
    A,
    /// Traceability.
    T,
}

impl Dimension {
    /// Every dimension, in the order D, I, C, A, T.
    pub const ALL: [Dimension; 5] = [
        Dimension::D,
        Dimension::I,
        Dimension::C,
        Dimension::A,
        Dimension::T,
    ];
    /// The one-letter name.
    pub fn letter(self) -> &'static str {
        match self {
            Dimension::D => "D",
            Dimension::I => "I",
            Dimension::C => "C",
            Dimension::A => "A",
            Dimension::T => "T",
        }
    }
    /// Parses a one-letter name.
    pub fn parse(s: &str) -> Option<Dimension> {
        Dimension::ALL.into_iter().find(|d| d.letter() == s)
    }
}

/// A threat (A1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Threat {
    /// Magerit's code, e.g. `A.24`.
    pub id: ThreatId,
    /// A name for people.
    pub name: String,
    /// Where it comes from.
    pub origin: Origin,
    /// The dimensions it may degrade.
    #[serde(default)]
    pub dimensions: Vec<Dimension>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A vulnerability (A1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vulnerability {
    /// The id.
    pub id: VulnerabilityId,
    /// A name for people, e.g. "no offline backup".
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Which scale a risk criterion describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CriterionKind {
    /// Asset value, 0..10.
    Value,
    /// Degradation, 0..100 %.
    Degradation,
    /// Probability, 0..100 %.
    Probability,
    /// Risk, 0..100.
    Risk,
}

/// A scale of the risk analysis as labelled bands (A1.3, DESIGN.md 4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskCriterion {
    /// Which scale.
    pub id: CriterionKind,
    /// A name for people.
    pub name: String,
    /// The bands, lowest first.
    pub bands: Vec<Band>,
}

/// One band of a scale: holds `from <= x < to` (the last band also holds `to`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// Lower bound (inclusive).
    pub from: f64,
    /// Upper bound (exclusive, but inclusive for the last band).
    pub to: f64,
    /// e.g. "medium".
    pub label: String,
    /// A CSS colour for charts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
}

/// The matrices between the elements (A1.3, A1.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matrices {
    /// Which vulnerabilities an asset type has.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_type_vulnerability: Vec<AssetTypeVulnerability>,
    /// The TAD matrix: type x threat, with probability and degradation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_type_threat: Vec<AssetTypeThreat>,
    /// Which vulnerabilities a threat exploits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threat_vulnerability: Vec<ThreatVulnerability>,
    /// Which controls mitigate a threat, and how well.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub threat_control: Vec<ThreatControl>,
    /// Which artefacts a procedure uses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procedure_artefact: Vec<ProcedureArtefact>,
    /// Which artefacts a regulation refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regulation_artefact: Vec<RegulationArtefact>,
    /// Which controls a regulation implements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regulation_control: Vec<RegulationControl>,
    /// Which controls an artefact implements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub artefact_control: Vec<ArtefactControl>,
    /// What each role must know (culture tests, A3.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub role_regulation: Vec<RoleRegulation>,
}

impl Matrices {
    /// Whether every matrix is empty.
    pub fn is_empty(&self) -> bool {
        *self == Matrices::default()
    }
}

/// A row of `asset_type_vulnerability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetTypeVulnerability {
    /// The asset type.
    pub asset_type: AssetTypeId,
    /// The vulnerability it has.
    pub vulnerability: VulnerabilityId,
}

/// A row of the TAD matrix (`asset_type_threat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetTypeThreat {
    /// The asset type (and its descendants).
    pub asset_type: AssetTypeId,
    /// The threat.
    pub threat: ThreatId,
    /// P(T,t) in 0..100.
    pub probability: f64,
    /// Deg(T,t,d) in 0..100 per dimension; only the listed dimensions count.
    pub degradation: BTreeMap<Dimension, f64>,
}

/// A row of `threat_vulnerability`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatVulnerability {
    /// The threat.
    pub threat: ThreatId,
    /// A vulnerability it exploits.
    pub vulnerability: VulnerabilityId,
}

/// A row of `threat_control`: E(c,t).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreatControl {
    /// The threat.
    pub threat: ThreatId,
    /// A control that mitigates it.
    pub control: ControlId,
    /// Effectiveness in 0..100 (default 100).
    #[serde(default = "hundred")]
    pub effect: f64,
}

/// A row of `procedure_artefact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcedureArtefact {
    /// The procedure.
    pub procedure: ProcedureId,
    /// An artefact it uses.
    pub artefact: ArtefactId,
}

/// A row of `regulation_artefact`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulationArtefact {
    /// The regulation.
    pub regulation: RegulationId,
    /// An artefact it refers to.
    pub artefact: ArtefactId,
}

/// A row of `regulation_control`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulationControl {
    /// The regulation.
    pub regulation: RegulationId,
    /// A control it implements.
    pub control: ControlId,
}

/// A row of `artefact_control`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtefactControl {
    /// The artefact.
    pub artefact: ArtefactId,
    /// A control it implements.
    pub control: ControlId,
}

/// A row of `role_regulation`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleRegulation {
    /// The role.
    pub role: RoleId,
    /// A regulation its holders must know.
    pub regulation: RegulationId,
}

/// A procedure of the artefact library (A1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Procedure {
    /// e.g. `incident-management`.
    pub id: ProcedureId,
    /// A name for people.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The controls it supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub controls: Vec<ControlId>,
    /// How often an execution is expected, for on-time/overdue figures: a
    /// [`Period`](crate::Period) such as `30d`, `2w`, `6mo` (months) or `1y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Its phases.
    pub phases: Vec<Phase>,
    /// The first phase.
    pub start: PhaseId,
    /// Deadlines an instance runs against (e.g. the 72 hours to notify a
    /// personal-data breach), shown while they are not met.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clocks: Vec<Clock>,
}

/// A deadline of a procedure's instance: when register field `when` holds
/// one of `values`, the instance has `hours` from its start until field
/// `until` is filled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clock {
    /// What is due, for people (e.g. "Notify the data protection authority (GDPR art. 33)").
    pub name: String,
    /// The register field that starts the clock.
    pub when: String,
    /// The values of that field that start it (`true` for a yes/no field).
    #[serde(rename = "in")]
    pub values: Vec<String>,
    /// Hours from the instance's start.
    pub hours: u32,
    /// The register field whose filling stops the clock.
    pub until: String,
}

/// A rule of a phase: when register field `when` holds one of `values`, more
/// fields must be filled and some phases must have been passed before an
/// instance may enter the phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseRule {
    /// The register field the rule looks at (e.g. `severity`).
    pub when: String,
    /// The values that make it apply (`true` for a yes/no field).
    #[serde(rename = "in")]
    pub values: Vec<String>,
    /// Fields that must then be filled.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Phases the instance must then have passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub passed: Vec<PhaseId>,
}

/// A phase of a procedure: roles, paths and objects (paper 3.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// The id, unique within the procedure.
    pub id: PhaseId,
    /// A name for people.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Who may move an instance into this phase.
    #[serde(default)]
    pub roles: Vec<RoleId>,
    /// The phases reachable from here (the paths); none for a final phase.
    #[serde(default)]
    pub next: Vec<PhaseId>,
    /// Templates, registers and instructions used in the phase.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ArtefactId>,
    /// A script or plugin run on entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Register fields that must be filled on entering the phase (issue 17.9).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// Rules that depend on what the registers hold.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PhaseRule>,
}

/// A regulation with its rules (A1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regulation {
    /// e.g. `passwords`.
    pub id: RegulationId,
    /// A name for people.
    pub name: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Fill-in fields its description and rules name (as an artefact's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// How often it is reviewed once approved, e.g. `1y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Period>,
}

/// A rule of a regulation: a norm of behaviour with a penalty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The id, unique within the regulation.
    pub id: String,
    /// The rule in plain words.
    pub text: String,
    /// What breaking it carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub penalty: Option<String>,
}

/// The kind of an artefact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArtefactKind {
    /// A document separating form from content.
    Template,
    /// A structured record with fields.
    Register,
    /// A technical support document.
    Instruction,
}

/// A template, register or technical instruction (A1.4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Artefact {
    /// The id.
    pub id: ArtefactId,
    /// Its kind.
    pub kind: ArtefactKind,
    /// A name for people.
    pub name: String,
    /// The fields of a register; of a template or instruction, the fill-in
    /// fields its body names (completed once per ISMS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// The text (markdown) of a template or instruction: a template whose
    /// `{{ ... }}` name automatic fields ([`AUTOMATIC_FIELDS`]) or its `fields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// How often the document is reviewed once approved, e.g. `1y`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<Period>,
}

/// What a document's template knows without anyone filling it in (issue
/// 14): `enterprise` (`name`, `sector`, `employees`), `officer` and
/// `speaker` (`name`, `email`), `departments` (names), `schema` (`name`,
/// `version`), `today`, and `document` (`title`, `version`, `owner`,
/// `approver`, `approved_on`, `next_review`).
pub const AUTOMATIC_FIELDS: [&str; 8] = [
    "enterprise",
    "officer",
    "speaker",
    "departments",
    "schema",
    "today",
    "document",
    "fields",
];

/// The period a document is reviewed in when its schema does not say.
pub const DEFAULT_REVIEW: &str = "1y";

/// The type of a register field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// Free text, one line.
    Text,
    /// Free text of several paragraphs (what happened, the root cause).
    Longtext,
    /// A number.
    Number,
    /// A date (YYYY-MM-DD).
    Date,
    /// Yes or no.
    Bool,
    /// One of `options`.
    Choice,
    /// A threat id of the schema.
    Threat,
    /// A list of asset ids of the enterprise.
    Assets,
    /// Damage per dimension: a map D/I/C/A/T -> 0..100.
    Damage,
    /// A user id of the enterprise.
    User,
    /// Attachments: names of the ISMS's evidence files.
    Evidence,
}

/// A field of a register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The key in the register's data.
    pub id: String,
    /// The label shown to people.
    pub label: String,
    /// The value's type.
    pub kind: FieldKind,
    /// Whether it must be filled.
    #[serde(default)]
    pub required: bool,
    /// The options of a `choice` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
}

/// Binds a metric script or plugin to subcontrols (DESIGN.md 6.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricDef {
    /// The id.
    pub id: MetricId,
    /// A name for people.
    pub name: String,
    /// The script or plugin id that collects it.
    pub source: String,
    /// The subcontrols whose value it measures.
    #[serde(default)]
    pub subcontrols: Vec<SubControlId>,
    /// How often it runs: a [`Period`](crate::Period) such as `1d`, `12h` or `15m` (minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The security-culture test (A3.1, DESIGN.md 6.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Culture {
    /// Share of right answers needed overall, in (0,1].
    #[serde(default = "default_pass_mark")]
    pub pass_mark: f64,
    /// Share of right answers needed per regulation, in (0,1].
    #[serde(default = "default_regulation_min")]
    pub regulation_min: f64,
    /// Days a certificate stays valid.
    #[serde(default = "default_valid_days")]
    pub valid_days: u32,
    /// Questions drawn per regulation.
    #[serde(default = "default_per_regulation")]
    pub per_regulation: u32,
    /// The question bank.
    #[serde(default)]
    pub questions: Vec<CultureQuestion>,
}

impl Default for Culture {
    fn default() -> Self {
        Culture {
            pass_mark: default_pass_mark(),
            regulation_min: default_regulation_min(),
            valid_days: default_valid_days(),
            per_regulation: default_per_regulation(),
            questions: Vec::new(),
        }
    }
}

fn default_pass_mark() -> f64 {
    0.7
}
fn default_regulation_min() -> f64 {
    0.5
}
fn default_valid_days() -> u32 {
    365
}
fn default_per_regulation() -> u32 {
    5
}

/// A multiple-choice question of the culture bank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CultureQuestion {
    /// The id.
    pub id: CultureQuestionId,
    /// The regulation it tests.
    pub regulation: RegulationId,
    /// The question.
    pub text: String,
    /// The options.
    pub options: Vec<String>,
    /// The index of the right option.
    pub answer: usize,
}

/// How two elements of different standards relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    /// Same meaning.
    Equal,
    /// `from` is part of `to`.
    Subset,
    /// `from` covers `to`.
    Superset,
    /// Related in part.
    Related,
}

/// A cross-standard mapping, e.g. `cobit2019:APO13.01` -> `iso27002:5.1`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// `framework:id`.
    pub from: String,
    /// `framework:id`.
    pub to: String,
    /// How they relate.
    pub relation: Relation,
}

impl Mapping {
    /// The other end of the mapping when one end names `control` of this schema:
    /// as itself (`5.1`), as ISO/IEC 27002 (`iso27002:5.1`), or as ISO/IEC
    /// 27001:2022, whose Annex A numbers the same controls (`iso27001-2022:a.5.1`)
    /// and whose clauses are the schema's `C` controls (`iso27001-2022:9.2` for
    /// `C9.2`), as CISO Assistant's mapping sets name them.
    pub fn other_end(&self, control: &ControlId) -> Option<&str> {
        if names_control(&self.from, control.as_str()) {
            Some(&self.to)
        } else if names_control(&self.to, control.as_str()) {
            Some(&self.from)
        } else {
            None
        }
    }
}

fn names_control(reference: &str, control: &str) -> bool {
    if reference == control {
        return true;
    }
    let Some((framework, node)) = reference.split_once(':') else {
        return false;
    };
    match framework {
        "iso27002" => node == control,
        "iso27001-2022" | "iso27001" => match control.strip_prefix('C') {
            Some(clause) => node == clause,
            None => node.strip_prefix("a.").or(node.strip_prefix("A.")) == Some(control),
        },
        _ => false,
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    fn mapping(from: &str, to: &str) -> Mapping {
        Mapping {
            from: from.into(),
            to: to.into(),
            relation: Relation::Related,
        }
    }

    #[test]
    fn a_mapping_names_a_control_as_27002_27001_annex_or_clause() {
        let annex = ControlId::new("5.1");
        let clause = ControlId::new("C9.2");
        let csf = mapping("nist-csf-2.0:gv.po-01", "iso27001-2022:a.5.1");
        assert_eq!(csf.other_end(&annex), Some("nist-csf-2.0:gv.po-01"));
        let cobit = mapping("cobit2019:APO13.01", "iso27002:5.1");
        assert_eq!(cobit.other_end(&annex), Some("cobit2019:APO13.01"));
        let audit = mapping("nist-csf-2.0:id.im-02", "iso27001-2022:9.2");
        assert_eq!(audit.other_end(&clause), Some("nist-csf-2.0:id.im-02"));
        assert_eq!(audit.other_end(&annex), None);
        // 5.10 is not 5.1, and a clause number is not an annex control.
        assert_eq!(
            mapping("x:1", "iso27001-2022:a.5.10").other_end(&annex),
            None
        );
        assert_eq!(mapping("x:1", "iso27001-2022:5.1").other_end(&annex), None);
    }
}
