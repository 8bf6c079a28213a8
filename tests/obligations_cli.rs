//! Issue 16.2 and 16.7 through the CLI: the legal catalogue applied to an ISMS from its
//! business checklist, and a business answer given again after generation.

mod common;

use common::Mmsm;
use serde_json::Value;

fn row<'a>(rows: &'a Value, id: &str) -> &'a Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .unwrap_or_else(|| panic!("no obligation {id} in {rows}"))
}

fn obligations(m: &Mmsm, isms: &str) -> Value {
    m.run(&["isms", "obligations", isms, "--json"]).ok().json()
}

#[test]
fn a_business_answer_switches_an_obligation_and_its_compliance_is_its_controls() {
    let m = Mmsm::new();
    let id = common::worked_isms(&m);

    // Unanswered: undetermined, and the CLI says which question decides.
    let pci = row(&obligations(&m, &id), "PCI-DSS-1").clone();
    assert_eq!(pci["applies"]["state"], "undetermined", "{pci}");
    assert_eq!(pci["compliance"], Value::Null);
    let text = m.run(&["isms", "obligations", &id]).ok().stdout;
    assert!(
        text.contains("1 in the catalogue: 0 obligations of the legal catalogue apply")
            && text.contains("1 more may apply")
            && text.contains("undetermined: answer card_payments"),
        "{text}"
    );

    // Answered yes: it applies, met as far as 8.20 is (one of two questions yes: 50 %).
    let updated = m
        .run(&["isms", "business", &id, "card_payments", "yes", "--json"])
        .ok()
        .json();
    assert_eq!(updated["change"]["kind"], "business", "{updated}");
    assert_eq!(updated["change"]["value"], true, "{updated}");
    let pci = row(&obligations(&m, &id), "PCI-DSS-1").clone();
    assert_eq!(pci["applies"]["state"], "applies", "{pci}");
    assert_eq!(pci["compliance"], 50.0, "{pci}");
    assert_eq!(pci["state"], "partly met");
    assert_eq!(pci["controls"][0]["control"], "8.20");
    // The SoA names it as a requirement of 8.20.
    let soa = m.run(&["isms", "soa", &id, "--json"]).ok().json();
    let firewall = soa
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["control"] == "8.20")
        .unwrap();
    assert!(
        firewall["requirements"][0]
            .as_str()
            .unwrap()
            .starts_with("PCI-DSS Req. 1"),
        "{firewall}"
    );
    assert!(firewall["reason"]
        .as_str()
        .unwrap()
        .contains("required by PCI-DSS Req. 1"));

    // The control's answer moves the obligation at once.
    m.run(&["isms", "answer", &id, "8.20.2", "yes"]).ok();
    let pci = row(&obligations(&m, &id), "PCI-DSS-1").clone();
    assert_eq!(
        (pci["compliance"].clone(), pci["state"].clone()),
        (100.0.into(), "met".into())
    );

    // No: it does not apply, and says why.
    m.run(&["isms", "business", &id, "card_payments", "No"])
        .ok();
    let pci = row(&obligations(&m, &id), "PCI-DSS-1").clone();
    assert_eq!(pci["applies"]["state"], "does_not_apply");
    assert_eq!(
        pci["because"],
        "does not apply: it needs card_payments is yes (answered no)"
    );
    let all = m.run(&["isms", "obligations", &id, "--all"]).ok().stdout;
    assert!(all.contains("Do not apply:\n  PCI-DSS Req. 1 Install and maintain network security controls: does not apply"), "{all}");

    // Wrong answers and unknown questions are refused, naming what was expected.
    let bad = m
        .run(&["isms", "business", &id, "card_payments", "sometimes"])
        .fails();
    assert!(
        bad.stderr
            .contains("`sometimes` does not answer card_payments")
            && bad.stderr.contains("expected yes or no"),
        "{}",
        bad.stderr
    );
    let unknown = m.run(&["isms", "business", &id, "cards", "yes"]).fails();
    assert!(
        unknown.stderr.contains("cards") && unknown.stderr.contains("card_payments"),
        "{}",
        unknown.stderr
    );
    // A user who is not the officer or the consultant may not change what the enterprise is.
    m.run(&[
        "isms", "user", "add", &id, "eva", "--name", "Eva", "--role", "Cl/US",
    ])
    .ok();
    let refused = m
        .run(&[
            "--as",
            "eva",
            "isms",
            "business",
            &id,
            "card_payments",
            "yes",
        ])
        .fails();
    assert!(refused.stderr.contains("Cl/RS"), "{}", refused.stderr);
    // The history keeps each answer as its cause.
    let history = m.run(&["isms", "history", &id, "--json"]).ok().json();
    let causes: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert!(causes.contains(&"business"), "{causes:?}");
}
