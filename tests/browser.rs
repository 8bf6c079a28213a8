//! End to end in headless Chromium, driven over WebDriver (chromedriver):
//! log in, fill the generation form with the technical checklist and
//! generate, answer a subcontrol with save-as-you-go and see the board
//! change, read the SoA and the audit trail; take the culture test, report
//! an incident, move it to its close and accept the suggestion it raises.
//! Screenshots go to
//! `target/screenshots/`. Without chromedriver the test fails: `.ci/run`
//! installs `chromium` and `chromium-driver`.

mod common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{msgs_store, prepared_store, Server, MSGS_ALL_RIGHT, PASSWORD};
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session on a chromedriver we started.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
    shots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self
            .agent
            .delete(format!("{}/session/{}", self.base, self.session))
            .call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    fn start() -> Browser {
        let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| {
                panic!("chromedriver is not installed: run `apt-get install -y chromium chromium-driver` (.ci/run does)")
            });
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start on {base}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync",
                         "--no-first-run", "--window-size=1200,900"]
            }
        }}});
        let mut r = agent
            .post(format!("{base}/session"))
            .send_json(&caps)
            .expect("a WebDriver session");
        let v: Value = r.body_mut().read_json().unwrap();
        let session = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            driver,
            base,
            session,
            agent,
            shots,
        }
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let r = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).send_json(&body),
        };
        let mut r = r.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let v: Value = r.body_mut().read_json().unwrap();
        if r.status().as_u16() != 200 {
            panic!("{method} {path}: {v}");
        }
        v["value"].clone()
    }

    fn go(&self, url: &str) {
        self.cmd("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let url = format!("{}/session/{}/element", self.base, self.session);
            let mut r = self
                .agent
                .post(&url)
                .send_json(json!({ "using": "css selector", "value": css }))
                .unwrap();
            let v: Value = r.body_mut().read_json().unwrap();
            if let Some(id) = v["value"][ELEMENT].as_str() {
                return id.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "no element `{css}` on the page: {v}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn type_in(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.cmd("POST", &format!("/element/{id}/clear"), json!({}));
        self.cmd(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.cmd("GET", &format!("/element/{id}/text"), json!({}))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The element's text, or `None` while the page is loading or changing.
    fn try_text(&self, css: &str) -> Option<String> {
        let url = format!("{}/session/{}/element", self.base, self.session);
        let mut r = self
            .agent
            .post(&url)
            .send_json(json!({ "using": "css selector", "value": css }))
            .ok()?;
        let v: Value = r.body_mut().read_json().ok()?;
        let id = v["value"][ELEMENT].as_str()?.to_owned();
        let mut r = self.agent.get(format!("{url}/{id}/text")).call().ok()?;
        if r.status().as_u16() != 200 {
            return None;
        }
        let v: Value = r.body_mut().read_json().ok()?;
        v["value"].as_str().map(str::to_owned)
    }

    fn wait_text(&self, css: &str, wanted: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let t = self.try_text(css).unwrap_or_default();
            if t.contains(wanted) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` says `{t}`, not `{wanted}`"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The current value of a form control (what the user sees in it).
    fn value(&self, css: &str) -> String {
        let id = self.find(css);
        self.cmd("GET", &format!("/element/{id}/property/value"), json!({}))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Sets a form control's value by script: date inputs take typed text
    /// in the browser's locale format, which a test should not depend on.
    fn set_value(&self, css: &str, value: &str) {
        self.find(css);
        self.cmd(
            "POST",
            "/execute/sync",
            json!({ "script": "document.querySelector(arguments[0]).value = arguments[1];", "args": [css, value] }),
        );
    }

    /// Checks the page for what keyboard and screen-reader users need:
    /// every visible form control has a label, every button and link a
    /// name, every chart a title, ids are unique, and the page has a
    /// language and one h1. Panics with the page's problems.
    fn assert_accessible(&self) {
        let problems = self.a11y_problems();
        assert!(
            problems.is_empty(),
            "{}: {}",
            self.url(),
            problems.join("; ")
        );
    }

    /// The browser console's entries since the last read.
    fn drain_console(&self) -> Value {
        let url = format!("{}/session/{}/se/log", self.base, self.session);
        let mut r = self
            .agent
            .post(&url)
            .send_json(json!({ "type": "browser" }))
            .unwrap();
        r.body_mut().read_json().unwrap()
    }

    /// Panics when the browser's console logged an error since the last
    /// read (an invalid `pattern`, a failed script, a missing resource).
    fn assert_no_console_errors(&self) {
        let v = self.drain_console();
        let errors: Vec<String> = v["value"]
            .as_array()
            .unwrap_or_else(|| panic!("the browser log cannot be read: {v}"))
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(errors.is_empty(), "{}: {}", self.url(), errors.join("; "));
    }

    fn a11y_problems(&self) -> Vec<String> {
        let problems = self.cmd(
            "POST",
            "/execute/sync",
            json!({ "script": A11Y_CHECK, "args": [] }),
        );
        serde_json::from_value(problems).unwrap()
    }

    fn url(&self) -> String {
        self.cmd("GET", "/url", json!({}))
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Saves a screenshot of the page (a test artefact) after checking that
    /// the page is accessible.
    fn screenshot(&self, name: &str) {
        self.assert_accessible();
        let b64 = self.cmd("GET", "/screenshot", json!({}));
        let png = decode_base64(b64.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    fn resize(&self, width: u32, height: u32) {
        self.cmd(
            "POST",
            "/window/rect",
            json!({ "width": width, "height": height }),
        );
    }
}

/// The accessibility checks of [`Browser::assert_accessible`], run in the page.
const A11Y_CHECK: &str = r#"
var problems = [];
var named = function (el) {
  if (el.getAttribute("aria-label") || el.getAttribute("aria-labelledby")) return true;
  if (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) return true;
  return !!el.closest("label");
};
document.querySelectorAll("input, select, textarea").forEach(function (el) {
  if (el.type === "hidden") return;
  if (!named(el)) problems.push("unlabelled " + el.tagName.toLowerCase() + " " + (el.name || el.id));
});
document.querySelectorAll("button, a").forEach(function (el) {
  if (!(el.textContent || "").trim() && !el.getAttribute("aria-label")) problems.push("unnamed " + el.tagName.toLowerCase());
});
document.querySelectorAll("svg").forEach(function (el) {
  if (!el.querySelector("title") && el.getAttribute("aria-hidden") !== "true") problems.push("svg without a title");
});
var seen = {};
document.querySelectorAll("[id]").forEach(function (el) {
  if (seen[el.id]) problems.push("duplicate id " + el.id);
  seen[el.id] = true;
});
if (!document.documentElement.lang) problems.push("no lang on html");
if (document.querySelectorAll("h1").length !== 1) problems.push(document.querySelectorAll("h1").length + " h1 elements");
return problems;
"#;

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => 0,
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().filter(|c| **c == b'=').count();
        let n = chunk.iter().fold(0u32, |acc, c| {
            (acc << 6) | if *c == b'=' { 0 } else { value(*c) }
        });
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

fn compliance(b: &Browser) -> f64 {
    b.text("#compliance").trim().parse().unwrap_or(f64::NAN)
}

/// The heat map's pairs per colour, from its cells and from its legend.
const HEAT_COUNTS: &str = r#"
const svg = document.querySelector('svg[aria-labelledby=heat-title]');
const rects = [...svg.querySelectorAll('rect')];
const texts = [...svg.querySelectorAll('text')];
const cells = {}; let total = 0;
rects.forEach((r, i) => {
  const n = parseInt(texts[i].textContent) || 0;
  if (n > 0) { const c = getComputedStyle(r).fill; cells[c] = (cells[c] || 0) + n; total += n; }
});
const legend = {};
document.querySelectorAll('#potential-legend span.dot').forEach(s => {
  const n = parseInt(s.nextSibling.textContent.replace(/[·.]/g, ' ').trim().split(/\s+/).pop()) || 0;
  if (n > 0) { const c = getComputedStyle(s).backgroundColor; legend[c] = (legend[c] || 0) + n; }
});
return { cells, legend, total };
"#;

#[test]
fn a_consultant_generates_an_isms_answers_a_question_and_sees_the_board_change() {
    let m = prepared_store();
    let server = Server::start(&m);
    let b = Browser::start();
    let base = &server.base;

    // The accessibility check finds what it looks for.
    b.go(&format!("{base}/login"));
    b.cmd(
        "POST",
        "/execute/sync",
        json!({ "script": "document.body.appendChild(document.createElement('input'));", "args": [] }),
    );
    assert_eq!(b.a11y_problems(), vec!["unlabelled input "]);

    // Log in.
    b.go(&format!("{base}/login"));
    b.type_in("#user", "admin");
    b.type_in("#password", PASSWORD);
    b.screenshot("01-login");
    b.click("#login");
    b.wait_text("h1", "Enterprises");
    b.screenshot("02-enterprises");

    // Create an enterprise with the business data, an asset and the technical checklist, and generate.
    b.go(&format!("{base}/isms/new?schema=worked"));
    b.type_in("#name", "Browser Vets");
    // No sector is chosen for the consultant (issue 17: one was generated as the first by accident).
    assert_eq!(b.value("#sector"), "");
    b.click("#sector option[value=veterinary]");
    b.type_in("#employees", "14");
    b.type_in("#asset-0-name", "Clinic server");
    b.type_in("#asset-0-D", "8");
    b.type_in("#asset-0-I", "6");
    b.type_in("#asset-0-C", "7");
    b.click("details summary");
    b.click("#sc-8\\.20\\.1 option[value=yes]");
    b.click("#sc-8\\.6\\.1 option[value=partial]");
    b.screenshot("03-generation-form");
    b.click("#generate");
    b.wait_text("h1", "Browser Vets");
    assert!(b.url().ends_with("/isms/browser-vets"), "{}", b.url());
    let first = compliance(&b);
    assert!(first.is_finite(), "the board shows a compliance");
    b.screenshot("04-board-after-generation");

    // Answer a subcontrol: saved as soon as it is chosen, and the board changes.
    b.go(&format!("{base}/isms/browser-vets/checklist"));
    b.wait_text("#progress-text", "2 of 3 answered");
    b.click("#a-8\\.20\\.2 option[value=yes]");
    b.wait_text("#sc-8\\.20\\.2 .saved", "saved");
    b.wait_text("#progress-text", "3 of 3 answered");
    b.screenshot("05-checklist-saved");
    b.go(&format!("{base}/isms/browser-vets"));
    let after = compliance(&b);
    assert!(after > first, "compliance {first} -> {after}");
    b.find("#trend-title"); // the trend chart has two points now
                            // The map's cells and the legend that counts them agree, colour by colour (issue 17.5).
    let counts = b.cmd(
        "POST",
        "/execute/sync",
        json!({ "script": HEAT_COUNTS, "args": [] }),
    );
    assert_eq!(counts["cells"], counts["legend"], "{counts}");
    assert!(counts["total"].as_u64().unwrap() > 0, "{counts}");
    b.screenshot("06-board-after-answer");

    // The SoA, the history and the audit trail show the change.
    b.go(&format!("{base}/isms/browser-vets/soa"));
    b.wait_text("h1", "Statement of Applicability");
    b.go(&format!("{base}/isms/browser-vets/history"));
    b.wait_text("table", "question 8.20.2 answered yes");
    b.wait_text("table", &format!("{first:.1} → {after:.1}"));
    b.go(&format!("{base}/audit"));
    b.wait_text("#chain", "intact");
    b.wait_text("table", "isms.answer");
    b.screenshot("07-audit-trail");

    // The schemas zone learns from the enterprises: statistics without names.
    b.go(&format!("{base}/schemas/worked/stats"));
    b.wait_text("h1", "teach");
    b.wait_text("#gaps", "8.20.2");
    assert!(
        !b.text("main").contains("Browser Vets"),
        "no enterprise is named"
    );

    // At phone width the board still reads.
    b.resize(390, 844);
    b.go(&format!("{base}/isms/browser-vets"));
    b.wait_text("h1", "Browser Vets");
    b.screenshot("08-board-phone");
}

#[test]
fn schema_import_shows_the_errors_in_place_and_an_enterprise_user_cannot_reach_the_schemas() {
    let m = prepared_store();
    let server = Server::start(&m);
    let b = Browser::start();
    let base = &server.base;
    b.go(&format!("{base}/login"));
    b.type_in("#user", "ags");
    b.type_in("#password", PASSWORD);
    b.click("#login");
    b.wait_text("h1", "Enterprises");
    b.go(&format!("{base}/schemas/import"));
    b.type_in("#schema-name", "broken.yaml");
    b.type_in(
        "#schema-text",
        "schema: { id: broken, name: Broken }\ncontrols:\n  - { id: \"1.1\", domain: nowhere, title: T }\n",
    );
    b.click("#import");
    b.wait_text("#errors", "was not imported");
    let errors = b.text("#errors");
    assert!(errors.contains("broken.yaml"), "{errors}");
    b.screenshot("09-schema-import-errors");

    // The architect edits a schema into its next version in the browser.
    b.go(&format!("{base}/schemas/worked"));
    b.click("#edit-next");
    b.wait_text("h1", "next version");
    let document = b.value("#schema-text");
    assert!(document.contains("id: worked"), "{document}");
    let revised = document.replacen(
        "name: Worked example of the risk model",
        "name: Worked example, revised",
        1,
    );
    assert_ne!(revised, document, "the header's name is in the document");
    b.set_value("#schema-text", &revised);
    b.click("#import");
    b.wait_text("h1", "Worked example, revised");
    b.wait_text("h1", "version 2");
    b.go(&format!("{base}/schemas/worked/diff?v1=1&v2=2"));
    // Each changed field with its value before and after (issue 17.10).
    b.wait_text("#diff", "schema worked");
    let diff = b.text("#diff");
    assert!(
        diff.contains("Worked example of the risk model")
            && diff.contains("Worked example, revised"),
        "{diff}"
    );

    // Each part of a version reads as pages, accessible and without console errors.
    b.drain_console();
    for part in ["controls", "risks", "documents"] {
        b.go(&format!(
            "{base}/schemas/worked/contents?version=2&part={part}"
        ));
        b.wait_text("h1", "Worked example, revised");
        b.assert_accessible();
        b.assert_no_console_errors();
    }

    // The consultant moves an enterprise to the new version from its board.
    log_in(&b, base, "cos");
    b.go(&format!("{base}/isms/worked-example"));
    b.wait_text("#newer-schema", "newer version, 2");
    b.click("#rebase");
    b.wait_text("table", "re-based from worked@1 to worked@2");
    b.go(&format!("{base}/isms/worked-example"));
    b.wait_text(".muted", "schema worked (version 2)");
    assert!(
        b.try_text("#newer-schema").is_none(),
        "no newer version now"
    );

    // An enterprise user logs in and sees its own enterprise, not the schemas.
    b.go(&format!("{base}/login"));
    b.type_in("#user", "rs");
    b.type_in("#password", PASSWORD);
    b.click("#login");
    b.wait_text("table", "Worked Example");
    assert!(!b.text("table").contains("Other Clinic"));
    b.go(&format!("{base}/schemas"));
    b.wait_text("h1", "Not allowed");
    b.screenshot("10-enterprise-user-refused");
}

fn log_in(b: &Browser, base: &str, user: &str) {
    log_in_with(b, base, user, PASSWORD);
}

fn log_in_with(b: &Browser, base: &str, user: &str, password: &str) {
    b.go(&format!("{base}/login"));
    b.type_in("#user", user);
    b.type_in("#password", password);
    b.click("#login");
    b.wait_text("h1", "Enterprises");
}

/// Answers the drawn culture test right and hands it in.
fn pass_culture_test(b: &Browser) {
    let right: Value = serde_json::from_str(MSGS_ALL_RIGHT).unwrap();
    let drawn = b.value("input[name=drawn]");
    assert!(!drawn.is_empty(), "the test draws questions");
    for q in drawn.split(',') {
        let answer = right[q]
            .as_u64()
            .unwrap_or_else(|| panic!("no right answer for {q}"));
        b.click(&format!("#q-{q}-{answer}"));
    }
    b.click("#submit-test");
    b.wait_text("h1", "passed");
}

fn risk_max(b: &Browser) -> f64 {
    b.text("#risk-max").trim().parse().unwrap_or(f64::NAN)
}

#[test]
fn users_take_the_culture_test_and_an_incident_becomes_an_accepted_suggestion() {
    let m = msgs_store(&[]);
    let server = Server::start(&m);
    let b = Browser::start();
    let base = &server.base;
    let isms = format!("{base}/isms/taller-gil");

    // Luis, a user of the enterprise, takes the culture test and is certified.
    log_in(&b, base, "luis");
    b.go(&format!("{isms}/culture"));
    b.wait_text("#certificates", "none");
    b.click("#test-luis");
    b.wait_text("h1", "Security culture test for luis");
    b.screenshot("11-culture-test");
    pass_culture_test(&b);
    b.wait_text("#result", "Certificate issued");
    b.screenshot("12-culture-passed");
    b.go(&format!("{isms}/culture"));
    b.wait_text("#certificates", "valid");

    // Luis reports an incident: the register of the first phase is a form.
    b.go(&format!("{isms}/suggestions"));
    b.click("#report-incident");
    b.wait_text("h1", "Incident management");
    b.set_value("#f-reg-incidents-reported_on", "2026-11-27");
    b.type_in("#f-reg-incidents-title", "ERP server unreachable for a day");
    b.click("#f-reg-incidents-threat option[value='A.24']");
    b.click("#f-reg-incidents-assets-erp");
    b.type_in("#f-reg-incidents-damage-D", "90");
    b.screenshot("13-incident-report-form");
    b.click("#start");
    b.wait_text("#state", "Report received");
    assert!(
        b.url().contains("/procedures/incident-management-1"),
        "{}",
        b.url()
    );
    // Assessing is the officer's: the refusal names the roles in words.
    b.click("#to-assess");
    b.wait_text(
        "#errors",
        "needs Responsible for security (Cl/RS), and luis holds User (Cl/US)",
    );

    // Ana, the security officer, is refused until she holds a certificate.
    log_in(&b, base, "ana");
    b.go(&format!("{isms}/procedures/incident-management-1"));
    b.click("#to-assess");
    b.wait_text("#errors", "certificate");
    b.screenshot("14-refused-without-certificate");
    b.go(&format!("{isms}/culture/test"));
    pass_culture_test(&b);

    // She gives luis the officer's role on the Users page: his login holds it
    // at his next request (issue 17: the account's own roles used to win).
    b.go(&format!("{isms}/users"));
    b.click("#change-luis summary");
    b.click("form[action$='/users/luis'] input[value='Cl/RS']");
    b.click("#roles-luis");
    b.wait_text("#users", "Cl/RS");
    log_in(&b, base, "luis");
    b.go(&format!("{isms}/procedures/incident-management-1"));
    b.click("#to-assess");
    // The role passes now; the new role's regulations need a new certificate.
    b.wait_text("#errors", "certificate");
    assert!(
        !b.text("#errors").contains("holds User (Cl/US)"),
        "{}",
        b.text("#errors")
    );
    b.go(&format!("{isms}/culture/test"));
    pass_culture_test(&b);
    log_in(&b, base, "ana");

    // She assesses and closes the incident; closing raises a suggestion.
    b.go(&isms);
    let before = risk_max(&b);
    b.go(&format!("{isms}/procedures/incident-management-1"));
    b.click("#to-assess");
    b.wait_text("#state", "Assess");
    b.click("#f-reg-incidents-severity option[value=high]");
    b.click("#to-close");
    b.wait_text("#state", "Closed");
    // A high incident starts the fixture's 48-hour clock, shown until met.
    b.wait_text("#clock-1", "Tell the insurer");
    // The register names the asset and the threat, not their ids (issue 17).
    b.wait_text("#registers", "ERP server");
    b.wait_text("#registers", "(A.24)");
    b.wait_text("#raised", "s1");
    b.screenshot("15-incident-closed-suggestion-raised");

    // Accepting the suggestion re-values the risks on the board.
    b.go(&format!("{isms}/suggestions"));
    b.wait_text("#s1", "probability of A.24 on HW");
    b.screenshot("16-suggestion-to-decide");
    b.click("#accept-s1");
    b.wait_text("#decided", "accepted");
    // Its effect reads in words with names, not `potential:erp/A.24` (issue 17).
    b.wait_text("#decided", "risk of");
    assert!(!b.text("#decided").contains("potential:"));
    b.go(&isms);
    let after = risk_max(&b);
    assert!(after > before, "highest risk {before} -> {after}");
    b.screenshot("17-board-after-accepting");

    // Three more incidents reach the statistics (through the API): four in a
    // year across the store's two enterprises with servers, a frequency a
    // band above the schema's P, which the knowledge loop now suggests.
    let (luis, ana) = (server.login("luis"), server.login("ana"));
    for _ in 0..3 {
        common::server::close_an_incident(&server, "taller-gil", &luis, &ana);
    }
    // The architect turns what the incidents taught into the schema's next version.
    log_in(&b, base, "admin");
    b.go(&format!("{base}/schemas/msgs/stats"));
    b.wait_text("#suggestions", "raise probability");
    b.screenshot("18-knowledge-loop");
    b.click("#pick-0");
    b.click("#apply-suggestions");
    b.wait_text("h1", "version 2");
    log_in(&b, base, "ana");

    // The officer adds a user and an asset; the new asset is valued at once.
    b.go(&format!("{isms}/users"));
    b.type_in("#new-user", "pepe");
    b.type_in("#new-name", "Pepe Gil");
    b.click("#new-role-2");
    b.click("#add-user");
    b.wait_text("#users", "Pepe Gil (pepe)");
    // The administrator gives pepe an account; pepe logs in to his enterprise.
    log_in(&b, base, "admin");
    b.drain_console();
    b.go(&format!("{base}/accounts"));
    b.find("#acc-name");
    b.assert_no_console_errors();
    b.type_in("#acc-name", "pepe");
    b.type_in("#acc-isms", "taller-gil");
    b.click("#acc-role-7");
    b.click("#create-account");
    b.wait_text("#created", "one-time password");
    let password = b.text("#new-password");
    b.screenshot("19-account-created");
    // A one-time password: the first login asks pepe for his own.
    b.go(&format!("{base}/login"));
    b.type_in("#user", "pepe");
    b.type_in("#password", &password);
    b.click("#login");
    b.wait_text("#one-time", "choose your own");
    b.go(&format!("{base}/isms"));
    b.wait_text("#one-time", "choose your own");
    b.type_in("#new-password-1", "pepe's own long phrase");
    b.type_in("#new-password-2", "pepe's own long phrase");
    b.click("#set-password");
    b.wait_text("#password-set", "Your password is set");
    b.go(&format!("{base}/isms"));
    b.wait_text("table", "Taller Gil");
    b.go(&format!("{isms}/culture"));
    b.wait_text("#certificates", "Pepe Gil");
    log_in(&b, base, "ana");

    b.go(&format!("{isms}/assets"));
    // A 10 KB name (past the form's own limit) is refused in place, in words.
    b.set_value("#new-name", &"N".repeat(10_000));
    b.type_in("#new-D", "7");
    b.click("#add-asset");
    b.wait_text(
        "#errors",
        "the asset's name has 10000 characters; at most 120 are kept",
    );
    b.find("#new-name");
    b.type_in("#new-name", "Backup NAS");
    b.type_in("#new-D", "7");
    b.click("#add-asset");
    b.wait_text("#assets", "Backup NAS");
    b.screenshot("20-assets");

    // Every page of the enterprise is accessible (labels, names, titles).
    // (The refusals shown earlier were answered 422 on purpose: start afresh.)
    b.drain_console();
    for page in [
        "",
        "/checklist",
        "/assets",
        "/users",
        "/plan",
        "/procedures",
        "/culture",
        "/suggestions",
        "/metrics",
        "/soa",
        "/history",
        "/audit",
    ] {
        b.go(&format!("{isms}{page}"));
        b.find("h1");
        b.assert_accessible();
        // Valid patterns, scripts and resources: nothing in the console (issue 17.7).
        b.assert_no_console_errors();
    }

    // The history says why the board moved.
    b.go(&format!("{isms}/history"));
    b.wait_text("table", "suggestion");

    // At phone width a run of a procedure and the test still read.
    b.resize(390, 844);
    b.go(&format!("{isms}/procedures/incident-management-1"));
    b.wait_text("#state", "Closed");
    b.screenshot("22-procedure-phone");
    b.go(&format!(
        "{isms}/procedures/new?procedure=incident-management"
    ));
    b.wait_text("h1", "Incident management");
    b.screenshot("23-incident-form-phone");
}

#[test]
fn the_generation_form_is_saved_as_a_draft_as_it_is_filled_and_survives_a_reload() {
    let m = prepared_store();
    let server = Server::start(&m);
    let b = Browser::start();
    let base = &server.base;
    log_in(&b, base, "cos");

    b.go(&format!("{base}/isms/new?schema=worked"));
    b.wait_text("#tech-progress-text", "0 of 3 answered");
    // Its `pattern` attributes are valid regular expressions for the browser.
    b.assert_no_console_errors();
    b.type_in("#name", "Draft Vets");
    b.click("details summary");
    b.click("#sc-8\\.20\\.1 option[value=yes]");
    b.wait_text("#tech-progress-text", "1 of 3 answered");
    b.wait_text("#draft-status", "Draft saved at");
    b.type_in("#asset-0-name", "Reception PC");
    b.type_in("#asset-0-D", "4");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    b.wait_text("#draft-status", "Draft saved at");
    b.screenshot("21-generation-draft-saved");

    // A reload (or another day) finds the form as it was left.
    b.go(&format!("{base}/isms/new"));
    b.wait_text("#draft-status", "Draft saved at");
    assert_eq!(b.value("#name"), "Draft Vets");
    assert_eq!(b.value("#sc-8\\.20\\.1"), "yes");
    assert_eq!(b.value("#asset-0-name"), "Reception PC");
    assert_eq!(b.value("#asset-0-D"), "4");
    b.wait_text("#tech-progress-text", "1 of 3 answered");

    // Generating uses it and forgets the draft.
    b.click("#sector option[value=veterinary]");
    b.type_in("#employees", "7");
    b.click("#generate");
    b.wait_text("h1", "Draft Vets");
    b.go(&format!("{base}/isms/new?schema=worked"));
    b.wait_text("#draft-status", "saved as a draft as you go");
    assert_eq!(b.value("#name"), "");
}

/// Logs in as the first administrator of a fresh store with the one-time
/// password its server printed, and sets a password of their own.
fn log_in_first_admin(server: &Server, b: &Browser) {
    let line = server
        .banner
        .iter()
        .find(|l| l.contains("one-time password"))
        .unwrap_or_else(|| panic!("{:?}", server.banner));
    let password = line.rsplit(' ').next().unwrap().to_owned();
    b.go(&format!("{}/login", server.base));
    b.type_in("#user", "admin");
    b.type_in("#password", &password);
    b.click("#login");
    b.wait_text("#one-time", "choose your own");
    b.type_in("#new-password-1", "the administrator's own phrase");
    b.type_in("#new-password-2", "the administrator's own phrase");
    b.click("#set-password");
    b.wait_text("#password-set", "Your password is set");
}

#[test]
fn the_laws_of_the_clinic_follow_its_business_answers() {
    // Issue 16.2 and 16.7 in the browser: the demo clinic takes cards, so PCI
    // DSS binds it; answering that it no longer does removes it at once.
    let m = common::Mmsm::new();
    let server = Server::start(&m);
    let b = Browser::start();
    log_in_first_admin(&server, &b);
    b.go(&format!(
        "{}/isms/clinica-dental-sonrisa/obligations",
        server.base
    ));
    b.wait_text("#obligations-summary", "apply");
    let title = b.cmd("GET", "/title", json!({}));
    assert_eq!(
        title.as_str().unwrap(),
        "Laws and obligations · Clinica Dental Sonrisa · mmsm",
        "the page's title is its name only"
    );
    let laws = b.text("#obligations");
    assert!(
        laws.contains("GDPR") && laws.contains("Security of processing"),
        "{laws}"
    );
    assert!(laws.contains("PCI-DSS"), "{laws}");
    b.assert_accessible();
    b.set_value("#b-card_payments", "no");
    b.click("#save-card_payments");
    b.wait_text("#business-answers", "no");
    let laws = b.text("#obligations");
    assert!(!laws.contains("PCI-DSS"), "{laws}");
    assert!(laws.contains("GDPR"), "{laws}");
    b.screenshot("25-laws-and-obligations");
}

#[test]
fn the_first_admin_changes_the_one_time_password_and_gives_a_metric_its_evidence() {
    // A fresh store: the first start makes the demo enterprise (on the base
    // schema, with its metrics) and `admin` with a one-time password.
    let m = common::Mmsm::new();
    let server = Server::start(&m);
    let b = Browser::start();
    log_in_first_admin(&server, &b);
    let base = &server.base;

    // The backup metric says why it cannot collect, takes its evidence from
    // the browser, and collects (issue 17: it said "Never collected." and no more).
    let isms = format!("{base}/isms/clinica-dental-sonrisa");
    b.go(&format!("{isms}/metrics"));
    b.click("#run-metrics");
    b.wait_text("#collected", "could not run");
    b.wait_text("#failure-backup-freshness", "backups.csv is not among");
    let sample = common::repo_root().join("scripts/evidence-sample/backups.csv");
    b.type_in("#evidence-file", sample.to_str().unwrap());
    b.click("#upload-evidence");
    b.wait_text("#uploaded", "backups.csv");
    b.wait_text("#evidence", "backups.csv");
    b.click("#run-metrics");
    b.wait_text("#collected", "Collected");
    b.wait_text("#metric-backup-freshness", "Last value");
    assert!(b.try_text("#failure-backup-freshness").is_none());
    b.screenshot("24-metrics-with-evidence");
    b.assert_accessible();
}

#[test]
fn the_speaker_approves_the_auditor_certifies_and_a_major_finding_suspends_it_until_closed() {
    // Issue 15's "done when" in the browser.
    let m = msgs_store(&["ana", "luis"]);
    m.run(&[
        "isms",
        "user",
        "add",
        "taller-gil",
        "marta",
        "--name",
        "Marta Gil",
        "--role",
        "Int",
    ])
    .ok();
    common::server::user_add(
        &m,
        &[
            "user",
            "add",
            "marta",
            "--password-stdin",
            "--role",
            "Int",
            "--isms",
            "taller-gil",
        ],
    );
    let server = Server::start(&m);
    let b = Browser::start();
    let base = &server.base;
    let isms = format!("{base}/isms/taller-gil");

    // The speaker approves the generated ISMS from its board.
    log_in(&b, base, "marta");
    b.go(&isms);
    b.wait_text("#approval", "draft, not approved");
    b.type_in("#approval-note", "Read with the consultant");
    b.click("#approve-isms");
    b.wait_text("#approval", "approved by marta");

    // The officer answers every level-1 question yes.
    log_in(&b, base, "ana");
    for (domain, sub) in [("6", "6\\.3\\.1"), ("8", "8\\.13\\.2")] {
        b.go(&format!("{isms}/checklist?domain={domain}"));
        b.click(&format!("#a-{sub} option[value=yes]"));
        b.wait_text(&format!("#sc-{sub} .saved"), "saved");
    }

    // The auditor certifies level 1 from the board and prints the certificate.
    log_in(&b, base, "aus");
    b.go(&isms);
    let before = compliance(&b);
    b.click("#certify-level option[value='1']");
    b.click("#certify");
    b.wait_text("#certificate-1", "valid");
    b.find("#print-level-1");
    let token = server.login("aus");
    let (status, kind, pdf) = server.get_bytes("/isms/taller-gil/certificates/1/pdf", Some(&token));
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert!(common::pdf_text(&pdf).contains("Taller Gil"));
    b.screenshot("30-level-certified");

    // A major finding on a level-1 control, with its evidence file.
    b.go(&format!("{isms}/findings"));
    b.click("#finding-control option[value='8.13']");
    b.click("#finding-kind option[value=major]");
    b.click("#finding-audit option[value=internal-audit]");
    b.type_in(
        "#finding-text",
        "No restore was ever tested: backups may be unusable",
    );
    let evidence = common::repo_root().join("scripts/evidence-sample/backups.csv");
    b.type_in("#finding-evidence", evidence.to_str().unwrap());
    b.click("#record-finding");
    b.wait_text("#F1", "major non-conformity on control 8.13");
    b.wait_text("#state-F1", "awaiting a corrective action");
    b.wait_text("#F1", "finding-F1-backups.csv");
    b.assert_accessible();
    b.assert_no_console_errors();
    b.screenshot("31-major-finding");
    b.go(&isms);
    b.wait_text("#certificate-1", "suspended");
    b.wait_text("#open-findings", "1 open finding");
    let during = compliance(&b);
    assert!(during < before, "compliance {before} -> {during}");

    // The officer sets the corrective action; the auditor closes the finding.
    log_in(&b, base, "ana");
    b.go(&format!("{isms}/findings"));
    assert!(b.try_text("#close-F1").is_none(), "only the auditor closes");
    b.type_in("#action-F1", "Test a restore every month and keep the log");
    b.click("#owner-F1 option[value=luis]");
    b.set_value("#due-F1", "2099-01-31");
    b.click("#respond-F1");
    b.wait_text("#state-F1", "corrective action due 2099-01-31 (owner luis)");
    b.go(&format!("{isms}/plan"));
    b.wait_text("#actions", "Test a restore every month");

    log_in(&b, base, "aus");
    b.go(&format!("{isms}/findings"));
    b.type_in("#close-note-F1", "Restore log of this month checked");
    b.click("#close-F1");
    b.wait_text("#closed-findings", "closed by aus");
    b.wait_text("#none-open", "No finding is open");
    b.go(&isms);
    b.wait_text("#certificate-1", "valid");
    assert!(b.try_text("#open-findings").is_none());
    assert!((compliance(&b) - before).abs() < 1e-9);
    b.screenshot("32-finding-closed");
}

#[test]
fn the_officer_fills_in_a_document_approves_it_and_downloads_the_pack() {
    // Issue 14 in the browser.
    let m = msgs_store(&["ana", "luis"]);
    let server = Server::start(&m);
    let b = Browser::start();
    let base = &server.base;
    let isms = format!("{base}/isms/taller-gil");
    log_in(&b, base, "ana");
    b.go(&format!("{isms}/documents"));
    b.wait_text("#doc-security-policy", "draft");
    b.click("#doc-security-policy a");
    b.wait_text("h1", "Security policy");
    b.wait_text("#empty-fields", "Phone number to report security problems");
    b.wait_text(
        "#document-text",
        "________ (Phone number to report security problems)",
    );
    b.type_in("#field-security_phone", "+34 600 000 000");
    b.click("#doc-owner option[value=ana]");
    b.click("#save-document");
    b.wait_text(
        "#document-text",
        "Report incidents at once to Ana Ruiz on +34 600 000 000.",
    );
    assert!(b.try_text("#empty-fields").is_none());
    b.assert_accessible();
    b.assert_no_console_errors();
    b.screenshot("33-document-filled");
    b.click("#approve-document");
    b.wait_text("#doc-state", "Version 1, approved: approved by ana");
    // A change after approval makes version 2; version 1 stays readable.
    b.type_in("#field-security_phone", "+34 600 111 222");
    b.click("#save-document");
    b.wait_text("#doc-state", "Version 2, draft");
    b.click("#versions a");
    b.wait_text("#reading-version", "version 1");
    b.wait_text("#document-text", "+34 600 000 000");
    b.assert_accessible();
    b.go(&format!("{isms}/documents/security-policy"));
    b.click("#approve-document");
    b.wait_text("#doc-state", "Version 2, approved");
    b.go(&format!("{isms}/documents"));
    b.wait_text("#doc-security-policy", "approved");
    b.find("#download-pack");
    let token = server.login("luis");
    let (status, kind, pack) =
        server.get_bytes("/isms/taller-gil/documents/pack.pdf", Some(&token));
    assert_eq!((status, kind.as_str()), (200, "application/pdf"));
    assert!(common::pdf_text(&pack).contains("+34 600 111 222"));
    b.screenshot("34-documents-approved");
    // A user reads the rules the culture test asks about.
    log_in(&b, base, "luis");
    b.go(&format!("{isms}/culture"));
    b.click("#read-regulations");
    b.wait_text("#documents", "Security policy");
    assert!(b.try_text("#document-form").is_none());
}
