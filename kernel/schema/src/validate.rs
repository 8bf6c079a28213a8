//! The rules every schema must meet (issue 2, DESIGN.md 3): unique ids per
//! kind, references that resolve, numbers in range, no asset-type cycles.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use mmsm_model::*;

use super::load::Provenance;
use super::problem::{Problem, Problems};

/// Checks every rule on a merged schema; `provenance` locates the elements in files.
pub fn validate(schema: &Schema, provenance: Option<&Provenance>) -> Problems {
    let mut check = Checker {
        provenance,
        problems: Vec::new(),
    };
    check.header(schema);
    check.master(schema);
    check.controls(schema);
    check.business(schema);
    check.risk(schema);
    check.matrices(schema);
    check.artefact_library(schema);
    check.metrics(schema);
    check.culture(schema);
    check.certification(schema);
    check.obligations(schema);
    check.documents(schema);
    Problems(check.problems)
}

struct Checker<'a> {
    provenance: Option<&'a Provenance>,
    problems: Vec<Problem>,
}

/// The ids of one kind, for reference checks with a "did you mean" hint.
struct IdSet<'s> {
    kind: &'static str,
    ids: HashSet<&'s str>,
}

impl<'s> IdSet<'s> {
    fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// "unknown threat `A.99`; expected a threat id of the schema (did you mean `A.9`?)".
    fn missing(&self, id: &str) -> String {
        let article = if self.kind.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let mut message = format!(
            "unknown {} `{id}`; expected {article} {} id of the schema",
            self.kind, self.kind
        );
        if let Some(near) = nearest_id(id, self.ids.iter().copied()) {
            message.push_str(&format!(" (did you mean `{near}`?)"));
        }
        message
    }
}

/// The longest id of a schema element.
pub const MAX_ID: usize = 64;

/// The grammar of every schema element's id (issue 18): ASCII letters, digits,
/// `.`, `-` and `_`, starting with a letter or digit, at most [`MAX_ID`]
/// characters; `/` only in role ids (`Cl/RS`), `*` only in threat ids
/// (Magerit's families of threats, `N.*`). Ids become keys, file names,
/// URL segments and CSV cells: an OSCAL import once made the domain
/// `../../etc` and the control `=1+1`.
pub fn check_id(kind: &str, id: &str) -> Result<(), String> {
    let slash = kind == "role";
    let star = kind == "threat";
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '.' | '-' | '_')
            || (slash && c == '/')
            || (star && c == '*')
    };
    let expected = if slash {
        "letters, digits, `.`, `-`, `_` and `/`"
    } else if star {
        "letters, digits, `.`, `-`, `_` and `*`"
    } else {
        "letters, digits, `.`, `-` and `_`"
    };
    if id.is_empty() {
        return Err(format!("the {kind} id is empty; expected {expected}"));
    }
    if id.chars().count() > MAX_ID {
        return Err(format!(
            "the {kind} id has {} characters; expected at most {MAX_ID}",
            id.chars().count()
        ));
    }
    if let Some(bad) = id.chars().find(|c| !allowed(*c)) {
        return Err(format!(
            "the {kind} id holds {bad:?}; expected {expected}, starting with a letter or digit"
        ));
    }
    if !id.starts_with(|c: char| c.is_ascii_alphanumeric()) || id.split('/').any(str::is_empty) {
        return Err(format!(
            "the {kind} id must start with a letter or digit (and `/` separate two names); expected {expected}"
        ));
    }
    Ok(())
}

/// The candidate closest to `id` by edit distance, when close enough to be a likely typo.
pub fn nearest_id<'s>(id: &str, candidates: impl Iterator<Item = &'s str>) -> Option<&'s str> {
    candidates
        .map(|c| (edit_distance(id, c), c))
        .filter(|(d, c)| *d <= 2.max(id.len() / 4) && *d < c.len().max(id.len()))
        .min()
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

impl<'a> Checker<'a> {
    fn file(&self, section: &str, index: usize) -> Option<PathBuf> {
        self.provenance.and_then(|p| p.file(section, index))
    }

    fn report(
        &mut self,
        section: &str,
        index: usize,
        kind: &str,
        id: impl Into<String>,
        message: impl Into<String>,
    ) {
        let file = self.file(section, index);
        self.problems
            .push(Problem::new(kind, id, message).in_file(file));
    }

    /// Collects the ids of a section, reporting duplicates.
    fn unique<'s, T>(
        &mut self,
        section: &str,
        kind: &'static str,
        items: &'s [T],
        id: impl Fn(&'s T) -> &'s str,
    ) -> IdSet<'s> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (index, item) in items.iter().enumerate() {
            let key = id(item);
            if let Err(why) = check_id(kind, key) {
                self.report(section, index, kind, key, why);
            }
            if let Some(first) = seen.get(key) {
                let first_file = self.file(section, *first);
                let place = match first_file {
                    Some(f) => format!(" (first defined in {})", f.display()),
                    None => String::new(),
                };
                self.report(
                    section,
                    index,
                    kind,
                    key,
                    format!("duplicate {kind} id{place}; expected ids unique per kind"),
                );
            } else {
                seen.insert(key, index);
            }
        }
        IdSet {
            kind,
            ids: seen.into_keys().collect(),
        }
    }

    fn percent(
        &mut self,
        section: &str,
        index: usize,
        kind: &str,
        id: &str,
        what: &str,
        value: f64,
    ) {
        if !(0.0..=100.0).contains(&value) || value.is_nan() {
            self.report(
                section,
                index,
                kind,
                id,
                format!("{what} {value} is out of range; expected 0..100"),
            );
        }
    }

    fn share(&mut self, section: &str, index: usize, kind: &str, id: &str, what: &str, value: f64) {
        if value.is_nan() || value <= 0.0 || value > 1.0 {
            self.report(
                section,
                index,
                kind,
                id,
                format!("{what} {value} is out of range; expected a value in (0,1]"),
            );
        }
    }

    fn header(&mut self, schema: &Schema) {
        let id = schema.schema.id.as_str();
        let valid = !id.is_empty()
            && id.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
            });
        if !valid {
            self.report(
                "schema",
                0,
                "schema",
                id,
                "invalid id; expected lowercase letters, digits, `.`, `_` or `-`",
            );
        }
        if schema.schema.version == 0 {
            self.report(
                "schema",
                0,
                "schema",
                id,
                "version 0; expected a version of 1 or more",
            );
        }
        if schema.schema.name.trim().is_empty() {
            self.report(
                "schema",
                0,
                "schema",
                id,
                "empty name; expected a name for people",
            );
        }
    }

    fn master(&mut self, schema: &Schema) {
        self.unique("roles", "role", &schema.roles, |r| r.id.as_str());
        let sectors = self.unique("sectors", "sector", &schema.sectors, |s| s.id.as_str());
        let sizes = self.unique("sizes", "size", &schema.sizes, |s| s.id.as_str());
        let header_id = schema.schema.id.to_string();
        for sector in &schema.schema.applies_to.sectors {
            if sector.as_str() != "*"
                && !schema.sectors.is_empty()
                && !sectors.contains(sector.as_str())
            {
                self.report(
                    "schema",
                    0,
                    "schema",
                    &header_id,
                    format!("applies_to: {}", sectors.missing(sector.as_str())),
                );
            }
        }
        for size in schema
            .schema
            .applies_to
            .sizes
            .iter()
            .chain(schema.schema.target_level.keys())
        {
            if !schema.sizes.is_empty() && !sizes.contains(size.as_str()) {
                self.report(
                    "schema",
                    0,
                    "schema",
                    &header_id,
                    sizes.missing(size.as_str()),
                );
            }
        }
        for (size, level) in &schema.schema.target_level {
            if !(1..=3).contains(level) {
                self.report(
                    "schema",
                    0,
                    "schema",
                    &header_id,
                    format!("target_level of {size} is {level}; expected 1, 2 or 3"),
                );
            }
        }
        let mut levels = HashSet::new();
        for (i, m) in schema.maturity_levels.iter().enumerate() {
            let id = m.level.to_string();
            if !(1..=3).contains(&m.level) {
                self.report(
                    "maturity_levels",
                    i,
                    "maturity level",
                    &id,
                    "level out of range; expected 1, 2 or 3",
                );
            }
            if !levels.insert(m.level) {
                self.report(
                    "maturity_levels",
                    i,
                    "maturity level",
                    &id,
                    "duplicate maturity level; expected each level once",
                );
            }
            if let Some(t) = m.threshold {
                self.share("maturity_levels", i, "maturity level", &id, "threshold", t);
            }
        }
        if let Some(b) = &schema.status_bands {
            for (what, v) in [("red", b.red), ("amber", b.amber)] {
                self.percent("status_bands", 0, "status_bands", "", what, v);
            }
            if b.red > b.amber {
                self.report(
                    "status_bands",
                    0,
                    "status_bands",
                    "",
                    format!(
                        "red {} is above amber {}; expected red <= amber",
                        b.red, b.amber
                    ),
                );
            }
        }
    }

    fn controls(&mut self, schema: &Schema) {
        let domains = self.unique("domains", "domain", &schema.domains, |d| d.id.as_str());
        let objectives = self.unique("objectives", "objective", &schema.objectives, |o| {
            o.id.as_str()
        });
        self.unique("controls", "control", &schema.controls, |c| c.id.as_str());
        let objective_domain: HashMap<&str, &str> = schema
            .objectives
            .iter()
            .map(|o| (o.id.as_str(), o.domain.as_str()))
            .collect();
        for (i, o) in schema.objectives.iter().enumerate() {
            if !domains.contains(o.domain.as_str()) {
                self.report(
                    "objectives",
                    i,
                    "objective",
                    o.id.as_str(),
                    format!("domain: {}", domains.missing(o.domain.as_str())),
                );
            }
        }
        let mut subcontrol_ids: HashMap<&str, &str> = HashMap::new();
        for (i, c) in schema.controls.iter().enumerate() {
            let id = c.id.as_str();
            if !domains.contains(c.domain.as_str()) {
                self.report(
                    "controls",
                    i,
                    "control",
                    id,
                    format!("domain: {}", domains.missing(c.domain.as_str())),
                );
            }
            if let Some(o) = &c.objective {
                if !objectives.contains(o.as_str()) {
                    self.report(
                        "controls",
                        i,
                        "control",
                        id,
                        format!("objective: {}", objectives.missing(o.as_str())),
                    );
                } else if objective_domain.get(o.as_str()) != Some(&c.domain.as_str()) {
                    self.report("controls", i, "control", id, format!("objective `{o}` belongs to another domain than `{}`; expected an objective of the control's domain", c.domain));
                }
            }
            if c.effort.is_nan() || c.effort <= 0.0 {
                self.report(
                    "controls",
                    i,
                    "control",
                    id,
                    format!("effort {} is out of range; expected a number > 0", c.effort),
                );
            }
            if c.subcontrols.is_empty() {
                self.report(
                    "controls",
                    i,
                    "control",
                    id,
                    "has no subcontrol; expected at least one question of the technical checklist",
                );
            }
            for s in &c.subcontrols {
                let sid = s.id.as_str();
                if let Err(why) = check_id("subcontrol", sid) {
                    self.report("controls", i, "subcontrol", sid, why);
                }
                if let Some(first) = subcontrol_ids.insert(sid, id) {
                    self.report("controls", i, "subcontrol", sid, format!("duplicate subcontrol id (also in control `{first}`); expected ids unique per kind"));
                }
                if !(1..=3).contains(&s.level) {
                    self.report(
                        "controls",
                        i,
                        "subcontrol",
                        sid,
                        format!("level {} is out of range; expected 1, 2 or 3", s.level),
                    );
                }
                if s.weight.is_nan() || s.weight <= 0.0 {
                    self.report(
                        "controls",
                        i,
                        "subcontrol",
                        sid,
                        format!("weight {} is out of range; expected a number > 0", s.weight),
                    );
                }
            }
        }
    }

    fn business(&mut self, schema: &Schema) {
        self.unique(
            "business_checklist",
            "business question",
            &schema.business_checklist,
            |q| q.id.as_str(),
        );
        let controls = Ids::of(schema).controls;
        for (i, q) in schema.business_checklist.iter().enumerate() {
            let id = q.id.as_str();
            for rule in &q.not_applicable {
                for c in &rule.controls {
                    if !controls.contains(c.as_str()) {
                        self.report(
                            "business_checklist",
                            i,
                            "business question",
                            id,
                            format!("not_applicable: controls: {}", controls.missing(c.as_str())),
                        );
                    } else if schema
                        .controls
                        .iter()
                        .any(|x| &x.id == c && schema.is_requirement(x))
                    {
                        self.report(
                            "business_checklist",
                            i,
                            "business question",
                            id,
                            format!("not_applicable: {c} is a requirement of the management system (its domain has `in_soa: false`); it cannot be made not applicable"),
                        );
                    }
                }
                if rule.justification.trim().is_empty() {
                    self.report(
                        "business_checklist",
                        i,
                        "business question",
                        id,
                        "not_applicable: a rule without a justification; expected the reason the SoA gives",
                    );
                }
            }
            if let Some(field) = &q.maps_to {
                if !matches!(field.as_str(), "employees" | "turnover" | "sector") {
                    self.report(
                        "business_checklist",
                        i,
                        "business question",
                        id,
                        format!(
                            "maps_to `{field}` is unknown; expected employees, turnover or sector"
                        ),
                    );
                }
            }
            if q.kind == QuestionKind::Choice && q.options.is_empty() {
                self.report(
                    "business_checklist",
                    i,
                    "business question",
                    id,
                    "a choice with no options; expected `options: [...]`",
                );
            }
            for rule in &q.target_rules {
                if !(1..=3).contains(&rule.level) {
                    self.report(
                        "business_checklist",
                        i,
                        "business question",
                        id,
                        format!(
                            "target rule level {} is out of range; expected 1, 2 or 3",
                            rule.level
                        ),
                    );
                }
                if rule.equals.is_none() && rule.at_least.is_none() {
                    self.report(
                        "business_checklist",
                        i,
                        "business question",
                        id,
                        "target rule matches nothing; expected `equals` or `at_least`",
                    );
                }
            }
        }
    }

    /// The legal catalogue (issue 16): sources and obligations with unique ids, each
    /// obligation's source, controls and conditions known, each condition's value one
    /// its question can take.
    fn obligations(&mut self, schema: &Schema) {
        let sources = self.unique(
            "obligation_sources",
            "obligation source",
            &schema.obligation_sources,
            |s| s.id.as_str(),
        );
        self.unique("obligations", "obligation", &schema.obligations, |o| {
            o.id.as_str()
        });
        let controls = Ids::of(schema).controls;
        let questions = IdSet {
            kind: "business question",
            ids: schema
                .business_checklist
                .iter()
                .map(|q| q.id.as_str())
                .collect(),
        };
        for (i, o) in schema.obligations.iter().enumerate() {
            let id = o.id.as_str();
            let mut problems = Vec::new();
            if !sources.contains(o.source.as_str()) {
                problems.push(format!("source: {}", sources.missing(o.source.as_str())));
            }
            if o.reference.trim().is_empty() || o.title.trim().is_empty() {
                problems.push(
                    "an empty reference or title; expected the article or measure as its source numbers it and a short title"
                        .to_owned(),
                );
            }
            for c in &o.controls {
                if !controls.contains(c.as_str()) {
                    problems.push(format!("controls: {}", controls.missing(c.as_str())));
                }
            }
            for condition in &o.applies_when {
                let Some(question) = schema
                    .business_checklist
                    .iter()
                    .find(|q| q.id == condition.question)
                else {
                    problems.push(format!(
                        "applies_when: {}",
                        questions.missing(condition.question.as_str())
                    ));
                    continue;
                };
                problems.extend(condition_problems(condition, question));
            }
            for message in problems {
                self.report("obligations", i, "obligation", id, message);
            }
        }
    }

    fn risk(&mut self, schema: &Schema) {
        let types = self.unique("asset_types", "asset type", &schema.asset_types, |t| {
            t.id.as_str()
        });
        self.unique("threats", "threat", &schema.threats, |t| t.id.as_str());
        self.unique(
            "vulnerabilities",
            "vulnerability",
            &schema.vulnerabilities,
            |v| v.id.as_str(),
        );
        let parents: HashMap<&str, &str> = schema
            .asset_types
            .iter()
            .filter_map(|t| t.parent.as_ref().map(|p| (t.id.as_str(), p.as_str())))
            .collect();
        for (i, t) in schema.asset_types.iter().enumerate() {
            let id = t.id.as_str();
            if let Some(parent) = &t.parent {
                if !types.contains(parent.as_str()) {
                    self.report(
                        "asset_types",
                        i,
                        "asset type",
                        id,
                        format!("parent: {}", types.missing(parent.as_str())),
                    );
                    continue;
                }
            }
            // Walk up: a cycle comes back to `id` within as many steps as there are types.
            let mut current = id;
            for _ in 0..=parents.len() {
                match parents.get(current) {
                    Some(p) if *p == id => {
                        self.report(
                            "asset_types",
                            i,
                            "asset type",
                            id,
                            "its parents form a cycle; expected a tree",
                        );
                        break;
                    }
                    Some(p) => current = p,
                    None => break,
                }
            }
        }
        let mut kinds = HashSet::new();
        for (i, c) in schema.risk_criteria.iter().enumerate() {
            let id = format!("{:?}", c.id).to_lowercase();
            if !kinds.insert(c.id) {
                self.report(
                    "risk_criteria",
                    i,
                    "risk criterion",
                    &id,
                    "duplicate risk criterion; expected each scale once",
                );
            }
            if c.bands.is_empty() {
                self.report(
                    "risk_criteria",
                    i,
                    "risk criterion",
                    &id,
                    "no bands; expected at least one { from, to, label }",
                );
            }
            for (b, band) in c.bands.iter().enumerate() {
                if band.from.is_nan() || band.to.is_nan() || band.from >= band.to {
                    self.report(
                        "risk_criteria",
                        i,
                        "risk criterion",
                        &id,
                        format!(
                            "band `{}` goes from {} to {}; expected from < to",
                            band.label, band.from, band.to
                        ),
                    );
                }
                if b > 0 && (c.bands[b - 1].to - band.from).abs() > 1e-9 {
                    self.report("risk_criteria", i, "risk criterion", &id, format!("band `{}` starts at {} but the band before ends at {}; expected contiguous bands", band.label, band.from, c.bands[b - 1].to));
                }
            }
        }
    }

    fn matrices(&mut self, schema: &Schema) {
        let ids = Ids::of(schema);
        let m = &schema.matrices;
        let check =
            |this: &mut Self, section: &str, i: usize, row: String, refs: &[(&IdSet, &str)]| {
                for (set, id) in refs {
                    if !set.contains(id) {
                        let message = set.missing(id);
                        this.report(
                            section,
                            i,
                            section.trim_start_matches("matrices."),
                            row.clone(),
                            message,
                        );
                    }
                }
            };
        for (i, r) in m.asset_type_vulnerability.iter().enumerate() {
            check(
                self,
                "matrices.asset_type_vulnerability",
                i,
                format!("{}/{}", r.asset_type, r.vulnerability),
                &[
                    (&ids.asset_types, r.asset_type.as_str()),
                    (&ids.vulnerabilities, r.vulnerability.as_str()),
                ],
            );
        }
        let mut tad = HashSet::new();
        for (i, r) in m.asset_type_threat.iter().enumerate() {
            let row = format!("{}/{}", r.asset_type, r.threat);
            check(
                self,
                "matrices.asset_type_threat",
                i,
                row.clone(),
                &[
                    (&ids.asset_types, r.asset_type.as_str()),
                    (&ids.threats, r.threat.as_str()),
                ],
            );
            if !tad.insert((r.asset_type.as_str(), r.threat.as_str())) {
                self.report(
                    "matrices.asset_type_threat",
                    i,
                    "asset_type_threat",
                    &row,
                    "duplicate row; expected one row per asset type and threat",
                );
            }
            self.percent(
                "matrices.asset_type_threat",
                i,
                "asset_type_threat",
                &row,
                "probability",
                r.probability,
            );
            if r.degradation.is_empty() {
                self.report(
                    "matrices.asset_type_threat",
                    i,
                    "asset_type_threat",
                    &row,
                    "no degradation; expected at least one dimension, e.g. { D: 50 }",
                );
            }
            for (d, v) in &r.degradation {
                self.percent(
                    "matrices.asset_type_threat",
                    i,
                    "asset_type_threat",
                    &row,
                    &format!("degradation of {}", d.letter()),
                    *v,
                );
            }
        }
        for (i, r) in m.threat_vulnerability.iter().enumerate() {
            check(
                self,
                "matrices.threat_vulnerability",
                i,
                format!("{}/{}", r.threat, r.vulnerability),
                &[
                    (&ids.threats, r.threat.as_str()),
                    (&ids.vulnerabilities, r.vulnerability.as_str()),
                ],
            );
        }
        let mut links = HashSet::new();
        for (i, r) in m.threat_control.iter().enumerate() {
            let row = format!("{}/{}", r.threat, r.control);
            check(
                self,
                "matrices.threat_control",
                i,
                row.clone(),
                &[
                    (&ids.threats, r.threat.as_str()),
                    (&ids.controls, r.control.as_str()),
                ],
            );
            if !links.insert((r.threat.as_str(), r.control.as_str())) {
                self.report(
                    "matrices.threat_control",
                    i,
                    "threat_control",
                    &row,
                    "duplicate row; expected one row per threat and control",
                );
            }
            self.percent(
                "matrices.threat_control",
                i,
                "threat_control",
                &row,
                "effect",
                r.effect,
            );
        }
        for (i, r) in m.procedure_artefact.iter().enumerate() {
            check(
                self,
                "matrices.procedure_artefact",
                i,
                format!("{}/{}", r.procedure, r.artefact),
                &[
                    (&ids.procedures, r.procedure.as_str()),
                    (&ids.artefacts, r.artefact.as_str()),
                ],
            );
        }
        for (i, r) in m.regulation_artefact.iter().enumerate() {
            check(
                self,
                "matrices.regulation_artefact",
                i,
                format!("{}/{}", r.regulation, r.artefact),
                &[
                    (&ids.regulations, r.regulation.as_str()),
                    (&ids.artefacts, r.artefact.as_str()),
                ],
            );
        }
        for (i, r) in m.regulation_control.iter().enumerate() {
            check(
                self,
                "matrices.regulation_control",
                i,
                format!("{}/{}", r.regulation, r.control),
                &[
                    (&ids.regulations, r.regulation.as_str()),
                    (&ids.controls, r.control.as_str()),
                ],
            );
        }
        for (i, r) in m.artefact_control.iter().enumerate() {
            check(
                self,
                "matrices.artefact_control",
                i,
                format!("{}/{}", r.artefact, r.control),
                &[
                    (&ids.artefacts, r.artefact.as_str()),
                    (&ids.controls, r.control.as_str()),
                ],
            );
        }
        for (i, r) in m.role_regulation.iter().enumerate() {
            check(
                self,
                "matrices.role_regulation",
                i,
                format!("{}/{}", r.role, r.regulation),
                &[
                    (&ids.roles, r.role.as_str()),
                    (&ids.regulations, r.regulation.as_str()),
                ],
            );
        }
    }

    fn artefact_library(&mut self, schema: &Schema) {
        let ids = Ids::of(schema);
        self.unique("procedures", "procedure", &schema.procedures, |p| {
            p.id.as_str()
        });
        self.unique("regulations", "regulation", &schema.regulations, |r| {
            r.id.as_str()
        });
        self.unique("artefacts", "artefact", &schema.artefacts, |a| {
            a.id.as_str()
        });
        for (i, p) in schema.procedures.iter().enumerate() {
            let pid = p.id.as_str();
            let phases = self.unique("procedures", "phase", &p.phases, |ph| ph.id.as_str());
            if !phases.contains(p.start.as_str()) {
                self.report(
                    "procedures",
                    i,
                    "procedure",
                    pid,
                    format!("start: {}", phases.missing(p.start.as_str())),
                );
            }
            for c in &p.controls {
                if !ids.controls.contains(c.as_str()) {
                    self.report(
                        "procedures",
                        i,
                        "procedure",
                        pid,
                        format!("controls: {}", ids.controls.missing(c.as_str())),
                    );
                }
            }
            if let Some(schedule) = &p.schedule {
                if let Err(error) = schedule.parse::<Period>() {
                    self.report(
                        "procedures",
                        i,
                        "procedure",
                        pid,
                        format!("schedule: {error}"),
                    );
                }
            }
            for ph in &p.phases {
                let phid = format!("{pid}/{}", ph.id);
                for r in &ph.roles {
                    if !ids.roles.contains(r.as_str()) {
                        self.report(
                            "procedures",
                            i,
                            "phase",
                            &phid,
                            format!("roles: {}", ids.roles.missing(r.as_str())),
                        );
                    }
                }
                for n in &ph.next {
                    if !phases.contains(n.as_str()) {
                        self.report(
                            "procedures",
                            i,
                            "phase",
                            &phid,
                            format!("next: {}", phases.missing(n.as_str())),
                        );
                    }
                }
                for o in &ph.objects {
                    if !ids.artefacts.contains(o.as_str()) {
                        self.report(
                            "procedures",
                            i,
                            "phase",
                            &phid,
                            format!("objects: {}", ids.artefacts.missing(o.as_str())),
                        );
                    }
                }
                // The fields a phase's requirements and rules name are
                // fields of the registers it uses.
                let fields = register_fields(schema, ph.objects.iter().map(|o| o.as_str()));
                let mut named: Vec<(&str, &str)> = ph
                    .requires
                    .iter()
                    .map(|f| ("requires", f.as_str()))
                    .collect();
                for rule in &ph.rules {
                    named.push(("rules.when", rule.when.as_str()));
                    named.extend(rule.requires.iter().map(|f| ("rules.requires", f.as_str())));
                    for passed in &rule.passed {
                        if !phases.contains(passed.as_str()) {
                            self.report(
                                "procedures",
                                i,
                                "phase",
                                &phid,
                                format!("rules.passed: {}", phases.missing(passed.as_str())),
                            );
                        }
                    }
                }
                for (key, field) in named {
                    if !fields.contains(&field) {
                        self.report(
                            "procedures",
                            i,
                            "phase",
                            &phid,
                            format!(
                                "{key}: `{field}` is not a field of the phase's registers; expected one of {}",
                                if fields.is_empty() { "none (the phase uses no register)".to_owned() } else { fields.join(", ") }
                            ),
                        );
                    }
                }
            }
            let fields = register_fields(
                schema,
                p.phases
                    .iter()
                    .flat_map(|ph| ph.objects.iter().map(|o| o.as_str())),
            );
            for clock in &p.clocks {
                for (key, field) in [("when", &clock.when), ("until", &clock.until)] {
                    if !fields.contains(&field.as_str()) {
                        self.report(
                            "procedures",
                            i,
                            "procedure",
                            pid,
                            format!(
                                "clocks `{}`: {key} `{field}` is not a field of the procedure's registers; expected one of {}",
                                clock.name,
                                fields.join(", ")
                            ),
                        );
                    }
                }
                if clock.hours == 0 {
                    self.report(
                        "procedures",
                        i,
                        "procedure",
                        pid,
                        format!(
                            "clocks `{}`: hours is 0; expected the hours allowed, e.g. 72",
                            clock.name
                        ),
                    );
                }
            }
        }
        for (i, r) in schema.regulations.iter().enumerate() {
            self.unique("regulations", "rule", &r.rules, |rule| rule.id.as_str());
            let _ = i;
        }
        for (i, a) in schema.artefacts.iter().enumerate() {
            let aid = a.id.as_str();
            self.unique("artefacts", "field", &a.fields, |f| f.id.as_str());
            for f in &a.fields {
                if f.kind == FieldKind::Choice && f.options.is_empty() {
                    self.report(
                        "artefacts",
                        i,
                        "artefact",
                        aid,
                        format!(
                            "field `{}` is a choice with no options; expected `options: [...]`",
                            f.id
                        ),
                    );
                }
            }
        }
    }

    fn metrics(&mut self, schema: &Schema) {
        let ids = Ids::of(schema);
        self.unique("metrics", "metric", &schema.metrics, |m| m.id.as_str());
        for (i, m) in schema.metrics.iter().enumerate() {
            for s in &m.subcontrols {
                if !ids.subcontrols.contains(s.as_str()) {
                    self.report(
                        "metrics",
                        i,
                        "metric",
                        m.id.as_str(),
                        format!("subcontrols: {}", ids.subcontrols.missing(s.as_str())),
                    );
                }
            }
            if let Some(schedule) = &m.schedule {
                if let Err(error) = schedule.parse::<Period>() {
                    self.report(
                        "metrics",
                        i,
                        "metric",
                        m.id.as_str(),
                        format!("schedule: {error}"),
                    );
                }
            }
        }
    }

    /// Document templates (issue 14): every body, regulation description and
    /// rule parses, and names only automatic fields or its own fill-in fields.
    fn documents(&mut self, schema: &Schema) {
        for (i, a) in schema.artefacts.iter().enumerate() {
            if a.kind == ArtefactKind::Register {
                continue;
            }
            let texts: Vec<(&str, &str)> = a.body.iter().map(|b| ("body", b.as_str())).collect();
            for problem in super::templates::check(&texts, &a.fields) {
                self.report("artefacts", i, "artefact", a.id.as_str(), problem);
            }
        }
        for (i, r) in schema.regulations.iter().enumerate() {
            let mut texts: Vec<(String, &str)> = Vec::new();
            if let Some(d) = &r.description {
                texts.push(("description".into(), d));
            }
            for rule in &r.rules {
                texts.push((format!("rule {}", rule.id), &rule.text));
                if let Some(p) = &rule.penalty {
                    texts.push((format!("the penalty of rule {}", rule.id), p));
                }
            }
            let texts: Vec<(&str, &str)> = texts.iter().map(|(w, t)| (w.as_str(), *t)).collect();
            for problem in super::templates::check(&texts, &r.fields) {
                self.report("regulations", i, "regulation", r.id.as_str(), problem);
            }
        }
    }

    fn certification(&mut self, schema: &Schema) {
        let Some(certification) = &schema.certification else {
            return;
        };
        if certification.certificate_days == 0 {
            self.report(
                "certification",
                0,
                "certification",
                "",
                "certificate_days is 0; expected a number of days > 0",
            );
        }
        let cap = certification.major_finding_cap;
        if !(0.0..1.0).contains(&cap) {
            self.report(
                "certification",
                0,
                "certification",
                "",
                format!("major_finding_cap {cap} is out of range; expected a value in [0,1)"),
            );
        }
        self.unique(
            "certification.audits",
            "audit",
            &certification.audits,
            |a| a.id.as_str(),
        );
    }

    fn culture(&mut self, schema: &Schema) {
        let Some(culture) = &schema.culture else {
            return;
        };
        let ids = Ids::of(schema);
        self.share("culture", 0, "culture", "", "pass_mark", culture.pass_mark);
        self.share(
            "culture",
            0,
            "culture",
            "",
            "regulation_min",
            culture.regulation_min,
        );
        if culture.valid_days == 0 {
            self.report(
                "culture",
                0,
                "culture",
                "",
                "valid_days is 0; expected a number of days > 0",
            );
        }
        self.unique(
            "culture.questions",
            "culture question",
            &culture.questions,
            |q| q.id.as_str(),
        );
        for (i, q) in culture.questions.iter().enumerate() {
            let qid = q.id.as_str();
            if !ids.regulations.contains(q.regulation.as_str()) {
                self.report(
                    "culture.questions",
                    i,
                    "culture question",
                    qid,
                    format!(
                        "regulation: {}",
                        ids.regulations.missing(q.regulation.as_str())
                    ),
                );
            }
            if q.options.len() < 2 {
                self.report(
                    "culture.questions",
                    i,
                    "culture question",
                    qid,
                    format!("{} option(s); expected at least 2", q.options.len()),
                );
            }
            if q.answer >= q.options.len() {
                self.report(
                    "culture.questions",
                    i,
                    "culture question",
                    qid,
                    format!(
                        "answer index {} is outside its {} options; expected 0..{}",
                        q.answer,
                        q.options.len(),
                        q.options.len().saturating_sub(1)
                    ),
                );
            }
        }
    }
}

/// The id sets that references point into (duplicates are reported elsewhere).
/// What is wrong with a condition on `question`: it tests nothing, compares a number
/// with something else, or names a value the question cannot take.
fn condition_problems(condition: &Condition, question: &BusinessQuestion) -> Vec<String> {
    let q = &question.id;
    let mut problems = Vec::new();
    if condition.equals.is_none() && condition.at_least.is_none() && condition.one_of.is_empty() {
        problems.push(format!(
            "applies_when: the condition on {q} tests nothing; expected `equals`, `at_least` or `one_of`"
        ));
    }
    if condition.at_least.is_some() && question.kind != QuestionKind::Number {
        problems.push(format!(
            "applies_when: `at_least` on {q}, which is not answered with a number"
        ));
    }
    for value in condition.equals.iter().chain(&condition.one_of) {
        let fits = match question.kind {
            QuestionKind::Number => matches!(value, Scalar::Number(_)),
            QuestionKind::Bool => {
                value.matches(&Scalar::Bool(true)) || value.matches(&Scalar::Bool(false))
            }
            QuestionKind::Choice => question
                .options
                .iter()
                .any(|o| value.matches(&Scalar::Text(o.clone()))),
        };
        if !fits {
            let expected = match question.kind {
                QuestionKind::Number => "a number".to_owned(),
                QuestionKind::Bool => "true or false".to_owned(),
                QuestionKind::Choice => format!("one of {}", question.options.join(", ")),
            };
            problems.push(format!(
                "applies_when: {q} cannot be `{}`; expected {expected}",
                value.words()
            ));
        }
    }
    problems
}

struct Ids<'s> {
    roles: IdSet<'s>,
    controls: IdSet<'s>,
    subcontrols: IdSet<'s>,
    asset_types: IdSet<'s>,
    threats: IdSet<'s>,
    vulnerabilities: IdSet<'s>,
    procedures: IdSet<'s>,
    regulations: IdSet<'s>,
    artefacts: IdSet<'s>,
}

impl<'s> Ids<'s> {
    fn of(schema: &'s Schema) -> Self {
        fn set<'s>(kind: &'static str, ids: impl Iterator<Item = &'s str>) -> IdSet<'s> {
            IdSet {
                kind,
                ids: ids.collect(),
            }
        }
        Ids {
            roles: set("role", schema.roles.iter().map(|r| r.id.as_str())),
            controls: set("control", schema.controls.iter().map(|c| c.id.as_str())),
            subcontrols: set(
                "subcontrol",
                schema.subcontrols().map(|(_, s)| s.id.as_str()),
            ),
            asset_types: set(
                "asset type",
                schema.asset_types.iter().map(|t| t.id.as_str()),
            ),
            threats: set("threat", schema.threats.iter().map(|t| t.id.as_str())),
            vulnerabilities: set(
                "vulnerability",
                schema.vulnerabilities.iter().map(|v| v.id.as_str()),
            ),
            procedures: set("procedure", schema.procedures.iter().map(|p| p.id.as_str())),
            regulations: set(
                "regulation",
                schema.regulations.iter().map(|r| r.id.as_str()),
            ),
            artefacts: set("artefact", schema.artefacts.iter().map(|a| a.id.as_str())),
        }
    }
}

/// Parses a [`Period`] such as `30s`, `15m` (minutes), `12h`, `30d`, `2w`,
/// `6mo` (months of 30 days) or `1y` into seconds; `None` when it is not one.
pub fn parse_period(text: &str) -> Option<u64> {
    text.parse::<Period>().ok().map(Period::seconds)
}

/// Schedules shorter than this are probably a slip (`6m` written for `6mo`).
const SHORT_SCHEDULE: u64 = 3_600;

/// The warnings of a schema: what is valid but probably not meant. Unlike the
/// [`validate`] problems they never make a load or an import fail; today they
/// are the procedure and metric schedules shorter than an hour ("`6m` is six
/// minutes; for six months write `6mo`"). `provenance` locates them in files.
pub fn warnings(schema: &Schema, provenance: Option<&Provenance>) -> Vec<Problem> {
    let mut check = Checker {
        provenance,
        problems: Vec::new(),
    };
    for (i, p) in schema.procedures.iter().enumerate() {
        if let Some(message) = p.schedule.as_deref().and_then(short_schedule) {
            check.report("procedures", i, "procedure", p.id.as_str(), message);
        }
    }
    for (i, m) in schema.metrics.iter().enumerate() {
        if let Some(message) = m.schedule.as_deref().and_then(short_schedule) {
            check.report("metrics", i, "metric", m.id.as_str(), message);
        }
    }
    check.problems
}

/// The warning of a valid schedule under an hour; `None` for others.
fn short_schedule(schedule: &str) -> Option<String> {
    let period: Period = schedule.parse().ok()?;
    if period.seconds() >= SHORT_SCHEDULE {
        return None;
    }
    let hint = match period.unit() {
        PeriodUnit::Minutes => {
            let months = Period::new(period.count(), PeriodUnit::Months)?;
            format!("for {} write `{months}`", months.words())
        }
        _ => "write a longer period unless so short a one is meant".to_owned(),
    };
    Some(format!(
        "schedule: `{period}` is {}, under an hour; {hint}",
        period.words()
    ))
}

/// The field ids of the registers among `artefacts`, sorted.
fn register_fields<'a>(
    schema: &'a Schema,
    artefacts: impl Iterator<Item = &'a str>,
) -> Vec<&'a str> {
    let wanted: Vec<&str> = artefacts.collect();
    let mut fields: Vec<&str> = schema
        .artefacts
        .iter()
        .filter(|a| wanted.contains(&a.id.as_str()))
        .flat_map(|a| a.fields.iter().map(|f| f.id.as_str()))
        .collect();
    fields.sort_unstable();
    fields.dedup();
    fields
}
