//! `mmsm isms docs`: the documents in force of an ISMS (issue 14): list,
//! show, fill in, approve and export them.

use indicatif::{ProgressBar, ProgressStyle};

use mmsm_kernel::services::{DocumentRow, Kernel};
use mmsm_reports::{self as reports, Documents};

use crate::args::{DocsCommand, DocsFormat, Global};
use crate::findings_cmd::actor;
use crate::output::{print_json, Failure, Table};
use crate::schema_cmd::service_failure;

fn print_row(d: &DocumentRow) {
    println!(
        "{} ({}): version {}, {}{}",
        d.title,
        d.id,
        d.version,
        d.state,
        d.approved
            .as_ref()
            .map(|a| format!(", approved by {}, next review {}", a.by, a.next_review))
            .unwrap_or_default()
    );
    if !d.empty.is_empty() {
        println!("  still empty: {}", d.empty.join("; "));
    }
}

/// Runs an `isms docs` subcommand.
pub fn run(global: &Global, kernel: &Kernel, command: &DocsCommand) -> Result<(), Failure> {
    match command {
        DocsCommand::List { id } => {
            let who = actor(global, kernel, id)?;
            let rows = kernel.list_documents(&who, id).map_err(service_failure)?;
            if global.json {
                return print_json(&rows);
            }
            let mut table = Table::new(&[
                "DOCUMENT",
                "KIND",
                "TITLE",
                "VERSION",
                "STATE",
                "OWNER",
                "EMPTY FIELDS",
            ]);
            for d in &rows {
                table.row(vec![
                    d.id.clone(),
                    format!("{:?}", d.kind).to_lowercase(),
                    d.title.clone(),
                    d.version.to_string(),
                    d.state.to_owned(),
                    d.owner.clone().unwrap_or_default(),
                    d.empty.len().to_string(),
                ]);
            }
            table.print();
            Ok(())
        }
        DocsCommand::Show {
            id,
            doc,
            format,
            version,
        } => {
            let who = actor(global, kernel, id)?;
            let rendered = match version {
                Some(v) => kernel.document_version(&who, id, doc, *v),
                None => kernel.document(&who, id, doc),
            }
            .map_err(service_failure)?;
            if global.json {
                return print_json(&rendered);
            }
            if !rendered.missing.is_empty() {
                eprintln!(
                    "note: {} names what {id} leaves empty: {} (complete it in the ISMS, e.g. the user's email)",
                    rendered.row.id,
                    rendered.missing.join(", ")
                );
            }
            match format.as_str() {
                "md" => print!("{}", rendered.markdown),
                "html" => print!("{}", reports::document_html(&rendered)),
                other => {
                    return Err(Failure::from_error(format!(
                        "`{other}` is not a format of docs show; expected md or html"
                    )))
                }
            }
            Ok(())
        }
        DocsCommand::Set {
            id,
            doc,
            values,
            owner,
        } => {
            let pairs = values
                .iter()
                .map(|v| {
                    v.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                        .ok_or_else(|| {
                            Failure::from_error(format!(
                                "`{v}` is not field=value (e.g. data_protection_authority=\"AEPD, www.aepd.es\")"
                            ))
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if pairs.is_empty() && owner.is_none() {
                return Err(Failure::from_error(
                    "nothing to set: give field=value pairs or --owner USER",
                ));
            }
            let who = actor(global, kernel, id)?;
            let row = kernel
                .set_document(&who, id, doc, &pairs, owner.clone())
                .map_err(service_failure)?;
            if global.json {
                return print_json(&row);
            }
            print_row(&row);
            Ok(())
        }
        DocsCommand::Approve { id, doc } => {
            let who = actor(global, kernel, id)?;
            let row = kernel
                .approve_document(&who, id, doc)
                .map_err(service_failure)?;
            if global.json {
                return print_json(&row);
            }
            print_row(&row);
            Ok(())
        }
        DocsCommand::Export { id, output, format } => {
            let who = actor(global, kernel, id)?;
            let (enterprise, docs) = kernel.document_pack(&who, id).map_err(service_failure)?;
            std::fs::create_dir_all(output).map_err(|e| {
                Failure::from_error(format!("cannot create {}: {e}", output.display()))
            })?;
            let write = |name: String, bytes: &[u8]| {
                let path = output.join(name);
                std::fs::write(&path, bytes).map_err(|e| {
                    Failure::from_error(format!("cannot write {}: {e}", path.display()))
                })
            };
            let bar = if global.json {
                ProgressBar::hidden()
            } else {
                ProgressBar::new(docs.len() as u64).with_style(
                    ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                )
            };
            let mut files = Vec::new();
            for doc in &docs {
                bar.set_message(doc.row.title.clone());
                let (name, bytes) = match format {
                    DocsFormat::Pdf => (format!("{}.pdf", doc.row.id), reports::document_pdf(doc)),
                    DocsFormat::Html => (
                        format!("{}.html", doc.row.id),
                        reports::document_html(doc).into_bytes(),
                    ),
                    DocsFormat::Docx => {
                        (format!("{}.docx", doc.row.id), reports::document_docx(doc))
                    }
                    DocsFormat::Md => (
                        format!("{}.md", doc.row.id),
                        doc.markdown.clone().into_bytes(),
                    ),
                };
                write(name.clone(), &bytes)?;
                files.push(name);
                bar.inc(1);
            }
            bar.finish_and_clear();
            match format {
                DocsFormat::Pdf => {
                    write("pack.pdf".into(), &reports::pack_pdf(&enterprise, &docs))?;
                    files.push("pack.pdf".into());
                }
                DocsFormat::Html => {
                    let index = reports::pack_index_html(&enterprise, &docs);
                    write("index.html".into(), index.as_bytes())?;
                    files.push("index.html".into());
                }
                DocsFormat::Md | DocsFormat::Docx => {}
            }
            if global.json {
                return print_json(
                    &serde_json::json!({ "isms": id, "folder": output, "files": files }),
                );
            }
            println!(
                "wrote {} documents of {id} to {} ({} files)",
                docs.len(),
                output.display(),
                files.len()
            );
            Ok(())
        }
    }
}
