//! Governance through the real binary (issue 15): the speaker approves, an
//! auditor certifies a reached level and prints the certificate, a major
//! finding suspends it and lowers the board, the officer responds, the
//! auditor closes, the certificate is valid again; the audit programme.

mod common;

use common::server::user_add;
use common::{pdf_text, Mmsm};
use serde_json::Value;

const ISMS: &str = "taller-gil";

fn setup() -> Mmsm {
    let m = Mmsm::new();
    m.run(&["schema", "import", "tests/fixtures/msgs"]).ok();
    m.run(&[
        "isms",
        "generate",
        "tests/fixtures/msgs-profile.yaml",
        "--schema",
        "msgs",
    ])
    .ok();
    m.run(&[
        "isms",
        "user",
        "add",
        ISMS,
        "marta",
        "--name",
        "Marta Gil",
        "--role",
        "Int",
    ])
    .ok();
    user_add(
        &m,
        &["user", "add", "aus", "--password-stdin", "--role", "AuS"],
    );
    m.run(&["user", "assign", "aus", ISMS]).ok();
    // Both users certified: 6.3.1 (culture certificates) is measured at 100 %.
    let right = m.path("right.json");
    std::fs::write(&right, common::server::MSGS_ALL_RIGHT).unwrap();
    for user in ["ana", "luis"] {
        m.run(&[
            "culture",
            "test",
            ISMS,
            user,
            "--as",
            user,
            "--answers",
            right.to_str().unwrap(),
        ])
        .ok();
    }
    m
}

fn certificate_state(m: &Mmsm) -> Value {
    m.run(&["isms", "certificates", ISMS, "--json"]).ok().json()[0]["state"].clone()
}

fn compliance(m: &Mmsm) -> f64 {
    m.run(&["isms", "board", ISMS, "--json"]).ok().json()["compliance"]
        .as_f64()
        .unwrap()
}

#[test]
fn the_issue_s_done_when_from_the_command_line() {
    let m = setup();
    // Until the speaker approves, the SoA says it is a draft.
    let soa = m.run(&["isms", "soa", ISMS]).ok();
    assert!(
        soa.stdout.contains("draft, not approved by the speaker"),
        "{}",
        soa.stdout
    );
    // The speaker approves; the officer may not.
    let refused = m.run(&["--as", "ana", "isms", "approve", ISMS]).fails();
    assert!(
        refused.stderr.contains("only the enterprise's speaker"),
        "{}",
        refused.stderr
    );
    let approved = m
        .run(&["--as", "marta", "isms", "approve", ISMS, "--note", "agreed"])
        .ok();
    assert!(
        approved.stdout.contains("approved by marta"),
        "{}",
        approved.stdout
    );
    let soa = m.run(&["isms", "soa", ISMS]).ok();
    assert!(soa.stdout.contains("approved by marta"), "{}", soa.stdout);

    // Level 1 is not reached yet: refused with the reason.
    let refused = m
        .run(&["--as", "aus", "isms", "certify", ISMS, "1"])
        .fails();
    assert!(
        refused.stderr.contains("level 1 is not reached"),
        "{}",
        refused.stderr
    );
    for sub in ["6.3.1", "8.13.1", "8.13.2"] {
        m.run(&["isms", "answer", ISMS, sub, "yes"]).ok();
    }
    m.run(&["--as", "aus", "isms", "certify", ISMS, "1"]).ok();
    assert_eq!(certificate_state(&m), "valid");
    let pdf = m.path("level-1.pdf");
    m.run(&[
        "isms",
        "certificate",
        ISMS,
        "1",
        "-o",
        pdf.to_str().unwrap(),
    ])
    .ok();
    let text = pdf_text(&std::fs::read(&pdf).unwrap());
    assert!(text.contains("Taller Gil"), "{text}");
    assert!(text.contains("has reached maturity level 1"), "{text}");
    assert!(text.contains("Issued by: aus"), "{text}");
    let before = compliance(&m);

    // A major finding on a level-1 control: the certificate is suspended and the board falls.
    let evidence = m.path("restore.log");
    std::fs::write(&evidence, "2027-01-03 restore test: not done\n").unwrap();
    let refused = m
        .run(&[
            "--as",
            "luis",
            "finding",
            "add",
            ISMS,
            "--control",
            "8.13",
            "--kind",
            "major",
            "--text",
            "x",
        ])
        .fails();
    assert!(
        refused.stderr.contains("may not record a finding"),
        "{}",
        refused.stderr
    );
    let added = m
        .run(&[
            "--as",
            "aus",
            "finding",
            "add",
            ISMS,
            "--control",
            "8.13",
            "--kind",
            "major",
            "--text",
            "Restores are never tested",
            "--evidence",
            evidence.to_str().unwrap(),
            "--audit",
            "internal-audit",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(added["id"], "F1");
    assert_eq!(added["evidence"]["name"], "finding-F1-restore.log");
    assert_eq!(certificate_state(&m), "suspended");
    assert!(compliance(&m) < before);
    let show = m.run(&["isms", "show", ISMS]).ok();
    assert!(
        show.stdout.contains("findings: 1 open (1 major)"),
        "{}",
        show.stdout
    );
    assert!(
        show.stdout.contains("level 1 certificate: suspended"),
        "{}",
        show.stdout
    );
    let report = m.path("report.md");
    m.run(&[
        "isms",
        "report",
        ISMS,
        "--format",
        "md",
        "-o",
        report.to_str().unwrap(),
    ])
    .ok();
    let report = std::fs::read_to_string(report).unwrap();
    assert!(report.contains("## Open findings"), "{report}");

    // The officer responds, the auditor closes: valid again.
    let refused = m
        .run(&["--as", "aus", "finding", "close", ISMS, "F1"])
        .fails();
    assert!(
        refused.stderr.contains("responds first"),
        "{}",
        refused.stderr
    );
    m.run(&[
        "--as",
        "ana",
        "finding",
        "respond",
        ISMS,
        "F1",
        "--action",
        "Test a restore every month",
        "--owner",
        "luis",
        "--due",
        "2099-01-31",
    ])
    .ok();
    let plan = m.run(&["isms", "plan", ISMS]).ok();
    assert!(
        plan.stdout.contains("Test a restore every month"),
        "{}",
        plan.stdout
    );
    m.run(&[
        "--as", "luis", "finding", "done", ISMS, "F1", "--note", "tested",
    ])
    .ok();
    let refused = m
        .run(&["--as", "ana", "finding", "close", ISMS, "F1"])
        .fails();
    assert!(
        refused.stderr.contains("may not close a finding"),
        "{}",
        refused.stderr
    );
    let closed = m
        .run(&[
            "--as",
            "aus",
            "finding",
            "close",
            ISMS,
            "F1",
            "--note",
            "log checked",
        ])
        .ok();
    assert!(closed.stdout.contains("closed by aus"), "{}", closed.stdout);
    assert_eq!(certificate_state(&m), "valid");
    assert_eq!(compliance(&m), before);
    let open = m.run(&["finding", "list", ISMS, "--open"]).ok();
    assert!(
        open.stdout.contains("has no open finding"),
        "{}",
        open.stdout
    );

    // The audit programme and the trail.
    m.run(&[
        "--as",
        "aus",
        "isms",
        "audit-held",
        ISMS,
        "external-audit",
        "--on",
        "2026-06-01",
    ])
    .ok();
    let audits = m.run(&["isms", "audits", ISMS, "--json"]).ok().json();
    let external = audits
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "external-audit")
        .unwrap();
    assert_eq!(external["last"], "2026-06-01");
    assert_eq!(external["due"], "2028-05-31");
    let trail = m.run(&["audit", "log", "--json"]).ok().stdout;
    for action in [
        "isms.approve",
        "isms.certify",
        "isms.finding.add",
        "isms.finding.respond",
        "isms.finding.done",
        "isms.finding.close",
        "isms.audit.record",
    ] {
        assert!(trail.contains(action), "{action}");
    }
    m.run(&["audit", "verify"]).ok();
}
