//! GSGS through the real binary: generation, incremental updates, SoA and report.

mod common;

use common::Mmsm;
use serde_json::Value;

const WORKED: &str = "tests/fixtures/worked";
const PROFILE: &str = "tests/fixtures/worked-profile.yaml";

fn close(a: &Value, b: f64) -> bool {
    (a.as_f64().unwrap_or(f64::NAN) - b).abs() < 1e-9
}

fn with_worked_schema() -> Mmsm {
    let m = Mmsm::new();
    m.run(&["schema", "import", WORKED]).ok();
    m
}

fn generate(m: &Mmsm, profile: &str) -> Value {
    m.run(&["isms", "generate", profile, "--json"]).ok().json()
}

/// Writes the worked profile with `edits` (text replaced) as `name` in the
/// temp dir; returns its path.
fn edited_profile(m: &Mmsm, name: &str, edits: &[(&str, &str)]) -> String {
    let mut text = std::fs::read_to_string(common::repo_root().join(PROFILE)).unwrap();
    for (from, to) in edits {
        text = text.replace(from, to);
    }
    let path = m.path(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn generation_gives_the_worked_example_exactly() {
    let m = with_worked_schema();
    let out = generate(&m, PROFILE);
    let id = out["id"].as_str().unwrap().to_owned();
    assert_eq!(id, "worked-example");
    assert_eq!(out["schema"]["id"], "worked");
    assert!(
        out["schema"]["reason"]
            .as_str()
            .unwrap()
            .contains("sector `veterinary` and size `small`"),
        "{}",
        out["schema"]
    );
    let board = &out["board"];
    assert_eq!(board["isms"], id.as_str());
    // C(8.20) = 0.5, C(8.6) = 1: the domain and ISMS are their mean.
    assert!(close(&board["compliance"], 75.0), "{board}");
    assert_eq!(
        board["maturity"]["current"], 0,
        "level 1 needs 80 %: 2 of 3 yes is 66.7 %"
    );
    assert_eq!(board["maturity"]["target"], 1);

    let risks = m.run(&["isms", "risks", &id, "--json"]).ok().json();
    let r = &risks[0];
    assert_eq!(
        (r["asset"].as_str(), r["threat"].as_str()),
        (Some("erp"), Some("A.24"))
    );
    assert!(close(&r["impact"], 72.0), "{r}");
    assert!(close(&r["potential"], 43.2), "{r}");
    assert!(close(&r["vulnerability"], 36.0), "{r}");
    assert!(close(&r["residual"], 15.552), "{r}");
    assert_eq!(r["level"], 2);

    let plan = m.run(&["isms", "plan", &id, "--json"]).ok().json();
    assert_eq!(plan[0]["control"], "8.20");
    assert_eq!(plan[0]["subcontrols"][0], "8.20.2");
    assert!(
        close(&plan[0]["risk_reduction"], 43.2 * (36.0 - 12.0) / 100.0),
        "{plan}"
    );

    let explained = m.run(&["isms", "risks", &id, "--explain"]).ok().stdout;
    assert!(
        explained.contains("residual(erp, A.24) = 43.2 * 36 / 100"),
        "{explained}"
    );
    assert!(
        explained.contains("Vul(A.24) = 100 * (1 - 0.5*0.8) * (1 - 1*0.4)"),
        "{explained}"
    );
}

#[test]
fn a_profile_with_a_bad_id_fails_located_and_stores_nothing() {
    let m = with_worked_schema();
    let bad = edited_profile(&m, "bad.yaml", &[("8.20.2", "8.20.9")]);
    let run = m.run(&["isms", "generate", &bad]).fails();
    assert!(
        run.stderr.contains("bad.yaml: answer `8.20.9`: unknown subcontrol; expected a subcontrol of schema `worked` (did you mean `8.20.1`?)"),
        "{}",
        run.stderr
    );
    assert_eq!(
        m.run(&["isms", "list", "--json"]).ok().json(),
        serde_json::json!([])
    );
}

#[test]
fn answers_one_by_one_equal_generating_from_the_final_profile() {
    let m = with_worked_schema();
    let first = generate(&m, PROFILE)["id"].as_str().unwrap().to_owned();
    let step = m
        .run(&["isms", "answer", &first, "8.20.2", "yes", "--json"])
        .ok()
        .json();
    let changed: Vec<&str> = step["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["subject"].as_str().unwrap())
        .collect();
    assert!(changed.contains(&"control:8.20"), "{changed:?}");
    assert!(changed.contains(&"risk:erp/A.24"), "{changed:?}");
    m.run(&["isms", "answer", &first, "8.6.1", "partial"]).ok();

    let final_profile = edited_profile(
        &m,
        "final.yaml",
        &[
            ("\"8.20.2\": no", "\"8.20.2\": yes"),
            ("\"8.6.1\": yes", "\"8.6.1\": partial"),
        ],
    );
    let second = generate(&m, &final_profile)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(second, "worked-example-2");

    let board = |id: &str| {
        let mut b = m.run(&["isms", "board", id, "--json"]).ok().json();
        b["isms"] = Value::Null;
        b
    };
    assert_eq!(board(&first), board(&second));
    let risks = |id: &str| m.run(&["isms", "risks", id, "--json"]).ok().json();
    assert_eq!(risks(&first), risks(&second));

    let report = m.path("trend.html");
    m.run(&["isms", "report", &first, "-o", report.to_str().unwrap()])
        .ok();
    let html = std::fs::read_to_string(report).unwrap();
    assert!(
        html.contains("<h2>Trends</h2>"),
        "three board snapshots make a trend chart"
    );
    assert!(html.contains("3 board snapshots"), "{html}");

    let history = m.run(&["isms", "history", &first, "--json"]).ok().json();
    let causes: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["cause"].as_str().unwrap())
        .collect();
    assert_eq!(causes, ["generate", "answer", "answer"]);
}

#[test]
fn asset_revaluation_changes_the_risk() {
    let m = with_worked_schema();
    let id = generate(&m, PROFILE)["id"].as_str().unwrap().to_owned();
    let out = m
        .run(&[
            "isms",
            "asset",
            &id,
            "erp",
            "--value",
            "D=10,I=6,C=5",
            "--json",
        ])
        .ok()
        .json();
    let risk = out["changed"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["subject"] == "risk:erp/A.24")
        .unwrap();
    assert!(
        close(&risk["before"], 15.552) && close(&risk["after"], 90.0 * 0.6 * 0.36),
        "{risk}"
    );
    let bad = m
        .run(&["isms", "asset", &id, "erp", "--value", "D=12"])
        .fails();
    assert!(
        bad.stderr
            .contains("D=12 is out of range; expected a value 0..10"),
        "{}",
        bad.stderr
    );
    let unknown = m.run(&["isms", "answer", &id, "9.9.9", "yes"]).fails();
    assert!(unknown.stderr.contains("9.9.9"), "{}", unknown.stderr);
}

#[test]
fn the_xlsx_soa_has_one_row_per_control() {
    use calamine::{open_workbook, Reader, Xlsx};
    let m = with_worked_schema();
    let id = generate(&m, PROFILE)["id"].as_str().unwrap().to_owned();
    let path = m.path("soa.xlsx");
    m.run(&[
        "isms",
        "soa",
        &id,
        "--format",
        "xlsx",
        "-o",
        path.to_str().unwrap(),
    ])
    .ok();
    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    let range = workbook
        .worksheet_range("Statement of Applicability")
        .unwrap();
    let rows: Vec<Vec<String>> = range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    let header = rows
        .iter()
        .position(|r| r.first().map(String::as_str) == Some("Control"))
        .unwrap();
    let controls: Vec<&str> = rows[header + 1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(controls, ["8.20", "8.6"]);
    assert_eq!(rows[header + 1][5], "50");

    let csv = m.run(&["isms", "soa", &id, "--format", "csv"]).ok().stdout;
    assert_eq!(csv.lines().count(), 3, "{csv}");
}

#[test]
fn the_html_report_parses_and_holds_the_board_figures() {
    let m = with_worked_schema();
    let id = generate(&m, PROFILE)["id"].as_str().unwrap().to_owned();
    let path = m.path("report.html");
    m.run(&[
        "isms",
        "report",
        &id,
        "--format",
        "html",
        "-o",
        path.to_str().unwrap(),
    ])
    .ok();
    let html = std::fs::read_to_string(&path).unwrap();
    let dom = tl::parse(&html, tl::ParserOptions::default()).unwrap();
    let parser = dom.parser();
    let text_of = |id: &str| {
        dom.get_element_by_id(id)
            .and_then(|h| h.get(parser))
            .map(|n| n.inner_text(parser).into_owned())
            .unwrap_or_default()
    };
    assert_eq!(text_of("compliance"), "75.0&nbsp;%");
    assert_eq!(text_of("maturity"), "0 of 3");
    assert_eq!(text_of("risk-max"), "15.55");
    let svgs = dom.query_selector("svg").unwrap().count();
    assert_eq!(svgs, 3, "gauge, domain bars and heat map");
    assert!(
        !html.contains("<script"),
        "the report is self-contained and static"
    );

    let md = m.path("report.md");
    m.run(&[
        "isms",
        "report",
        &id,
        "--format",
        "md",
        "-o",
        md.to_str().unwrap(),
    ])
    .ok();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("Overall compliance: **75.0 %**"), "{md}");
}

#[test]
fn names_longer_than_120_characters_are_refused_with_their_length() {
    let m = with_worked_schema();
    let long = format!("\"{}\"", "E".repeat(10_240));
    let file = edited_profile(&m, "long.yaml", &[("\"ERP server\"", &long)]);
    let run = m.run(&["isms", "generate", &file]).fails();
    assert!(
        run.stderr
            .contains("asset `erp`: the name has 10240 characters; at most 120"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.len() < 2_000,
        "the message does not repeat the text"
    );
}

#[test]
fn the_markdown_report_shows_typed_html_as_text() {
    // Issue 17: an asset named `<script>alert(1)</script>` was live HTML in the
    // Markdown report (most viewers render HTML in Markdown), and `|` broke tables.
    let m = with_worked_schema();
    let file = edited_profile(
        &m,
        "hostile.yaml",
        &[("\"ERP server\"", "\"<script>alert(1)</script> | ERP\"")],
    );
    let id = generate(&m, &file)["id"].as_str().unwrap().to_owned();
    let md = m.path("hostile.md");
    m.run(&[
        "isms",
        "report",
        &id,
        "--format",
        "md",
        "-o",
        md.to_str().unwrap(),
    ])
    .ok();
    let md = std::fs::read_to_string(md).unwrap();
    assert!(!md.contains("<script"), "{md}");
    assert!(
        md.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\| ERP"),
        "{md}"
    );
}

#[test]
fn generating_a_folder_reports_failures_per_file_and_goes_on() {
    let m = with_worked_schema();
    let dir = m.path("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(common::repo_root().join(PROFILE)).unwrap();
    for n in 0..3 {
        std::fs::write(
            dir.join(format!("p{n}.yaml")),
            good.replace("Worked Example", &format!("Enterprise {n}")),
        )
        .unwrap();
    }
    std::fs::write(dir.join("p9.yaml"), good.replace("type: HW", "type: XX")).unwrap();
    let run = m
        .run(&["isms", "generate", dir.to_str().unwrap(), "--json"])
        .fails();
    let out = run.json();
    assert_eq!(out["generated"].as_array().unwrap().len(), 3);
    assert_eq!(out["failed"].as_array().unwrap().len(), 1);
    assert!(out["failed"][0]["error"]
        .as_str()
        .unwrap()
        .contains("unknown asset type `XX`"));
    assert_eq!(
        m.run(&["isms", "list", "--json"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn only_consultants_generate() {
    let m = with_worked_schema();
    let run = m.run(&["isms", "generate", PROFILE, "--as", "ana"]).fails();
    assert!(
        run.stderr.contains("`ana` may not generate an ISMS"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_profile_template_lists_every_question() {
    let m = with_worked_schema();
    let out = m.path("template.yaml");
    m.run(&[
        "profile",
        "template",
        "--schema",
        "worked",
        "-o",
        out.to_str().unwrap(),
    ])
    .ok();
    let text = std::fs::read_to_string(out).unwrap();
    for id in ["8.20.1", "8.20.2", "8.6.1"] {
        assert!(
            text.contains(&format!("# \"{id}\": unknown")),
            "{id}\n{text}"
        );
    }
    assert!(text.contains("# ===== 8 Technological ====="), "{text}");
    assert!(
        text.contains("# [level 1] Is the office network behind a firewall?"),
        "{text}"
    );
}

#[test]
fn the_base_schemas_profile_template_generates_as_written() {
    // Its ~300 questions are comment lines; the YAML reader once refused more
    // than 96 comments in a row ("too many buffered comments", issue 18).
    let m = Mmsm::new();
    let out = m.path("template.yaml");
    m.run(&["profile", "template", "-o", out.to_str().unwrap()])
        .ok();
    let generated = m
        .run(&["isms", "generate", out.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(generated["schema"]["id"], "base", "{generated}");
    // As written the template answers nothing: every question is flagged.
    let board = &generated["board"];
    assert_eq!(board["compliance"], 0.0, "{board}");
    assert!(board["flagged"].as_u64().unwrap() > 250, "{board}");
}

#[test]
fn the_demo_generates_the_sample_sme_on_the_health_schema_and_writes_its_report() {
    let m = Mmsm::new();
    let out = m.path("out");
    let demo = m
        .run(&["demo", "--out", out.to_str().unwrap(), "--json"])
        .ok()
        .json();
    let id = demo["isms"].as_str().unwrap().to_owned();
    assert_eq!(id, "clinica-dental-sonrisa");
    assert_eq!(demo["board"]["schema"]["id"], "health-small");
    // 93 annex controls, 24 clauses of the management system, 5 health care controls.
    assert_eq!(demo["board"]["controls"].as_array().unwrap().len(), 122);
    assert_eq!(
        demo["board"]["flagged"], 4,
        "the sample answers every question; 4 answers are `unknown`"
    );
    let report = std::path::PathBuf::from(demo["report"].as_str().unwrap());
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("Clinica Dental Sonrisa"));
    let text = visible_text(&html);
    let section = |from: &str, to: &str| {
        let start = text
            .find(from)
            .unwrap_or_else(|| panic!("no section {from}"));
        let end = start + text[start..].find(to).unwrap_or(text.len() - start);
        text[start..end].to_owned()
    };
    // Its applicable laws, from its business checklist: established in Spain,
    // holding health data, taking cards, not a supplier of public bodies.
    let laws = section("Laws and obligations", "Risks");
    for law in [
        "GDPR Art. 9 Special categories",
        "GDPR Art. 32 Security of processing",
        "LOPDGDD Art. 34",
        "PCI-DSS Req. 3",
    ] {
        assert!(laws.contains(law), "{law} missing: {laws}");
    }
    assert!(
        !laws.contains("ENS "),
        "no ENS for a clinic that supplies no public body: {laws}"
    );
    // Its high risks: ransomware on the practice system, patient records disclosed.
    let risks = section("Residual, after the controls in place", "Improvement plan");
    for (asset, threat) in [
        ("Practice management software", "A.8 "),
        ("Patient records", "A.19 "),
    ] {
        let row = risks.split(" high").any(|chunk| {
            // The row ends the chunk: asset, threat, figures, then " high".
            chunk.rfind(asset).is_some_and(|at| {
                let row = &chunk[at..];
                row.len() < 160 && row.contains(threat)
            })
        });
        assert!(row, "{asset} {threat} is not high: {risks}");
    }
    // Its clause 4-10 gaps, each with the questions still open.
    let gaps = section("Management system gaps", "Laws and obligations");
    assert!(
        gaps.contains("C9.2 Internal audit") || gaps.contains("C4.1 "),
        "{gaps}"
    );
    assert!(
        gaps.contains('?'),
        "each gap lists its open questions: {gaps}"
    );
    // Every exclusion of its SoA says why.
    assert!(
        !text.contains("INCOMPLETE"),
        "an exclusion without its reason"
    );
    let compliance = demo["board"]["compliance"].as_f64().unwrap();
    assert!(
        html.contains(&format!("{compliance:.1}&nbsp;%")),
        "the report shows the board's compliance"
    );

    // Every ISMS figure is consistent with the stored board and the plan is not empty.
    let board = m.run(&["isms", "board", &id, "--json"]).ok().json();
    assert_eq!(board, demo["board"]);
    let plan = m.run(&["isms", "plan", &id, "--json"]).ok().json();
    assert!(!plan.as_array().unwrap().is_empty());
    let show = m.run(&["isms", "show", &id, "--json"]).ok().json();
    assert!(show["instantiated"]["procedures"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p == "incident-management"));
    assert_eq!(show["inputs"]["assets"].as_array().unwrap().len(), 15);
}

/// One write the crash test sends: the arguments, and for an answer, which.
struct Write {
    args: Vec<String>,
    answer: Option<(&'static str, &'static str)>,
    generates: Option<String>,
}

/// Crash consistency (issue 18): real processes answering, revaluing and
/// generating are killed with SIGKILL at seeded random moments; after every
/// trial the store must open with every ISMS whole, its summary row equal to
/// its board, the audit chain intact, and every acknowledged write kept.
/// `MMSM_CRASH_TRIALS` runs longer (default 50).
#[test]
fn killing_writers_at_random_moments_loses_no_acknowledged_write() {
    let trials: usize = std::env::var("MMSM_CRASH_TRIALS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);
    let m = with_worked_schema();
    let id = generate(&m, PROFILE)["id"].as_str().unwrap().to_owned();
    let mut seed: u64 = 0x5eed_2026;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let subs = ["8.20.1", "8.20.2", "8.6.1"];
    let values = ["yes", "no", "partial", "na", "unknown"];
    // Per subcontrol: every value sent, in order, and whether it was acknowledged.
    let mut sent: std::collections::BTreeMap<&str, Vec<(&str, bool)>> = Default::default();
    let mut acknowledged_answers = 0;
    let mut killed = 0;
    let mut generated = Vec::new();
    for trial in 0..trials {
        let write = match next(4) {
            0 => {
                let name = format!("Crash {trial}");
                let file = edited_profile(
                    &m,
                    &format!("crash-{trial}.yaml"),
                    &[("Worked Example", &name)],
                );
                Write {
                    args: vec!["isms".into(), "generate".into(), file],
                    answer: None,
                    generates: Some(format!("crash-{trial}")),
                }
            }
            1 => Write {
                args: ["isms", "asset", &id, "erp", "--value"]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([format!("D={},I=4,C=2", 1 + next(9))])
                    .collect(),
                answer: None,
                generates: None,
            },
            _ => {
                let sub = subs[next(3) as usize];
                let value = values[next(5) as usize];
                Write {
                    args: ["isms", "answer", &id, sub, value]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                    answer: Some((sub, value)),
                    generates: None,
                }
            }
        };
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mmsm"))
            .arg("--data")
            .arg(m.data())
            .args(&write.args)
            .env_remove("MMSM_DATA")
            .current_dir(common::repo_root())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(next(60_000)));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let acknowledged = status.success();
        killed += usize::from(!acknowledged);
        if let Some((sub, value)) = write.answer {
            sent.entry(sub).or_default().push((value, acknowledged));
            acknowledged_answers += usize::from(acknowledged);
        }
        if let (Some(generated_id), true) = (write.generates, acknowledged) {
            generated.push(generated_id);
        }

        // After every kill: the store opens and holds together.
        let verify = m.run(&["audit", "verify", "--json"]).ok().json();
        assert_eq!(verify["intact"], true, "trial {trial}: {verify}");
    }
    assert!(acknowledged_answers > 0, "some writes must finish");
    assert!(killed > 0, "some writes must be killed");

    let listed = m.run(&["isms", "list", "--json"]).ok().json();
    let listed = listed.as_array().unwrap();
    for g in &generated {
        assert!(
            listed.iter().any(|l| l["id"] == g.as_str()),
            "acknowledged {g} is kept"
        );
    }
    for row in listed {
        let isms = row["id"].as_str().unwrap();
        m.run(&["isms", "show", isms, "--json"]).ok();
        let board = m.run(&["isms", "board", isms, "--json"]).ok().json();
        assert_eq!(
            row["compliance"], board["compliance"],
            "{isms}: summary row and board"
        );
        assert_eq!(row["current"], board["maturity"]["current"], "{isms}");
    }
    let record = m.run(&["isms", "show", &id, "--json"]).ok().json();
    for (sub, history) in &sent {
        // The stored answer is the last acknowledged one or one sent after it.
        let last_ack = history.iter().rposition(|(_, ack)| *ack);
        let Some(last_ack) = last_ack else { continue };
        let stored = record["inputs"]["answers"][*sub].as_str().unwrap_or("none");
        assert!(
            history[last_ack..].iter().any(|(v, _)| *v == stored),
            "{sub}: stored {stored}, sent {history:?}"
        );
    }
    let log = m
        .run(&["audit", "log", "--isms", &id, "--json"])
        .ok()
        .json();
    let answers_logged = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "isms.answer")
        .count();
    let attempted: usize = sent.values().map(Vec::len).sum();
    assert!(
        (acknowledged_answers..=attempted).contains(&answers_logged),
        "{answers_logged} answers in the trail, {acknowledged_answers} acknowledged, {attempted} sent"
    );
}

#[test]
fn the_schema_made_for_the_sector_wins_and_every_other_sector_gets_the_wildcard_schema() {
    // Issue 16: a schema whose sectors are "*" was never chosen automatically.
    let m = Mmsm::new();
    let mut choices = Vec::new();
    for (name, sector) in [
        ("Clinica Norte", "health"),
        ("Asesoria Sur", "professional-services"),
    ] {
        let file = m.path(&format!("{sector}.yaml"));
        std::fs::write(
            &file,
            format!(
                "enterprise: {{ name: \"{name}\", sector: {sector}, employees: 12 }}\nassets: [{{ id: pc, name: Office PC, type: HW, values: {{ D: 4 }} }}]\n"
            ),
        )
        .unwrap();
        let out = m
            .run(&["isms", "generate", file.to_str().unwrap(), "--json"])
            .ok()
            .json();
        choices.push(out["schema"].clone());
    }
    // A shop is made for retail-small.
    let shop = m.path("shop.yaml");
    std::fs::write(
        &shop,
        "enterprise: { name: \"Tienda Sur\", sector: retail, employees: 6 }\nassets: [{ id: till, name: Till, type: HW.pos, values: { D: 5 } }]\n",
    )
    .unwrap();
    let out = m
        .run(&["isms", "generate", shop.to_str().unwrap(), "--json"])
        .ok()
        .json();
    assert_eq!(out["schema"]["id"], "retail-small", "{out}");
    assert_eq!(choices[0]["id"], "health-small", "{}", choices[0]);
    assert!(choices[0]["reason"]
        .as_str()
        .unwrap()
        .contains("made for sector `health`"));
    assert_eq!(choices[1]["id"], "base", "{}", choices[1]);
    assert!(
        choices[1]["reason"].as_str().unwrap().contains(
            "made for every sector (no schema is made for sector `professional-services` alone)"
        ),
        "{}",
        choices[1]
    );
}

#[test]
fn the_heat_map_legend_counts_what_its_colours_show() {
    // Issue 17: cells coloured by potential risk sat above a legend counting
    // residual risk ("high: 0" under red cells).
    let m = Mmsm::new();
    let out = m.path("out");
    let demo = m
        .run(&["demo", "--out", out.to_str().unwrap(), "--json"])
        .ok()
        .json();
    let id = demo["isms"].as_str().unwrap();
    let file = m.path("report.json");
    m.run(&[
        "isms",
        "report",
        id,
        "--format",
        "json",
        "-o",
        file.to_str().unwrap(),
    ])
    .ok();
    let report: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let mut by_colour: std::collections::BTreeMap<String, u64> = Default::default();
    for cell in report["heat_map"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
    {
        *by_colour
            .entry(cell["color"].as_str().unwrap().to_owned())
            .or_default() += cell["count"].as_u64().unwrap();
    }
    let mut total = 0;
    for band in report["potential_bands"].as_array().unwrap() {
        let shown = by_colour
            .get(band["color"].as_str().unwrap())
            .copied()
            .unwrap_or(0);
        assert_eq!(band["count"].as_u64().unwrap(), shown, "{band}");
        total += shown;
    }
    let residual: u64 = report["risk_bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, residual, "both legends count every pair");
    assert!(total > 0);
}

#[test]
fn why_keeps_the_reasons_of_an_answer_for_the_soa_and_nothing_given_removes_them() {
    let m = with_worked_schema();
    generate(&m, "tests/fixtures/worked-profile.yaml");
    let isms = "worked-example";
    m.run(&["isms", "answer", isms, "8.6.1", "na"]).ok();
    let kept = m
        .run(&[
            "isms",
            "why",
            isms,
            "8.6.1",
            "--justification",
            "the hosting provider watches capacity",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(
        kept["why"]["justification"],
        "the hosting provider watches capacity"
    );
    let soa = m.run(&["isms", "soa", isms, "--format", "csv"]).ok().stdout;
    assert!(
        soa.contains("8.6.1: the hosting provider watches capacity"),
        "{soa}"
    );
    let missing = m
        .run(&[
            "isms",
            "why",
            isms,
            "8.6.1",
            "--evidence-file",
            "nothing.csv",
        ])
        .fails();
    assert!(
        missing.stderr.contains("upload it first"),
        "{}",
        missing.stderr
    );
    let removed = m.run(&["isms", "why", isms, "8.6.1", "--json"]).ok().json();
    assert!(removed["why"].is_null());
    let soa = m.run(&["isms", "soa", isms, "--format", "csv"]).ok().stdout;
    assert!(soa.contains("INCOMPLETE"), "{soa}");
}

/// The text a reader sees in an HTML page: tags dropped, entities and spaces folded.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
