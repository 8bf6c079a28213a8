//! Enterprise profiles: parsing (YAML or JSON) with located errors,
//! validation against a schema, and the ready-to-fill template.
//!
//! Like `schema_docs`, it reports every problem at once and knows nothing
//! about the store.

use std::collections::HashSet;
use std::fmt::Write;
use std::path::Path;

use crate::{Problem, Problems};
use mmsm_model::{Answer, Dimension, Profile, QuestionKind, Scalar, Schema};

/// Parses a profile document; `.json` files as JSON, anything else as YAML.
pub fn parse_profile(path: &Path, text: &str) -> Result<Profile, Problems> {
    let located = |line: Option<u64>, column: Option<u64>, message: String| {
        Problems(vec![Problem {
            file: Some(path.to_path_buf()),
            line,
            column,
            kind: "profile".into(),
            id: String::new(),
            message,
        }])
    };
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.clone(), |(m, _)| m.to_owned());
            located(Some(e.line() as u64), Some(e.column() as u64), message)
        })
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let location = e.location();
            let first = e.without_snippet().to_string();
            let first = first.lines().next().unwrap_or_default();
            let message = first
                .rsplit_once(" at line ")
                .map_or(first, |(m, _)| m)
                .to_owned();
            located(
                location.map(|l| l.line()),
                location.map(|l| l.column()),
                message,
            )
        })
    }
}

/// Reads and parses a profile file.
pub fn read_profile(path: &Path) -> Result<Profile, Problems> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problems(vec![Problem::new(
            "profile",
            "",
            format!("cannot be read: {e}"),
        )
        .in_file(Some(path.to_path_buf()))])
    })?;
    parse_profile(path, &text)
}

/// Checks a profile against the schema it will be generated from: every id
/// must exist in the schema (subcontrols, asset types, roles, business
/// questions) or the profile (departments, group members), values must be in
/// range, and ids unique.
pub fn validate_profile(profile: &Profile, schema: &Schema, file: Option<&Path>) -> Problems {
    let mut problems = Vec::new();
    let mut report = |kind: &str, id: &str, message: String| {
        problems.push(Problem::new(kind, id, message).in_file(file.map(Path::to_path_buf)));
    };
    let hint = |id: &str, known: &mut dyn Iterator<Item = &str>| -> String {
        let candidates: Vec<&str> = known.collect();
        match crate::nearest_id(id, candidates.iter().copied()) {
            Some(near) => format!(" (did you mean `{near}`?)"),
            None => String::new(),
        }
    };

    let e = &profile.enterprise;
    if e.name.trim().is_empty() {
        report(
            "enterprise",
            "",
            "empty name; expected the enterprise's name".into(),
        );
    }
    if !schema.sectors.is_empty() && !schema.sectors.iter().any(|s| s.id == e.sector) {
        let h = hint(
            e.sector.as_str(),
            &mut schema.sectors.iter().map(|s| s.id.as_str()),
        );
        report(
            "enterprise",
            &short(&e.name),
            format!(
                "unknown sector `{}`; expected a sector of schema `{}`{h}",
                e.sector, schema.schema.id
            ),
        );
    }
    // Every name people type has the same bound (issue 17).
    let mut names: Vec<(&str, &str, &str)> = vec![("enterprise", e.name.as_str(), e.name.as_str())];
    names.extend(
        profile
            .departments
            .iter()
            .map(|d| ("department", d.id.as_str(), d.name.as_str())),
    );
    names.extend(
        profile
            .users
            .iter()
            .map(|u| ("user", u.id.as_str(), u.name.as_str())),
    );
    names.extend(
        profile
            .assets
            .iter()
            .map(|a| ("asset", a.id.as_str(), a.name.as_str())),
    );
    for (kind, id, name) in names {
        if let Err(why) = mmsm_model::check_length("the name", name, mmsm_model::MAX_NAME) {
            report(kind, &short(id), why);
        }
    }
    if e.employees == 0 {
        report(
            "enterprise",
            &short(&e.name),
            "employees is 0; expected the head count (1 or more)".into(),
        );
    }
    if let Some(t) = e.turnover_eur {
        if t.is_nan() || t < 0.0 {
            report(
                "enterprise",
                &short(&e.name),
                format!("turnover_eur {t} is out of range; expected 0 or more"),
            );
        }
    }
    if let Some(level) = profile.target_level {
        if !(1..=3).contains(&level) {
            report(
                "profile",
                "target_level",
                format!("{level} is out of range; expected 1, 2 or 3"),
            );
        }
    }
    if let Some(id) = &profile.schema {
        if *id != schema.schema.id {
            report(
                "profile",
                "schema",
                format!(
                    "names schema `{id}` but is checked against `{}`",
                    schema.schema.id
                ),
            );
        }
    }

    let mut departments = HashSet::new();
    for d in &profile.departments {
        if !departments.insert(d.id.as_str()) {
            report(
                "department",
                d.id.as_str(),
                "duplicate department id; expected ids unique".into(),
            );
        }
    }
    let mut users = HashSet::new();
    for u in &profile.users {
        let uid = u.id.as_str();
        if let Err(why) = crate::check_id("user", uid) {
            report("user", uid, why);
        }
        if !users.insert(uid) {
            report("user", uid, "duplicate user id; expected ids unique".into());
        }
        for role in &u.roles {
            if !schema.roles.iter().any(|r| r.id == *role) {
                let h = hint(
                    role.as_str(),
                    &mut schema.roles.iter().map(|r| r.id.as_str()),
                );
                report(
                    "user",
                    uid,
                    format!(
                        "unknown role `{role}`; expected a role of schema `{}`{h}",
                        schema.schema.id
                    ),
                );
            }
        }
        if let Some(d) = &u.department {
            if !departments.contains(d.as_str()) {
                let h = hint(
                    d.as_str(),
                    &mut profile.departments.iter().map(|d| d.id.as_str()),
                );
                report(
                    "user",
                    uid,
                    format!("unknown department `{d}`; expected a department of the profile{h}"),
                );
            }
        }
    }

    for (question, value) in &profile.business_checklist {
        match schema.business_checklist.iter().find(|q| q.id == *question) {
            None => {
                let h = hint(
                    question.as_str(),
                    &mut schema.business_checklist.iter().map(|q| q.id.as_str()),
                );
                report(
                    "business_checklist",
                    question.as_str(),
                    format!(
                        "unknown question; expected a business question of schema `{}`{h}",
                        schema.schema.id
                    ),
                );
            }
            Some(q) => {
                let fits = match (q.kind, value) {
                    (QuestionKind::Bool, Scalar::Bool(_))
                    | (QuestionKind::Number, Scalar::Number(_)) => true,
                    (QuestionKind::Choice, Scalar::Text(t)) => q.options.iter().any(|o| o == t),
                    _ => false,
                };
                if !fits {
                    let expected = match q.kind {
                        QuestionKind::Bool => "true or false".to_owned(),
                        QuestionKind::Number => "a number".to_owned(),
                        QuestionKind::Choice => format!("one of {}", q.options.join(", ")),
                    };
                    report(
                        "business_checklist",
                        question.as_str(),
                        format!(
                            "answer {} does not fit; expected {expected}",
                            scalar_text(value)
                        ),
                    );
                }
            }
        }
    }

    let subcontrols: HashSet<&str> = schema.subcontrols().map(|(_, s)| s.id.as_str()).collect();
    for (c, sub) in schema.subcontrols() {
        if profile.answers.get(&sub.id) == Some(&Answer::Na) && schema.is_requirement(c) {
            report(
                "answer",
                sub.id.as_str(),
                format!(
                    "na: {} {} is a requirement of the management system, which every certified enterprise meets; expected yes, partial, no or unknown",
                    c.id, c.title
                ),
            );
        }
    }
    for id in profile.answers.keys() {
        if !subcontrols.contains(id.as_str()) {
            let h = hint(id.as_str(), &mut subcontrols.iter().copied());
            report(
                "answer",
                id.as_str(),
                format!(
                    "unknown subcontrol; expected a subcontrol of schema `{}`{h}",
                    schema.schema.id
                ),
            );
        }
    }

    let mut assets = HashSet::new();
    for a in &profile.assets {
        if let Err(why) = crate::check_id("asset", a.id.as_str()) {
            report("asset", a.id.as_str(), why);
        }
        if !assets.insert(a.id.as_str()) {
            report(
                "asset",
                a.id.as_str(),
                "duplicate asset id; expected ids unique".into(),
            );
        }
    }
    for a in &profile.assets {
        let aid = a.id.as_str();
        if !schema.asset_types.iter().any(|t| t.id == a.asset_type) {
            let h = hint(
                a.asset_type.as_str(),
                &mut schema.asset_types.iter().map(|t| t.id.as_str()),
            );
            report(
                "asset",
                aid,
                format!(
                    "unknown asset type `{}`; expected an asset type of schema `{}`{h}",
                    a.asset_type, schema.schema.id
                ),
            );
        }
        for (d, v) in &a.values {
            if v.is_nan() || !(0.0..=10.0).contains(v) {
                report(
                    "asset",
                    aid,
                    format!("value of {} is {v}; expected 0..10", d.letter()),
                );
            }
        }
        if let Some(sv) = a.strategic_value {
            if sv.is_nan() || !(0.0..=10.0).contains(&sv) {
                report(
                    "asset",
                    aid,
                    format!("strategic_value {sv} is out of range; expected 0..10"),
                );
            }
        }
        for (d, r) in &a.requirements {
            if r.is_nan() || !(0.0..=3.0).contains(r) {
                report(
                    "asset",
                    aid,
                    format!("requirement of {} is {r}; expected 0..3", d.letter()),
                );
            }
        }
        if a.values.is_empty() && a.strategic_value.is_none() && a.members.is_empty() {
            report(
                "asset",
                aid,
                "has no valuation; expected `values: { D: .., I: .., C: .. }` or `strategic_value`"
                    .into(),
            );
        }
        for m in &a.members {
            if !assets.contains(m.as_str()) || m == &a.id {
                report(
                    "asset",
                    aid,
                    format!("unknown member `{m}`; expected another asset of the profile"),
                );
            }
        }
        for d in &a.depends_on {
            if !assets.contains(d.as_str()) || d == &a.id {
                report(
                    "asset",
                    aid,
                    format!("depends on `{d}`, which is not another asset of the profile; expected the id of the asset that holds or processes it"),
                );
            }
        }
    }
    if let Some(cycle) = mmsm_model::dependency_cycle(&profile.assets) {
        report(
            "asset",
            cycle[0].as_str(),
            format!(
                "depends on itself through {}; expected dependencies that end at a supporting asset (a server, a building)",
                cycle.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" -> ")
            ),
        );
    }
    if profile.assets.is_empty() {
        report(
            "profile",
            "assets",
            "no asset; expected a few coarse assets (A2.3)".into(),
        );
    }
    Problems(problems)
}

fn scalar_text(value: &Scalar) -> String {
    match value {
        Scalar::Bool(b) => b.to_string(),
        Scalar::Number(n) => n.to_string(),
        Scalar::Text(t) => format!("`{t}`"),
    }
}

/// A ready-to-fill profile for `schema`: the business checklist, and every
/// subcontrol of the technical checklist as a commented entry, grouped by
/// domain and control, with its level.
pub fn profile_template(schema: &Schema) -> String {
    let mut out = String::new();
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let _ = writeln!(
        out,
        "# Enterprise profile for schema `{}` ({} version {}).",
        schema.schema.id, schema.schema.name, schema.schema.version
    );
    let _ = writeln!(
        out,
        "# Fill it in with the enterprise's speaker, then run: mmsm isms generate THIS-FILE"
    );
    let _ = writeln!(out, "# Answers: yes, partial, no, na (not applicable), unknown. Unanswered questions count as `no`.");
    let _ = writeln!(out);
    let sector = schema.sectors.first().map_or("*", |s| s.id.as_str());
    let sectors: Vec<&str> = schema.sectors.iter().map(|s| s.id.as_str()).collect();
    let _ = writeln!(out, "enterprise:");
    let _ = writeln!(out, "  name: \"Your enterprise\"");
    let _ = writeln!(
        out,
        "  sector: {}    # one of: {}",
        q(sector),
        sectors.join(", ")
    );
    let _ = writeln!(out, "  employees: 10");
    let _ = writeln!(out, "  turnover_eur: 1000000");
    let _ = writeln!(out, "schema: {}", q(schema.schema.id.as_str()));
    let _ = writeln!(out, "# target_level: 2          # optional: otherwise from the size class and the business checklist");
    let _ = writeln!(
        out,
        "speaker: {{ name: \"Name of the speaker\", email: \"speaker@example.org\" }}"
    );
    let _ = writeln!(out, "departments:");
    let _ = writeln!(out, "  - {{ id: admin, name: Administration }}");
    let roles: Vec<&str> = schema.roles.iter().map(|r| r.id.as_str()).collect();
    let rs = roles
        .iter()
        .find(|r| r.ends_with("/RS"))
        .copied()
        .unwrap_or_else(|| roles.first().copied().unwrap_or("Cl/RS"));
    let _ = writeln!(
        out,
        "users:                     # roles: {}",
        roles.join(", ")
    );
    let _ = writeln!(
        out,
        "  - {{ id: rs, name: \"Responsible for security\", roles: [{}], department: admin }}",
        q(rs)
    );

    let _ = writeln!(out, "\n# Business meeting (A2.2)");
    let _ = writeln!(out, "business_checklist:");
    for question in &schema.business_checklist {
        let _ = writeln!(out, "  # {}", question.text);
        let example = match question.kind {
            QuestionKind::Bool => "false".to_owned(),
            QuestionKind::Number => "0".to_owned(),
            QuestionKind::Choice => q(question.options.first().map_or("", String::as_str)),
        };
        let options = if question.kind == QuestionKind::Choice {
            format!("    # one of: {}", question.options.join(", "))
        } else {
            String::new()
        };
        let _ = writeln!(out, "  {}: {example}{options}", q(question.id.as_str()));
    }

    let _ = writeln!(
        out,
        "\n# Technical meeting (A2.2): uncomment each line and answer it."
    );
    let _ = writeln!(out, "answers:");
    for domain in &schema.domains {
        let controls: Vec<_> = schema
            .controls
            .iter()
            .filter(|c| c.domain == domain.id)
            .collect();
        if controls.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n  # ===== {} {} =====", domain.id, domain.name);
        for control in controls {
            let _ = writeln!(out, "  # --- {} {}", control.id, control.title);
            for s in &control.subcontrols {
                let mandatory = if s.mandatory { ", mandatory" } else { "" };
                let _ = writeln!(out, "  # [level {}{mandatory}] {}", s.level, s.text);
                let _ = writeln!(out, "  # {}: unknown", q(s.id.as_str()));
            }
        }
    }

    let types: Vec<&str> = schema.asset_types.iter().map(|t| t.id.as_str()).collect();
    let _ = writeln!(
        out,
        "\n# A few coarse assets (A2.3). Value each dimension 0..10 (D availability, I integrity,"
    );
    let _ = writeln!(
        out,
        "# C confidentiality, A authenticity, T traceability), or give a strategic_value 0..10"
    );
    let _ = writeln!(
        out,
        "# with requirements 0..3 per dimension. Types: {}",
        types.join(", ")
    );
    let _ = writeln!(out, "assets:");
    let example_type = types
        .iter()
        .find(|t| **t == "HW")
        .or(types.first())
        .copied()
        .unwrap_or("HW");
    let dims: Vec<String> = [Dimension::D, Dimension::I, Dimension::C]
        .iter()
        .map(|d| format!("{}: 5", d.letter()))
        .collect();
    let _ = writeln!(
        out,
        "  - {{ id: main-server, name: \"Main server\", type: {}, values: {{ {} }} }}",
        q(example_type),
        dims.join(", ")
    );
    out
}

/// At most 40 characters of `text` for a problem's id (the whole may be huge).
fn short(text: &str) -> String {
    if text.chars().count() <= 40 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(40).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn mini() -> Schema {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/mini");
        crate::load_path(&dir).unwrap().schema
    }

    fn check(profile_yaml: &str, expected: &[&str]) {
        let path = PathBuf::from("p.yaml");
        let profile = parse_profile(&path, profile_yaml).unwrap_or_else(|p| panic!("{p}"));
        let problems = validate_profile(&profile, &mini(), Some(&path));
        let messages: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
        assert_eq!(messages, expected, "\n{problems}");
    }

    const OK: &str = r#"
enterprise: { name: "Clinic", sector: health, employees: 12 }
users: [{ id: ana, name: Ana, roles: [Cl/RS] }]
answers: { "8.13.1": yes, "8.13.2": partial }
assets: [{ id: erp, name: ERP, type: HW.pc, values: { D: 8 } }]
"#;

    #[test]
    fn a_valid_profile_has_no_problem() {
        check(OK, &[]);
    }

    #[test]
    fn unknown_ids_are_located_with_a_hint() {
        check(
            &OK.replace("\"8.13.2\"", "\"8.13.3\"").replace("HW.pc", "HW.pcs").replace("Cl/RS", "Cl/RR"),
            &[
                "p.yaml: user `ana`: unknown role `Cl/RR`; expected a role of schema `mini` (did you mean `Cl/RS`?)",
                "p.yaml: answer `8.13.3`: unknown subcontrol; expected a subcontrol of schema `mini` (did you mean `8.13.1`?)",
                "p.yaml: asset `erp`: unknown asset type `HW.pcs`; expected an asset type of schema `mini` (did you mean `HW.pc`?)",
            ],
        );
    }

    #[test]
    fn values_out_of_range_and_duplicates() {
        check(
            r#"
enterprise: { name: "Clinic", sector: health, employees: 12 }
target_level: 4
assets:
  - { id: erp, name: ERP, type: HW, values: { D: 11 } }
  - { id: erp, name: Again, type: HW, strategic_value: 5, requirements: { C: 4 } }
"#,
            &[
                "p.yaml: profile `target_level`: 4 is out of range; expected 1, 2 or 3",
                "p.yaml: asset `erp`: duplicate asset id; expected ids unique",
                "p.yaml: asset `erp`: value of D is 11; expected 0..10",
                "p.yaml: asset `erp`: requirement of C is 4; expected 0..3",
            ],
        );
    }

    #[test]
    fn dependencies_name_other_assets_and_do_not_go_round() {
        check(
            r#"
enterprise: { name: "Clinic", sector: health, employees: 12 }
assets:
  - { id: records, name: Records, type: HW, values: { C: 9 }, depends_on: [server, nas] }
  - { id: server, name: Server, type: HW, values: { D: 8 }, depends_on: [server] }
"#,
            &[
                "p.yaml: asset `records`: depends on `nas`, which is not another asset of the profile; expected the id of the asset that holds or processes it",
                "p.yaml: asset `server`: depends on `server`, which is not another asset of the profile; expected the id of the asset that holds or processes it",
            ],
        );
        check(
            r#"
enterprise: { name: "Clinic", sector: health, employees: 12 }
assets:
  - { id: a, name: A, type: HW, values: { C: 9 }, depends_on: [b] }
  - { id: b, name: B, type: HW, values: { D: 8 }, depends_on: [c] }
  - { id: c, name: C, type: HW, values: { D: 8 }, depends_on: [a] }
  - { id: d, name: D, type: HW, values: { D: 8 }, depends_on: [a] }
"#,
            &["p.yaml: asset `a`: depends on itself through a -> b -> c -> a; expected dependencies that end at a supporting asset (a server, a building)"],
        );
    }

    #[test]
    fn a_requirement_of_the_management_system_is_never_answered_not_applicable() {
        let mut schema = mini();
        schema.domains.push(mmsm_model::Domain {
            id: mmsm_model::DomainId::new("MS"),
            name: "Management system".into(),
            description: None,
            in_soa: false,
        });
        let mut audit = schema.controls[0].clone();
        audit.id = mmsm_model::ControlId::new("C9.2");
        audit.domain = mmsm_model::DomainId::new("MS");
        audit.title = "Internal audit".into();
        audit.subcontrols.truncate(1);
        audit.subcontrols[0].id = mmsm_model::SubControlId::new("C9.2.1");
        schema.controls.push(audit);
        let path = PathBuf::from("p.yaml");
        let text = OK.replace("answers: {", "answers: { \"C9.2.1\": na,");
        let profile = parse_profile(&path, &text).unwrap_or_else(|p| panic!("{p}"));
        let problems = validate_profile(&profile, &schema, Some(&path));
        let messages: Vec<String> = problems.0.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            messages,
            ["p.yaml: answer `C9.2.1`: na: C9.2 Internal audit is a requirement of the management system, which every certified enterprise meets; expected yes, partial, no or unknown"]
        );
    }

    #[test]
    fn malformed_profiles_give_line_and_column() {
        let err = parse_profile(
            Path::new("p.yaml"),
            "enterprise: { name: x, sector: y, employees: ten }\nassets: []\n",
        )
        .unwrap_err();
        assert_eq!(err.0[0].line, Some(1), "{err}");
        let err = parse_profile(
            Path::new("p.yaml"),
            "enterprise: { name: x, sector: y, employees: 3 }\nasets: []\n",
        )
        .unwrap_err();
        assert!(err.0[0].message.contains("unknown field `asets`"), "{err}");
    }

    #[test]
    fn the_template_parses_and_lists_every_subcontrol() {
        let schema = mini();
        let text = profile_template(&schema);
        for (_, s) in schema.subcontrols() {
            assert!(
                text.contains(&format!("# \"{}\": unknown", s.id)),
                "{}",
                s.id
            );
        }
        let profile =
            parse_profile(Path::new("t.yaml"), &text).unwrap_or_else(|p| panic!("{p}\n{text}"));
        assert!(profile.answers.is_empty());
        // Uncommenting an answer gives a valid entry.
        let filled = text.replace("  # \"8.13.1\": unknown", "  \"8.13.1\": yes");
        let profile =
            parse_profile(Path::new("t.yaml"), &filled).unwrap_or_else(|p| panic!("{p}\n{filled}"));
        assert_eq!(profile.answers.len(), 1);
    }
}
