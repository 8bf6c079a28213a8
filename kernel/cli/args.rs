//! The command-line grammar (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// mmsm: build and run Information Security Management Systems for SMEs
/// (the MMSM-SME methodology: schemas, ISMS generation, maintenance).
#[derive(Debug, Parser)]
#[command(name = "mmsm", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after the subcommand.
#[derive(Debug, Args)]
pub struct Global {
    /// The store folder (a sled database, created on first use), used when --store is not given;
    /// also the home of the plugin folder and plugin copies.
    #[arg(
        long,
        global = true,
        env = "MMSM_DATA",
        default_value = "./mmsm-data",
        value_name = "DIR"
    )]
    pub data: PathBuf,
    /// The store: a PostgreSQL database (postgres://user[:password]@host[:port]/database, its
    /// tables created on first use), or a sled folder. Default: the folder of --data.
    #[arg(long, global = true, env = "MMSM_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// How many connections to PostgreSQL this process keeps at most (2 at least: a write holds one).
    #[arg(
        long,
        global = true,
        env = "MMSM_POOL",
        default_value_t = 16,
        value_name = "N"
    )]
    pub pool: u32,
    /// Print one JSON document on stdout (errors go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Act as this account (default: the local operator, holding every role).
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// The Lua scripts folder (metrics/, procedures/, importers/, lib/).
    #[arg(
        long,
        global = true,
        env = "MMSM_SCRIPTS",
        default_value = "./scripts",
        value_name = "DIR"
    )]
    pub scripts: PathBuf,
    /// The plugin folder (default: `plugins` inside the data folder).
    #[arg(long, global = true, env = "MMSM_PLUGINS", value_name = "DIR")]
    pub plugins: Option<PathBuf>,
    /// The evidence folder that scripts may read (exported logs, CSV files).
    #[arg(long, global = true, env = "MMSM_EVIDENCE", value_name = "DIR")]
    pub evidence: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// GEGS: validate, import, list, show, clone, export and diff schemas.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Enterprise profiles: the ready-to-fill template of a schema.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// GSGS: generate an enterprise's ISMS and work with it.
    #[command(subcommand)]
    Isms(IsmsCommand),
    /// Every script and plugin: id, kind, source, version (content hash), state, last load.
    Scripts,
    /// MSGS A3.1: security-culture tests and certificates.
    #[command(subcommand)]
    Culture(CultureCommand),
    /// MSGS A3.2: execute procedures (start, advance, list, show instances).
    #[command(subcommand)]
    Proc(ProcCommand),
    /// MSGS: suggestions for the risk model raised by incidents (list, accept, reject).
    #[command(subcommand)]
    Suggestion(SuggestionCommand),
    /// Audit findings on an ISMS and their corrective actions: the auditor records and closes,
    /// the security officer responds. An open major non-conformity holds its control down.
    #[command(subcommand)]
    Finding(FindingCommand),
    /// Run the HTTP server: the API under /api/v1 and the web UI of the three zones.
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// Whether session cookies carry `Secure` (auto: unless on loopback).
        #[arg(long, value_enum, default_value = "auto")]
        cookie_secure: crate::server_cmd::CookieSecure,
    },
    /// Accounts: create, list, assign to an ISMS, list and revoke API tokens.
    #[command(subcommand)]
    User(AccountCommand),
    /// The hash-chained audit trail: print it, verify it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The store folder itself: compact it.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Reload scripts and plugins as their files change, printing one line per change, until interrupted.
    Watch {
        /// Also open the store and run the metrics that are due for every ISMS (the store is then
        /// locked: do not use beside a server holding it).
        #[arg(long)]
        metrics: bool,
        /// Seconds between two rounds of the metric scheduler.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 60,
            requires = "metrics"
        )]
        every: u64,
    },
    /// Metrics (DESIGN.md 6.1): collect them now, or list their last values and freshness.
    #[command(subcommand)]
    Metric(MetricCommand),
    /// Import a catalogue with an importer script into a schema (a new version of ID, or a new
    /// schema with --new), validated like any schema document, in one transaction.
    Import {
        /// The importer's id (`mmsm scripts` lists them): iso27002, magerit, cobit-mapping,
        /// oscal-catalog, ciso-assistant.
        importer: String,
        /// The input: .csv, .json, .yaml or .yml.
        file: PathBuf,
        /// The schema to import into.
        #[arg(long, value_name = "ID")]
        schema: String,
        /// Create schema ID instead of storing a new version of it.
        #[arg(long)]
        new: bool,
    },
    /// Generate the ISMS of a sample SME (a dental clinic) and write its report.
    Demo {
        /// Where to write the report (default: the current folder).
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Create an account; the password is read from standard input.
    Add {
        /// The login name.
        name: String,
        /// A role (repeat for more): AGS, GED, CoS, AuS, Int, Cl/RS, Cl/US...
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
        /// Make it an enterprise user of this ISMS (otherwise a consultancy account).
        #[arg(long, value_name = "ID")]
        isms: Option<String>,
        /// An administrator: sees every ISMS and manages accounts.
        #[arg(long)]
        admin: bool,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
        /// Keep the password (for a script's account): otherwise it is a one-time password,
        /// changed at the first login and void after 7 days.
        #[arg(long)]
        permanent: bool,
    },
    /// List the accounts: roles (an enterprise user's as its ISMS gives them), state, assignments.
    List,
    /// Disable an account: it cannot log in, and its sessions and tokens stop working.
    Disable {
        /// The account.
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// The account.
        name: String,
    },
    /// Remove an account with its tokens and assignments (the audit trail keeps what it did).
    Remove {
        /// The account.
        name: String,
    },
    /// Replace the roles of a consultancy account (an enterprise user's roles are set with
    /// `isms user roles`).
    Roles {
        /// The account.
        name: String,
        /// A role (repeat for more): AGS, GED, CoS, AuS.
        #[arg(long = "role", value_name = "ROLE")]
        roles: Vec<String>,
    },
    /// Take an ISMS from a consultancy account's assignments.
    Unassign {
        /// The account.
        name: String,
        /// The ISMS id.
        isms: String,
    },
    /// Let a consultancy account see an ISMS.
    Assign {
        /// The account.
        name: String,
        /// The ISMS id.
        isms: String,
    },
    /// Set an account's password (one's own with --as, or any as the local operator), read
    /// from standard input.
    Passwd {
        /// The account.
        name: String,
        /// Read the password from standard input (required).
        #[arg(long)]
        password_stdin: bool,
        /// Keep the password when setting someone else's: otherwise it is a one-time password.
        #[arg(long)]
        permanent: bool,
    },
    /// The live API tokens of an account: id, label, created, expires (never the secret).
    Tokens {
        /// The account.
        name: String,
    },
    /// Revoke an API token of an account (its id from `mmsm user tokens`).
    RevokeToken {
        /// The account.
        name: String,
        /// The token's id.
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MetricCommand {
    /// Collect the metrics of an ISMS now (or only METRIC): store the values, set the bound
    /// subcontrols' measured values and update the board. `MMSM_NOW` fixes the time of the run.
    Run {
        /// The ISMS id.
        isms: String,
        /// Only this metric.
        metric: Option<String>,
    },
    /// The metrics of an ISMS: last value, time and freshness (fresh, stale, never).
    List {
        /// The ISMS id.
        isms: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Bound the store's growth: drop the changed values of history events older than
    /// `--keep-days` (who changed what and when, the board's trend and the audit trail stay),
    /// then rewrite the folder without the space sled has not reclaimed yet, and verify the
    /// audit trail. Stop any server on the store first.
    Compact {
        /// Keep every changed value of the history of the last N days.
        #[arg(long, default_value_t = 365, value_name = "N")]
        keep_days: u32,
        /// Keep the whole history: only rewrite the folder.
        #[arg(long, conflicts_with = "keep_days")]
        keep_all: bool,
        /// Say what would be thinned; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Copy a whole store (schemas, ISMSs, daily records, audit trail) into an empty folder or
    /// database, e.g. from the embedded store to PostgreSQL; the audit trail is verified on the
    /// copy. Stop any server on a sled folder first.
    Copy {
        /// The store to copy: a PostgreSQL URL or a sled folder.
        #[arg(long, value_name = "URL|DIR")]
        from: String,
        /// The new store: a PostgreSQL URL (an empty database) or a folder that holds no store.
        #[arg(long, value_name = "URL|DIR")]
        to: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 1 naming the first edited, reordered or deleted record.
    Verify,
    /// Print the audit trail, oldest first.
    Log {
        /// Only the records about this ISMS.
        #[arg(long)]
        isms: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Write a ready-to-fill profile: the business checklist and every question of the technical checklist.
    Template {
        /// The schema whose questions to list.
        #[arg(long, default_value = "base")]
        schema: String,
        /// Write to this file instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// Output formats of the Statement of Applicability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SoaFormat {
    /// A plain text table.
    Table,
    /// Comma-separated values.
    Csv,
    /// An Excel workbook (needs -o).
    Xlsx,
    /// A printable PDF with the same columns, one control after another (needs -o).
    Pdf,
}

/// Output formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One self-contained HTML file with inline SVG charts.
    Html,
    /// Markdown.
    Md,
    /// The report's data as JSON.
    Json,
    /// A printable PDF (the Markdown report's text, with page numbers).
    Pdf,
}

#[derive(Debug, Subcommand)]
pub enum IsmsCommand {
    /// Generate an ISMS from a profile (YAML or JSON), or one per profile file of a folder.
    Generate {
        /// A profile file, or a folder of profile files.
        profile: PathBuf,
        /// Use this schema instead of choosing one from sector and size.
        #[arg(long)]
        schema: Option<String>,
    },
    /// List the ISMSs (all of them unless --limit says how many), from the summary index.
    List {
        /// At most this many; the last line says how to ask for the next page.
        #[arg(long)]
        limit: Option<usize>,
        /// Start after the ISMS with this id (in the listing's order).
        #[arg(long)]
        after: Option<String>,
        /// Only ISMSs whose id, name, sector or schema contains this text (any case).
        #[arg(long)]
        filter: Option<String>,
        /// The order: id (default), name, compliance (lowest first), risk (highest first), updated (newest first).
        #[arg(long, default_value = "id", value_parser = ["id", "name", "compliance", "risk", "updated"])]
        sort: String,
    },
    /// Show an ISMS: enterprise, schema, users, instantiated artefacts, board summary.
    Show {
        /// The ISMS id.
        id: String,
    },
    /// The control board: compliance, maturity, domains, controls, risk.
    Board {
        /// The ISMS id.
        id: String,
        /// Show the rule and inputs behind every figure.
        #[arg(long)]
        explain: bool,
        /// With --json, add the maintenance figures (culture, procedures, suggestions, plan) as `maintenance`.
        #[arg(long)]
        maintenance: bool,
    },
    /// The risk of every (asset, threat) pair.
    Risks {
        /// The ISMS id.
        id: String,
        /// Show the rule and inputs behind every figure.
        #[arg(long)]
        explain: bool,
    },
    /// The ordered improvement plan, with each item's owner, due date and state.
    Plan {
        /// The ISMS id.
        id: String,
        /// Show the rule and inputs behind every figure.
        #[arg(long)]
        explain: bool,
        /// Follow up the item of this rank: give owner=USER, due=YYYY-MM-DD, done, undone or result=TEXT after it.
        #[arg(long, value_name = "RANK")]
        set: Option<usize>,
        /// The settings for --set, e.g. owner=luis due=2027-03-01 done.
        #[arg(requires = "set", value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// MSGS: the users of an ISMS and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// MSGS: the evidence files the metrics of an ISMS read (kept in the store, with their hash).
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// The documents in force of an ISMS (templates, instructions, regulations): list, read,
    /// fill in, approve, export as PDF, HTML or Markdown.
    #[command(subcommand)]
    Docs(DocsCommand),
    /// Answer one question of the technical checklist; prints what changed.
    Answer {
        /// The ISMS id.
        id: String,
        /// The subcontrol id (e.g. 8.13.1).
        subcontrol: String,
        /// yes, partial, no, na or unknown.
        answer: String,
    },
    /// Answer a question of the business checklist again (the enterprise changed): the
    /// target level, the obligations that apply and the controls its rules make not
    /// applicable follow at once; prints what changed.
    Business {
        /// The ISMS id.
        id: String,
        /// The business question (e.g. card_payments); `mmsm profile template` lists them.
        question: String,
        /// The answer: yes or no, a number, or one of the question's options.
        #[arg(required_unless_present = "clear")]
        value: Option<String>,
        /// Clear the answer instead.
        #[arg(long, conflicts_with = "value")]
        clear: bool,
    },
    /// Give the reasons of an answer: a note, evidence files of the ISMS backing it and, for a
    /// question answered na, the justification the SoA shows for the exclusion. Nothing given
    /// removes them.
    Why {
        /// The ISMS id.
        id: String,
        /// The subcontrol id (e.g. 8.13.1).
        subcontrol: String,
        /// A note on the answer.
        #[arg(long)]
        note: Option<String>,
        /// Why the question does not apply (for an answer na).
        #[arg(long)]
        justification: Option<String>,
        /// An evidence file of the ISMS (`isms evidence add`) backing the answer (repeat for more).
        #[arg(long = "evidence-file", value_name = "NAME")]
        evidence_files: Vec<String>,
    },
    /// The speaker approves the ISMS (with --as USER, a user of it holding the role Int): the
    /// approval records who, when, the schema version, the target level and a digest.
    Approve {
        /// The ISMS id.
        id: String,
        /// The speaker's note.
        #[arg(long)]
        note: Option<String>,
    },
    /// An auditor (AuS) certifies a maturity level the board says is reached: a dated
    /// certificate, valid a year (the schema's `certification`), suspended while the level is
    /// lost or a major non-conformity on one of its controls is open.
    Certify {
        /// The ISMS id.
        id: String,
        /// The level, 1 to 3.
        level: u8,
    },
    /// The level certificates of an ISMS with their state: valid, suspended or expired.
    Certificates {
        /// The ISMS id.
        id: String,
    },
    /// Print a level certificate as a PDF, with its state now.
    Certificate {
        /// The ISMS id.
        id: String,
        /// The level, 1 to 3.
        level: u8,
        /// The PDF file to write.
        #[arg(short, long, value_name = "FILE.pdf")]
        output: PathBuf,
    },
    /// The audit programme of an ISMS (not the audit trail, `mmsm audit`): each audit the schema
    /// schedules, when it was last held and when it is due.
    Audits {
        /// The ISMS id.
        id: String,
    },
    /// Record that the ISMS underwent an audit of its programme (auditor AuS or consultant CoS).
    AuditHeld {
        /// The ISMS id.
        id: String,
        /// The audit, e.g. internal-audit (`mmsm isms audits ID` lists them).
        audit: String,
        /// The day it was held (YYYY-MM-DD); today by default.
        #[arg(long)]
        on: Option<String>,
        /// Scope and conclusion.
        #[arg(long)]
        note: Option<String>,
    },
    /// Archive an ISMS: read only until it is unarchived (administrators).
    Archive {
        /// The ISMS id.
        id: String,
    },
    /// Take an ISMS out of the archive (administrators).
    Unarchive {
        /// The ISMS id.
        id: String,
    },
    /// Delete an ISMS for good, with everything kept under it and its enterprise accounts
    /// (administrators; the audit trail keeps the act). --confirm repeats its id.
    Delete {
        /// The ISMS id.
        id: String,
        /// The ISMS id again, to confirm.
        #[arg(long, value_name = "ID")]
        confirm: String,
    },
    /// Move an ISMS to a newer version of its schema (the newest by default):
    /// inputs carry over, what the version no longer has is dropped and listed,
    /// the board is computed anew and certificates of changed regulations are revoked.
    Rebase {
        /// The ISMS id (or --all with --schema).
        #[arg(required_unless_present = "all")]
        id: Option<String>,
        /// Re-base every ISMS of the schema given with --schema, each in its own transaction.
        #[arg(long, requires = "schema", conflicts_with = "id")]
        all: bool,
        /// With --all: the schema whose ISMSs move.
        #[arg(long, requires = "all")]
        schema: Option<String>,
        /// The schema version to move to (default: the newest).
        #[arg(long)]
        version: Option<u32>,
    },
    /// Revalue an asset, or say what it rests on; prints what changed.
    ///
    /// An asset that rests on others (records held on a server, software run on it)
    /// lends them its value: a threat to the server weighs the records it holds
    /// (Magerit's accumulated value).
    Asset {
        /// The ISMS id.
        id: String,
        /// The asset id.
        asset: String,
        /// New values per dimension, e.g. D=8,I=6,C=5.
        #[arg(
            long,
            value_name = "D=..,I=..,C=..",
            required_unless_present = "depends_on"
        )]
        value: Option<String>,
        /// The assets it rests on, by id (e.g. clinic-server,practice-software); an empty
        /// value ("") says it rests on nothing.
        #[arg(long, value_name = "ASSET,..", value_delimiter = ',')]
        depends_on: Option<Vec<String>>,
    },
    /// The Statement of Applicability: every control, applicable or not, its compliance and artefacts.
    Soa {
        /// The ISMS id.
        id: String,
        /// table, csv or xlsx.
        #[arg(long, value_enum, default_value = "table")]
        format: SoaFormat,
        /// Write to this file (required for xlsx).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The laws, regulations and contracts that bind the enterprise (the schema's legal
    /// catalogue: GDPR, LOPDGDD, ENS, NIS2, PCI DSS...): which obligations apply from its
    /// business checklist, why, and how far the controls that meet each are in place.
    Obligations {
        /// The ISMS id.
        id: String,
        /// Also list the obligations that do not apply, with the answer that rules them out.
        #[arg(long)]
        all: bool,
    },
    /// The report for the enterprise: maturity, domains, heat map, top risks, plan, SoA, artefacts.
    Report {
        /// The ISMS id.
        id: String,
        /// html, md or json.
        #[arg(long, value_enum, default_value = "html")]
        format: ReportFormat,
        /// The file to write.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
    },
    /// The history of the board: every change with its time and cause.
    History {
        /// The ISMS id.
        id: String,
        /// Only changes that moved this control or concern it.
        #[arg(long, value_name = "CONTROL")]
        control: Option<String>,
        /// Only changes from this day on (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
}

/// The formats of `isms docs export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocsFormat {
    /// One PDF per document, plus pack.pdf with all of them.
    Pdf,
    /// One HTML page per document, plus index.html.
    Html,
    /// One Word file per document, for the client to edit.
    Docx,
    /// One Markdown file per document.
    Md,
}

#[derive(Debug, Subcommand)]
pub enum DocsCommand {
    /// The documents in force: id, kind, title, version, state (draft, approved, review due),
    /// owner and the fields still empty.
    List {
        /// The ISMS id.
        id: String,
    },
    /// Read one document, filled in with what the ISMS knows and its field values.
    Show {
        /// The ISMS id.
        id: String,
        /// The document (an artefact or regulation id, e.g. tpl-security-policy).
        doc: String,
        /// md (the default) or html.
        #[arg(long, default_value = "md")]
        format: String,
        /// An earlier version, as it read then.
        #[arg(long)]
        version: Option<u32>,
    },
    /// Fill in fields of a document (`field=value`; an empty value clears it), or set its owner;
    /// the security officer or the consultant. A field is shared by every document naming it.
    Set {
        /// The ISMS id.
        id: String,
        /// The document.
        doc: String,
        /// field=value pairs.
        values: Vec<String>,
        /// The user of the ISMS who keeps the document.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Approve the version a document is at (with --as: the speaker or the security officer);
    /// it is frozen, and a later change makes the next version.
    Approve {
        /// The ISMS id.
        id: String,
        /// The document.
        doc: String,
    },
    /// Write every document in force to a folder, plus pack.pdf (pdf) or index.html (html).
    Export {
        /// The ISMS id.
        id: String,
        /// The folder (created when missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// pdf (default), docx, html or md.
        #[arg(long, value_enum, default_value = "pdf")]
        format: DocsFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Add (or replace) an evidence file: a metric reads it by its name (at most 5 MB).
    Add {
        /// The ISMS id.
        isms: String,
        /// The file.
        file: PathBuf,
        /// The name the metrics read (default: the file's name), e.g. backups.csv.
        #[arg(long)]
        name: Option<String>,
    },
    /// The evidence files: name, size, sha256, who gave them and when.
    List {
        /// The ISMS id.
        isms: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user with one or more roles of the schema.
    Add {
        /// The ISMS id.
        isms: String,
        /// The new user's id.
        user: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// A role of the schema (repeat for several), e.g. Cl/US.
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
        /// A department of the ISMS.
        #[arg(long)]
        department: Option<String>,
    },
    /// List the users, their roles and certificate status.
    List {
        /// The ISMS id.
        isms: String,
    },
    /// Remove a user (their history stays).
    Remove {
        /// The ISMS id.
        isms: String,
        /// The user id.
        user: String,
    },
    /// Replace a user's roles; new regulations revoke their certificate.
    Roles {
        /// The ISMS id.
        isms: String,
        /// The user id.
        user: String,
        /// The new roles (repeat for several).
        #[arg(long = "role", required = true, value_name = "ROLE")]
        roles: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CultureCommand {
    /// Take a user's security-culture test in the terminal (or from --answers).
    Test {
        /// The ISMS id.
        isms: String,
        /// The user taking the test.
        user: String,
        /// Draw the questions deterministically from this seed.
        #[arg(long)]
        seed: Option<u64>,
        /// A YAML/JSON map question id -> option index (from 0); drawn questions missing from it count as wrong.
        #[arg(long, value_name = "FILE")]
        answers: Option<PathBuf>,
    },
    /// Every user's certificate and what each still needs.
    Status {
        /// The ISMS id.
        isms: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProcCommand {
    /// Start an instance of a procedure (needs --as USER).
    Start {
        /// The ISMS id.
        isms: String,
        /// The procedure id.
        procedure: String,
        /// Register data for the start phase (YAML or JSON). Not `--data`, which names the store.
        #[arg(long, value_name = "FILE")]
        fields: Option<PathBuf>,
    },
    /// Move an instance to the next phase (needs --as USER).
    Advance {
        /// The instance id (ISMS/PROCEDURE-N).
        instance: String,
        /// The phase to move to.
        phase: String,
        /// Register data for the phase (YAML or JSON). Not `--data`, which names the store.
        #[arg(long, value_name = "FILE")]
        fields: Option<PathBuf>,
    },
    /// List the instances of an ISMS, and the scheduled procedures on time or overdue.
    List {
        /// The ISMS id.
        isms: String,
        /// Only the open instances.
        #[arg(long)]
        open: bool,
    },
    /// Show one instance: phase, where it may go, who may move it, history.
    Show {
        /// The instance id (ISMS/PROCEDURE-N).
        instance: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FindingCommand {
    /// Record a finding (auditor AuS or consultant CoS, with --as): a major non-conformity holds
    /// its control at the schema's cap (0 by default) and suspends the certificates it touches.
    Add {
        /// The ISMS id.
        isms: String,
        /// The control it is about, e.g. 8.13.
        #[arg(long)]
        control: String,
        /// The procedure it is about.
        #[arg(long)]
        procedure: Option<String>,
        /// The audit of the programme it was raised in (`mmsm isms audits ISMS` lists them).
        #[arg(long)]
        audit: Option<String>,
        /// major, minor, observation or opportunity.
        #[arg(long)]
        kind: String,
        /// What was found, against which requirement.
        #[arg(long)]
        text: String,
        /// A file backing it: kept with the ISMS's evidence, with its hash.
        #[arg(long)]
        evidence: Option<PathBuf>,
    },
    /// List the findings of an ISMS with their state.
    List {
        /// The ISMS id.
        isms: String,
        /// Only the findings not closed.
        #[arg(long)]
        open: bool,
    },
    /// Show one finding: text, evidence, corrective action, closing.
    Show {
        /// The ISMS id.
        isms: String,
        /// The finding, e.g. F3.
        finding: String,
    },
    /// The security officer (Cl/RS, with --as) answers a finding with a corrective action.
    Respond {
        /// The ISMS id.
        isms: String,
        /// The finding, e.g. F3.
        finding: String,
        /// What will be done.
        #[arg(long)]
        action: String,
        /// The user of the ISMS who does it.
        #[arg(long)]
        owner: String,
        /// By when (YYYY-MM-DD).
        #[arg(long)]
        due: String,
    },
    /// The owner of the corrective action (or the officer) reports it done.
    Done {
        /// The ISMS id.
        isms: String,
        /// The finding, e.g. F3.
        finding: String,
        /// What was done.
        #[arg(long)]
        note: Option<String>,
    },
    /// The auditor (AuS, with --as) closes a finding once its corrective action is done; closing
    /// the last open major non-conformity of a control frees it.
    Close {
        /// The ISMS id.
        isms: String,
        /// The finding, e.g. F3.
        finding: String,
        /// What the auditor verified.
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SuggestionCommand {
    /// List the suggestions of an ISMS.
    List {
        /// The ISMS id.
        isms: String,
    },
    /// Accept a suggestion: its changes re-value the board.
    Accept {
        /// The ISMS id.
        isms: String,
        /// The suggestion id (s1, s2...).
        id: String,
    },
    /// Reject a suggestion; it stays in the history.
    Reject {
        /// The ISMS id.
        isms: String,
        /// The suggestion id.
        id: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Check schema documents (a folder or a file) without a store; exit 1 with every located error.
    Validate {
        /// A folder of YAML/JSON/TOML documents, or one file.
        path: PathBuf,
    },
    /// Validate, then store as a new schema or a new version of an existing one.
    Import {
        /// A folder of YAML/JSON/TOML documents, or one file.
        path: PathBuf,
    },
    /// List every schema: id, latest version, name and counts.
    List,
    /// Show a schema's header, counts and subcontrols per maturity level.
    Show {
        /// The schema id.
        id: String,
        /// A version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
    },
    /// Clone a schema as a new one that records `based_on` (e.g. a sector schema from `base`).
    Clone {
        /// The schema to clone (its latest version).
        source: String,
        /// The id of the new schema.
        new: String,
        /// The new schema's name.
        #[arg(long)]
        name: Option<String>,
        /// Narrow the clone to this sector.
        #[arg(long)]
        sector: Option<String>,
        /// Narrow the clone to this size class.
        #[arg(long)]
        size: Option<String>,
    },
    /// Write a schema version as a folder of YAML documents.
    Export {
        /// The schema id.
        id: String,
        /// The folder to write (created if needed).
        dir: PathBuf,
        /// A version (default: the latest).
        #[arg(long)]
        version: Option<u32>,
    },
    /// Statistics across every ISMS generated from a schema, naming no enterprise.
    Stats {
        /// The schema id.
        id: String,
        /// List the schema changes the statistics support (never applied automatically).
        #[arg(long)]
        suggest: bool,
    },
    /// Elements added, removed and changed between two versions, per kind.
    Diff {
        /// The schema id.
        id: String,
        /// The older version.
        v1: u32,
        /// The newer version.
        v2: u32,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_grammar_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
