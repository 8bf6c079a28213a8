//! Document templates (issue 14): artefact bodies and regulation texts are
//! minijinja templates. A template may name the automatic fields the ISMS
//! fills ([`AUTOMATIC_FIELDS`]) and the document's own fill-in fields; a
//! syntax error or any other name is a schema problem.

use std::collections::BTreeSet;

use mmsm_model::{Field, AUTOMATIC_FIELDS};

/// The problems of `texts` (where each is, its text) whose fill-in fields are
/// `fields`, in words.
pub fn check(texts: &[(&str, &str)], fields: &[Field]) -> Vec<String> {
    let env = minijinja::Environment::new();
    let declared: BTreeSet<&str> = fields.iter().map(|f| f.id.as_str()).collect();
    let mut problems = Vec::new();
    for field in fields {
        if AUTOMATIC_FIELDS.contains(&field.id.as_str()) {
            problems.push(format!(
                "fields: `{}` is the name of an automatic field; choose another name",
                field.id
            ));
        }
    }
    for (where_, text) in texts {
        // Plain text without template syntax: nothing to check.
        if !text.contains("{{") && !text.contains("{%") {
            continue;
        }
        let template = match env.template_from_str(text) {
            Ok(t) => t,
            Err(e) => {
                let line = e.line().map(|l| format!(" (line {l})")).unwrap_or_default();
                problems.push(format!(
                    "{where_}: not a valid template{line}: {}",
                    e.detail().unwrap_or("syntax error")
                ));
                continue;
            }
        };
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|v| !AUTOMATIC_FIELDS.contains(&v.as_str()) && !declared.contains(v.as_str()))
            .collect();
        unknown.sort();
        for name in unknown {
            problems.push(format!(
                "{where_}: `{name}` is neither an automatic field ({}) nor one of its fields ({}); declare it under `fields:` with a label",
                AUTOMATIC_FIELDS.join(", "),
                if declared.is_empty() {
                    "none".to_owned()
                } else {
                    declared.iter().copied().collect::<Vec<_>>().join(", ")
                }
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmsm_model::FieldKind;

    fn field(id: &str) -> Field {
        Field {
            id: id.into(),
            label: id.into(),
            kind: FieldKind::Text,
            required: false,
            options: Vec::new(),
        }
    }

    #[test]
    fn a_template_names_automatic_fields_and_its_own_fields_only() {
        let ok = "Policy of {{ enterprise.name }}; complaints to {{ authority }}.";
        assert!(check(&[("body", ok)], &[field("authority")]).is_empty());
        let problems = check(&[("body", ok)], &[]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("`authority` is neither"),
            "{problems:?}"
        );
        let broken = check(&[("body", "Hello {{ enterprise.name ")], &[]);
        assert!(
            broken[0].starts_with("body: not a valid template"),
            "{broken:?}"
        );
        let clash = check(&[], &[field("today")]);
        assert!(clash[0].contains("automatic field"), "{clash:?}");
        // Text without template syntax is not parsed at all.
        assert!(check(&[("body", "Costs {50} a [name]")], &[]).is_empty());
    }
}
