//! A real `mmsm serve` on 127.0.0.1 over a temporary store, with accounts of
//! every role, an own and a foreign enterprise, and an HTTP client.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

use super::{repo_root, Mmsm};

/// The ISMS the enterprise users belong to, assigned to `cos` and `aus`.
pub const OWN: &str = "worked-example";
/// An ISMS nobody but the admin sees.
pub const FOREIGN: &str = "other-clinic";
/// The password of every test account.
pub const PASSWORD: &str = "correct horse battery";

/// The test accounts: name, roles, enterprise, admin.
pub const ACCOUNTS: &[(&str, &[&str], Option<&str>, bool)] = &[
    ("admin", &["AGS", "GED", "CoS", "AuS"], None, true),
    ("ags", &["AGS"], None, false),
    ("ged", &["GED"], None, false),
    ("cos", &["CoS"], None, false),
    ("aus", &["AuS"], None, false),
    ("rs", &["Cl/RS"], Some(OWN), false),
    ("us", &["Cl/US"], Some(OWN), false),
];

/// A store with the worked schema, two enterprises and the test accounts.
pub fn prepared_store() -> Mmsm {
    let m = Mmsm::new();
    m.run(&["schema", "import", "tests/fixtures/worked"]).ok();
    m.run(&["isms", "generate", "tests/fixtures/worked-profile.yaml"])
        .ok();
    let other = m.path("other.yaml");
    std::fs::write(
        &other,
        "enterprise: { name: \"Other Clinic\", sector: veterinary, employees: 12 }\nassets:\n  - { id: erp, name: \"ERP\", type: HW, strategic_value: 6, requirements: { D: 2, I: 2, C: 2 } }\n",
    )
    .unwrap();
    m.run(&["isms", "generate", other.to_str().unwrap()]).ok();
    for (name, roles, isms, admin) in ACCOUNTS {
        let mut args = vec!["user", "add", name, "--password-stdin"];
        for r in *roles {
            args.push("--role");
            args.push(r);
        }
        if let Some(i) = isms {
            args.push("--isms");
            args.push(i);
        }
        if *admin {
            args.push("--admin");
        }
        user_add(&m, &args);
    }
    // The enterprise accounts `rs` and `us` joined the enterprise's users as they were made.
    m.run(&["user", "assign", "cos", OWN]).ok();
    m.run(&["user", "assign", "aus", OWN]).ok();
    m
}

/// Adds a test account with [`PASSWORD`], kept as it is (`--permanent`): the
/// tests log in with it rather than change it first.
pub fn user_add(m: &Mmsm, args: &[&str]) {
    let mut args = args.to_vec();
    args.push("--permanent");
    user_add_stdin(m, &args, PASSWORD);
}

/// Runs an `mmsm user` command that reads `password` on standard input.
pub fn user_add_stdin(m: &Mmsm, args: &[&str], password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mmsm"))
        .arg("--data")
        .arg(m.data())
        .args(args)
        .current_dir(repo_root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "user add {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// What the server printed before it was ready.
    pub banner: Vec<String>,
    agent: ureq::Agent,
}

/// A response: status and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// Starts `mmsm serve --addr 127.0.0.1:0` on `m`'s store and waits until it listens.
    pub fn start(m: &Mmsm) -> Server {
        Server::start_with(m, &[])
    }

    /// [`Server::start`] with global options (e.g. `--scripts DIR`) before `serve`.
    pub fn start_with(m: &Mmsm, global: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mmsm"))
            .arg("--data")
            .arg(m.data())
            .args(global)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env_remove("MMSM_STORE")
            .current_dir(repo_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("mmsm serve starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let mut base = None;
        for line in lines.by_ref() {
            let line = line.unwrap();
            banner.push(line.clone());
            if let Some(rest) = line.strip_prefix("mmsm serving on http://") {
                base = Some(format!("http://{}", rest.split('/').next().unwrap()));
            }
            if line.starts_with("stop with") {
                break;
            }
        }
        // Keep draining stdout so that the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Server {
            child: Some(child),
            base: base.unwrap_or_else(|| panic!("the server did not start: {banner:?}")),
            banner,
            agent,
        }
    }

    /// Sends a request; `auth` is a Bearer token, `body` JSON.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        self.request(
            method,
            path,
            &headers(auth),
            body.map(|b| ("application/json", b.to_string())),
        )
    }

    /// Sends a request with headers and an optional (content type, body).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        extra: &[(String, String)],
        body: Option<(&str, String)>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" | "DELETE" => {
                let mut r = if method == "GET" {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                for (k, v) in extra {
                    r = r.header(k, v);
                }
                r.call()
            }
            _ => {
                let mut r = match method {
                    "POST" => self.agent.post(&url),
                    "PUT" => self.agent.put(&url),
                    other => panic!("method {other}"),
                };
                for (k, v) in extra {
                    r = r.header(k, v);
                }
                match body {
                    Some((kind, text)) => r.content_type(kind).send(text),
                    None => r.send_empty(),
                }
            }
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status,
            body,
            headers,
        }
    }

    /// GETs `path` as `auth` and returns the status, the content type and the body's bytes.
    pub fn get_bytes(&self, path: &str, auth: Option<&str>) -> (u16, String, Vec<u8>) {
        let mut r = self.agent.get(format!("{}{path}", self.base));
        for (k, v) in headers(auth) {
            r = r.header(k, v);
        }
        let mut response = r.call().unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(50 * 1024 * 1024)
            .read_to_vec()
            .unwrap_or_default();
        (response.status().as_u16(), kind, bytes)
    }

    /// Logs in and returns the Bearer token.
    pub fn login(&self, user: &str) -> String {
        let r = self.call(
            "POST",
            "/api/v1/login",
            None,
            Some(&serde_json::json!({ "user": user, "password": PASSWORD })),
        );
        assert_eq!(r.status, 200, "login {user}: {}", r.body);
        r.json()["token"].as_str().unwrap().to_owned()
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            let status = child.wait().unwrap();
            assert!(
                status.success(),
                "the server did not stop cleanly: {status}"
            );
        }
    }
}

/// The Authorization header of a token.
pub fn headers(auth: Option<&str>) -> Vec<(String, String)> {
    auth.map(|t| vec![("Authorization".to_owned(), format!("Bearer {t}"))])
        .unwrap_or_default()
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The enterprise of the MSGS fixture (users ana Cl/RS and luis Cl/US).
pub const MSGS_ISMS: &str = "taller-gil";
/// A second enterprise of the MSGS schema, foreign to ana and luis.
pub const MSGS_FOREIGN: &str = "otro-taller";
/// Every culture question of the MSGS schema answered right.
pub const MSGS_ALL_RIGHT: &str = r#"{ "sp-1": 1, "sp-2": 0, "sp-3": 1, "bk-1": 0, "bk-2": 1 }"#;

/// The MSGS schema, its enterprise, a foreign enterprise, an account per
/// user of the enterprise (bound to it), an admin, a consultant (CoS) and an
/// auditor (AuS) assigned to the enterprise, and the `certified` users'
/// culture certificates.
pub fn msgs_store(certified: &[&str]) -> Mmsm {
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
    let other = m.path("other.yaml");
    std::fs::write(
        &other,
        "enterprise: { name: \"Otro Taller\", sector: retail, employees: 9 }\nusers:\n  - { id: eva, name: Eva, roles: [Cl/RS] }\nassets:\n  - { id: erp, name: ERP, type: HW, values: { D: 5 } }\n",
    )
    .unwrap();
    m.run(&[
        "isms",
        "generate",
        other.to_str().unwrap(),
        "--schema",
        "msgs",
    ])
    .ok();
    user_add(
        &m,
        &[
            "user",
            "add",
            "admin",
            "--password-stdin",
            "--role",
            "AGS",
            "--role",
            "CoS",
            "--admin",
        ],
    );
    for (user, role) in [("cos", "CoS"), ("aus", "AuS")] {
        user_add(
            &m,
            &["user", "add", user, "--password-stdin", "--role", role],
        );
        m.run(&["user", "assign", user, MSGS_ISMS]).ok();
    }
    for (user, role) in [("ana", "Cl/RS"), ("luis", "Cl/US")] {
        user_add(
            &m,
            &[
                "user",
                "add",
                user,
                "--password-stdin",
                "--role",
                role,
                "--isms",
                MSGS_ISMS,
            ],
        );
    }
    std::fs::write(m.path("right.json"), MSGS_ALL_RIGHT).unwrap();
    let answers = m.path("right.json").display().to_string();
    for user in certified {
        m.run(&[
            "culture",
            "test",
            MSGS_ISMS,
            user,
            "--as",
            user,
            "--answers",
            &answers,
        ])
        .ok();
    }
    m
}

/// An access matrix being filled: one row per route, one cell per role, the
/// statuses printed as a table, mismatches marked `!` and collected.
pub struct Matrix {
    roles: Vec<&'static str>,
    width: usize,
    table: String,
    failures: Vec<String>,
    label: String,
}

impl Matrix {
    /// A matrix of `roles` whose route column is `width` wide.
    pub fn new(roles: &[&'static str], width: usize) -> Matrix {
        let mut table = format!("{:<width$}", "route");
        for r in roles {
            table.push_str(&format!("{r:>7}"));
        }
        table.push('\n');
        Matrix {
            roles: roles.to_vec(),
            width,
            table,
            failures: Vec::new(),
            label: String::new(),
        }
    }

    /// Starts the row of `label`.
    pub fn row(&mut self, label: String) {
        self.table.push_str(&format!("{label:<w$}", w = self.width));
        self.label = label;
    }

    /// The cell of the `i`-th role: what it got against what was expected.
    pub fn cell(&mut self, i: usize, expected: u16, reply: &Reply) {
        let ok = reply.status == expected;
        self.table.push_str(&format!(
            "{:>7}",
            format!("{}{}", reply.status, if ok { "" } else { "!" })
        ));
        if !ok {
            self.failures.push(format!(
                "{} as {}: expected {expected}, got {} {}",
                self.label, self.roles[i], reply.status, reply.body
            ));
        }
        if i + 1 == self.roles.len() {
            self.table.push('\n');
        }
    }

    /// Prints the matrix under `title` and fails on any mismatch.
    pub fn finish(self, title: &str) {
        println!(
            "{title} (status per role; ! marks a mismatch):\n{}",
            self.table
        );
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n"));
    }
}

/// Reports an incident as luis, assesses and closes it as ana; returns the instance.
pub fn close_an_incident(server: &Server, isms: &str, luis: &str, ana: &str) -> Value {
    let url = |rest: &str| format!("/api/v1/isms/{isms}/{rest}");
    let started = server.call(
        "POST",
        &url("procedures"),
        Some(luis),
        Some(&json!({
            "procedure": "incident-management",
            "fields": { "reported_on": "2027-01-10", "title": "ERP down all morning" }
        })),
    );
    assert_eq!(started.status, 201, "{}", started.body);
    let instance = started.json()["instance"].clone();
    let local = instance["id"]
        .as_str()
        .unwrap()
        .strip_prefix(&format!("{isms}/"))
        .unwrap()
        .to_owned();
    let assessed = server.call(
        "POST",
        &url(&format!("procedures/{local}/advance")),
        Some(ana),
        Some(&json!({
            "phase": "assess",
            "fields": { "threat": "A.24", "assets": ["erp"], "damage": { "D": 80 }, "severity": "high" }
        })),
    );
    assert_eq!(assessed.status, 200, "{}", assessed.body);
    let closed = server.call(
        "POST",
        &url(&format!("procedures/{local}/advance")),
        Some(ana),
        Some(&json!({ "phase": "close" })),
    );
    assert_eq!(closed.status, 200, "{}", closed.body);
    closed.json()
}
