//! `mmsm schema ...`: the GEGS commands.

use mmsm_kernel::services::{ImportOutcome, ImportStatus, ServiceError};
use mmsm_schema as schema_docs;

use crate::args::{Global, SchemaCommand};
use crate::output::{print_json, Failure, Table};
use crate::{open_kernel, principal};

pub fn run(global: &Global, command: &SchemaCommand) -> Result<(), Failure> {
    if let SchemaCommand::Validate { path } = command {
        return validate(global, path);
    }
    let kernel = open_kernel(global)?;
    let who = principal(global, &kernel);
    match command {
        SchemaCommand::Validate { .. } => unreachable!("handled above"),
        SchemaCommand::Import { path } => {
            let outcome = kernel
                .import_schema_path(&who, path)
                .map_err(service_failure)?;
            print_outcome(global, &outcome)
        }
        SchemaCommand::List => {
            let listings = kernel.list_schemas(&who).map_err(service_failure)?;
            if global.json {
                return print_json(&listings);
            }
            if listings.is_empty() {
                println!("no schema in the store; import one with `mmsm schema import PATH`");
                return Ok(());
            }
            let mut table = Table::new(&[
                "ID",
                "VERSION",
                "NAME",
                "CONTROLS",
                "SUBCONTROLS",
                "THREATS",
                "ASSET TYPES",
                "PROCEDURES",
            ]);
            for l in &listings {
                let c = &l.counts;
                table.row(vec![
                    l.id.to_string(),
                    l.version.to_string(),
                    l.name.clone(),
                    c.controls.to_string(),
                    c.subcontrols.to_string(),
                    c.threats.to_string(),
                    c.asset_types.to_string(),
                    c.procedures.to_string(),
                ]);
            }
            table.print();
            Ok(())
        }
        SchemaCommand::Show { id, version } => {
            let details = kernel
                .show_schema(&who, id, *version)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&details);
            }
            let h = &details.header;
            println!(
                "{} (version {} of {})",
                h.name,
                h.version,
                details.versions.len()
            );
            println!("id:          {}", h.id);
            if let Some(b) = &h.based_on {
                println!("based on:    {}@{}", b.id, b.version);
            }
            if let Some(d) = &h.description {
                println!("description: {d}");
            }
            let sectors: Vec<&str> = h.applies_to.sectors.iter().map(|s| s.as_str()).collect();
            let sizes: Vec<&str> = h.applies_to.sizes.iter().map(|s| s.as_str()).collect();
            println!(
                "applies to:  sectors {}; sizes {}",
                sectors.join(", "),
                if sizes.is_empty() {
                    "any".into()
                } else {
                    sizes.join(", ")
                }
            );
            if !h.target_level.is_empty() {
                let targets: Vec<String> = h
                    .target_level
                    .iter()
                    .map(|(s, l)| format!("{s} {l}"))
                    .collect();
                println!("target:      level by size: {}", targets.join(", "));
            }
            let c = &details.counts;
            println!();
            let mut table = Table::new(&["ELEMENT", "COUNT"]);
            for (name, n) in [
                ("domains", c.domains),
                ("controls", c.controls),
                ("subcontrols", c.subcontrols),
                ("threats", c.threats),
                ("asset types", c.asset_types),
                ("vulnerabilities", c.vulnerabilities),
                ("TAD rows", c.tad_rows),
                ("threat-control links", c.threat_controls),
                ("procedures", c.procedures),
                ("regulations", c.regulations),
                ("artefacts", c.artefacts),
                ("culture questions", c.culture_questions),
                ("metrics", c.metrics),
            ] {
                table.row(vec![name.into(), n.to_string()]);
            }
            table.print();
            println!();
            let mut levels = Table::new(&["LEVEL", "SUBCONTROLS"]);
            for (level, n) in &details.subcontrols_per_level {
                levels.row(vec![level.to_string(), n.to_string()]);
            }
            levels.print();
            Ok(())
        }
        SchemaCommand::Clone {
            source,
            new,
            name,
            sector,
            size,
        } => {
            let outcome = kernel
                .clone_schema(
                    &who,
                    source,
                    new,
                    name.clone(),
                    sector.clone(),
                    size.clone(),
                )
                .map_err(service_failure)?;
            print_outcome(global, &outcome)
        }
        SchemaCommand::Export { id, dir, version } => {
            let files = kernel
                .export_schema(&who, id, *version, dir)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&serde_json::json!({ "id": id, "dir": dir, "files": files }));
            }
            println!("wrote {} files to {}", files.len(), dir.display());
            Ok(())
        }
        SchemaCommand::Stats { id, suggest } => {
            crate::msgs_cmd::stats(global, &kernel, &who, id, *suggest)
        }
        SchemaCommand::Diff { id, v1, v2 } => {
            let diff = kernel
                .diff_schema(&who, id, *v1, *v2)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&diff);
            }
            if diff.is_empty() {
                println!("{id}@{v1} and {id}@{v2} hold the same elements");
                return Ok(());
            }
            for (kind, changes) in &diff.kinds {
                println!("{kind}:");
                for c in changes {
                    let sign = match c.change {
                        schema_docs::ChangeKind::Added => "+",
                        schema_docs::ChangeKind::Removed => "-",
                        schema_docs::ChangeKind::Changed => "~",
                    };
                    if c.fields.is_empty() {
                        println!("  {sign} {}", c.id);
                    } else {
                        println!("  {sign} {} ({})", c.id, c.fields.join(", "));
                        for v in &c.values {
                            println!(
                                "      {}: {} -> {}",
                                v.field,
                                schema_docs::value_words(&v.before),
                                schema_docs::value_words(&v.after)
                            );
                        }
                    }
                }
            }
            Ok(())
        }
    }
}

fn validate(global: &Global, path: &std::path::Path) -> Result<(), Failure> {
    match schema_docs::load_path(path) {
        Ok(loaded) => {
            let s = &loaded.schema;
            let warnings = schema_docs::warnings(s, Some(&loaded.provenance));
            if global.json {
                return print_json(&serde_json::json!({
                    "valid": true,
                    "id": s.schema.id,
                    "counts": mmsm_kernel::services::SchemaCounts::of(s),
                    "errors": [],
                    "warnings": warnings,
                }));
            }
            for warning in &warnings {
                println!("warning: {warning}");
            }
            println!(
                "{}: schema `{}` is valid ({} controls, {} subcontrols, {} threats)",
                path.display(),
                s.schema.id,
                s.controls.len(),
                s.subcontrols().count(),
                s.threats.len()
            );
            Ok(())
        }
        Err(problems) => {
            if global.json {
                Err(Failure::with_json(
                    format!("{}: {} problem(s)", path.display(), problems.len()),
                    serde_json::json!({ "valid": false, "errors": problems }),
                ))
            } else {
                Err(Failure::from_error(problems))
            }
        }
    }
}

fn print_outcome(global: &Global, outcome: &ImportOutcome) -> Result<(), Failure> {
    if global.json {
        return print_json(outcome);
    }
    match outcome.status {
        ImportStatus::Created => println!(
            "stored new schema {} as version {}",
            outcome.id, outcome.version
        ),
        ImportStatus::NewVersion => println!("stored {} version {}", outcome.id, outcome.version),
        ImportStatus::Unchanged => println!(
            "{} is unchanged: version {} already holds this content; nothing stored",
            outcome.id, outcome.version
        ),
    }
    Ok(())
}

/// Invalid documents print every located problem; other errors their message.
pub fn service_failure(error: ServiceError) -> Failure {
    match error {
        ServiceError::Invalid(problems) => Failure::with_json(
            problems.to_string(),
            serde_json::json!({ "valid": false, "errors": problems }),
        ),
        other => Failure::from_error(other),
    }
}
