//! The document pack through the real binary (issue 14): every document of
//! the base schema renders for the sample enterprise, fields are filled once
//! per ISMS, approval freezes a version, a later change makes the next one,
//! and the pack is exported as PDF (read back with pdftotext) and HTML.

mod common;

use common::{pdf_text, Mmsm};
use serde_json::Value;

const ISMS: &str = "clinica-dental-sonrisa";

fn demo() -> Mmsm {
    let m = Mmsm::new();
    m.run(&["demo", "--out", m.dir.path().to_str().unwrap()])
        .ok();
    m
}

fn row(m: &Mmsm, doc: &str) -> Value {
    m.run(&["isms", "docs", "list", ISMS, "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == doc)
        .cloned()
        .unwrap_or_else(|| panic!("{doc} is not in force"))
}

#[test]
fn every_document_of_the_base_schema_renders_for_the_sample_enterprise() {
    let m = demo();
    let list = m.run(&["isms", "docs", "list", ISMS, "--json"]).ok().json();
    let list = list.as_array().unwrap();
    assert!(list.len() >= 40, "{} documents in force", list.len());
    for doc in list {
        let id = doc["id"].as_str().unwrap();
        let shown = m
            .run(&["isms", "docs", "show", ISMS, id, "--json"])
            .ok()
            .json();
        let markdown = shown["markdown"].as_str().unwrap();
        assert!(!markdown.trim().is_empty(), "{id} is empty");
        assert_eq!(shown["missing"], serde_json::json!([]), "{id}: {shown}");
        assert!(!markdown.contains("{{"), "{id} keeps template syntax");
        assert!(
            !markdown.contains("()"),
            "{id} has an empty automatic field"
        );
    }
}

#[test]
fn fields_approval_versions_and_the_exported_pack() {
    let m = demo();
    // Fields are shared: the authority filled for the privacy notice fills the breach notification.
    let refused = m
        .run(&[
            "--as",
            "ana",
            "isms",
            "docs",
            "approve",
            ISMS,
            "tpl-privacy-notice",
        ])
        .fails();
    assert!(
        refused
            .stderr
            .contains("cannot be approved while fields are empty"),
        "{}",
        refused.stderr
    );
    let unknown = m
        .run(&[
            "isms",
            "docs",
            "set",
            ISMS,
            "tpl-privacy-notice",
            "colour=blue",
        ])
        .fails();
    assert!(
        unknown.stderr.contains("not a field of tpl-privacy-notice"),
        "{}",
        unknown.stderr
    );
    m.run(&[
        "isms",
        "docs",
        "set",
        ISMS,
        "tpl-privacy-notice",
        "address=Calle Mayor 1, 46001 Valencia",
        "privacy_email=privacidad@sonrisa.example",
        "data_collected=Name, contact details and dental records",
        "purposes=provide dental care, invoice and meet legal duties",
        "legal_basis=contract, legal obligation and explicit consent for health data",
        "recipients=Laboratory, insurer, accountant and IT provider",
        "transfers=No transfers outside the EU.",
        "retention=Clinical records for at least 5 years after the last visit, as the law requires.",
        "data_protection_authority=Agencia Española de Protección de Datos (www.aepd.es)",
        "--owner",
        "ana",
    ])
    .ok();
    let breach = m
        .run(&["isms", "docs", "show", ISMS, "tpl-breach-notification"])
        .ok();
    assert!(
        breach
            .stdout
            .contains("Agencia Española de Protección de Datos"),
        "{}",
        breach.stdout
    );

    // luis may neither fill in nor approve.
    m.run(&[
        "--as",
        "luis",
        "isms",
        "docs",
        "set",
        ISMS,
        "tpl-privacy-notice",
        "dpo=x",
    ])
    .fails();
    m.run(&[
        "--as",
        "luis",
        "isms",
        "docs",
        "approve",
        ISMS,
        "tpl-privacy-notice",
    ])
    .fails();
    m.run(&[
        "--as",
        "ana",
        "isms",
        "docs",
        "approve",
        ISMS,
        "tpl-privacy-notice",
    ])
    .ok();
    let approved = row(&m, "tpl-privacy-notice");
    assert_eq!(approved["state"], "approved", "{approved}");
    assert_eq!(approved["version"], 1);
    assert_eq!(approved["owner"], "ana");
    // A change after approval makes version 2, a draft; version 1 stays approved.
    m.run(&[
        "isms",
        "docs",
        "set",
        ISMS,
        "tpl-privacy-notice",
        "dpo=Delegado: dpo@sonrisa.example",
    ])
    .ok();
    let changed = row(&m, "tpl-privacy-notice");
    assert_eq!(
        (changed["version"].as_u64(), changed["state"].as_str()),
        (Some(2), Some("draft")),
        "{changed}"
    );

    // Version 1 stays readable as it was approved.
    let v1 = m
        .run(&[
            "isms",
            "docs",
            "show",
            ISMS,
            "tpl-privacy-notice",
            "--version",
            "1",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(v1["state"], "superseded", "{v1}");
    assert!(!v1["markdown"]
        .as_str()
        .unwrap()
        .contains("Data protection officer"));
    let v2 = m
        .run(&["isms", "docs", "show", ISMS, "tpl-privacy-notice"])
        .ok();
    assert!(
        v2.stdout.contains("Data protection officer: Delegado"),
        "{}",
        v2.stdout
    );
    m.run(&[
        "isms",
        "docs",
        "show",
        ISMS,
        "tpl-privacy-notice",
        "--version",
        "7",
    ])
    .fails();
    // The policy approved names its approver; exported as PDF it has the
    // enterprise's name and the officer's email.
    m.run(&[
        "--as",
        "ana",
        "isms",
        "docs",
        "approve",
        ISMS,
        "tpl-security-policy",
    ])
    .ok();
    let out = m.path("pack");
    let started = std::time::Instant::now();
    m.run(&["isms", "docs", "export", ISMS, "-o", out.to_str().unwrap()])
        .ok();
    let took = started.elapsed();
    let policy = pdf_text(&std::fs::read(out.join("tpl-security-policy.pdf")).unwrap());
    assert!(policy.contains("Clinica Dental Sonrisa"), "{policy}");
    assert!(policy.contains("ana.ruiz@sonrisa.example"), "{policy}");
    assert!(policy.contains("Approved by Ana Ruiz"), "{policy}");
    assert!(policy.contains("page 1 of"), "{policy}");
    let pack = pdf_text(&std::fs::read(out.join("pack.pdf")).unwrap());
    assert!(
        pack.contains("Contents"),
        "the pack has a table of contents"
    );
    assert!(
        pack.contains("Clinica Dental Sonrisa: information security documents"),
        "the pages after the first have a running header"
    );
    assert!(pack.contains("Privacy notice (version 2, draft)"), "{pack}");
    assert!(
        pack.contains("Agencia Española de Protección de Datos"),
        "accents survive"
    );
    eprintln!("exported the pack in {took:?} (process included)");

    let html = m.path("html");
    m.run(&[
        "isms",
        "docs",
        "export",
        ISMS,
        "-o",
        html.to_str().unwrap(),
        "--format",
        "html",
    ])
    .ok();
    let index = std::fs::read_to_string(html.join("index.html")).unwrap();
    assert!(index.contains("tpl-security-policy.html"), "{index}");
    // Word files for the client to edit.
    let word = m.path("word");
    m.run(&[
        "isms",
        "docs",
        "export",
        ISMS,
        "-o",
        word.to_str().unwrap(),
        "--format",
        "docx",
    ])
    .ok();
    let file = std::fs::File::open(word.join("tpl-privacy-notice.docx")).unwrap();
    let mut docx = zip::ZipArchive::new(file).expect("a docx is a zip");
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut docx.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(xml.contains("Clinica Dental Sonrisa"), "{xml}");
    assert!(xml.contains("Agencia Española de Protección de Datos"));

    // The report prints too.
    let report = m.path("report.pdf");
    m.run(&[
        "isms",
        "report",
        ISMS,
        "--format",
        "pdf",
        "-o",
        report.to_str().unwrap(),
    ])
    .ok();
    let report = pdf_text(&std::fs::read(report).unwrap());
    assert!(
        report.contains("Information security report: Clinica Dental Sonrisa"),
        "{report}"
    );
    assert!(report.contains("Overall compliance"), "{report}");
    let trail = m.run(&["audit", "log", "--json"]).ok().stdout;
    assert!(trail.contains("isms.document.set") && trail.contains("isms.document.approve"));
}

#[test]
fn every_line_of_the_soa_says_why_and_what_implements_it() {
    let m = demo();
    let rows = m.run(&["isms", "soa", ISMS, "--json"]).ok().json();
    let rows = rows.as_array().unwrap();
    // The 93 controls of ISO/IEC 27002 and health-small's 5 health care controls.
    assert_eq!(rows.len(), 98);
    assert!(rows.iter().any(|r| r["control"] == "H.1"));
    for row in rows.iter().filter(|r| r["applicable"] == true) {
        let control = &row["control"];
        assert!(
            !row["implemented_by"].as_array().unwrap().is_empty(),
            "{control} has no document, regulation or procedure behind it"
        );
        assert!(
            row["reason"].as_str().unwrap().starts_with("applies: "),
            "{row}"
        );
        assert!(
            ["yes", "partial", "no"].contains(&row["implemented"].as_str().unwrap()),
            "{row}"
        );
        // Every applicable control is there for a risk it treats or an obligation
        // that binds the enterprise (issues 14 and 16): no generic reason.
        assert!(
            !row["threats"].as_array().unwrap().is_empty()
                || !row["requirements"].as_array().unwrap().is_empty(),
            "{control} treats no threat and meets no obligation: {}",
            row["reason"]
        );
        assert!(
            !row["reason"]
                .as_str()
                .unwrap()
                .contains("no threat of its risk analysis"),
            "{row}"
        );
    }
    // A law names the controls it requires.
    let crypto = rows.iter().find(|r| r["control"] == "8.24").unwrap();
    assert!(
        crypto["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("GDPR Art. 32")),
        "{crypto}"
    );
    // A control that treats threats says which, with their residual risk now.
    let backup = rows.iter().find(|r| r["control"] == "8.13").unwrap();
    let reason = backup["reason"].as_str().unwrap();
    assert!(
        reason.contains("treats") && reason.contains("residual risk"),
        "{reason}"
    );
    assert!(!backup["threats"].as_array().unwrap().is_empty());
    // The business checklist decided what does not apply, and says so.
    let coding = rows.iter().find(|r| r["control"] == "8.28").unwrap();
    assert_eq!(coding["applicable"], false);
    assert!(
        coding["reason"].as_str().unwrap().contains(
            "8.28.1, 8.28.2: the business checklist answers own_software: no: no software is developed"
        ),
        "{coding}"
    );
    // The PDF too.
    let pdf = m.path("soa.pdf");
    m.run(&[
        "isms",
        "soa",
        ISMS,
        "--format",
        "pdf",
        "-o",
        pdf.to_str().unwrap(),
    ])
    .ok();
    let text = pdf_text(&std::fs::read(pdf).unwrap());
    assert!(
        text.contains("Statement of Applicability: Clinica Dental Sonrisa"),
        "{text}"
    );
    assert!(
        text.contains("Threats treated:") && text.contains("Implemented by:"),
        "{text}"
    );
    // The CSV carries the same columns.
    let csv = m.run(&["isms", "soa", ISMS, "--format", "csv"]).ok().stdout;
    let header = csv.lines().next().unwrap();
    assert!(
        header.ends_with("Implemented,Threats treated,Requirements"),
        "{header}"
    );
}

#[test]
fn a_business_answer_that_keeps_a_control_in_is_its_reason_in_the_soa() {
    let m = Mmsm::new();
    let text =
        std::fs::read_to_string(common::repo_root().join("schemas/examples/dental-clinic.yaml"))
            .unwrap()
            .replace("own_software: false", "own_software: true")
            .replace("\"8.28.1\": na", "\"8.28.1\": yes")
            .replace(
                "name: \"Clinica Dental Sonrisa\"",
                "name: \"Clinica Dental Codigo\"",
            );
    let profile = m.path("coding-clinic.yaml");
    std::fs::write(&profile, text).unwrap();
    let generated = m
        .run(&["isms", "generate", profile.to_str().unwrap(), "--json"])
        .ok()
        .json();
    let id = generated["id"].as_str().unwrap().to_owned();
    let rows = m.run(&["isms", "soa", &id, "--json"]).ok().json();
    let coding = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == "8.28")
        .unwrap()
        .clone();
    assert_eq!(coding["applicable"], true, "{coding}");
    assert!(
        coding["reason"]
            .as_str()
            .unwrap()
            .contains("the business checklist answers own_software: yes"),
        "{coding}"
    );
}
