---@meta
-- LuaLS definitions of the mmsm scripting API, so that editors complete `ctx.`
-- and the declaration tables. It describes kernel/src/scripting/ctx.rs; a test
-- checks that every function declared here is registered there and the
-- reverse. This file is never run.
error('Cannot require a meta file')

-- The data of the ISMS being served. Each field is what the kernel passes
-- for the call (absent fields are nil); these shapes are the kernel's JSON.

---A user of the enterprise.
---@class mmsm.User
---@field id string
---@field name? string
---@field roles? string[] role ids (`Cl/RS`)
---@field active? boolean false for a disabled account (default: true)
---@field mfa? boolean true when the user signs in with a second factor
---@field certificate? "valid"|"expiring"|"expired"|"revoked"|"none"|"not-required" their culture certificate, as the culture page shows it

---A security-culture certificate (DESIGN.md 6.3).
---@class mmsm.Certificate
---@field user string the user's id
---@field issued_at? integer seconds since 1970
---@field expires_at? integer seconds since 1970
---@field revoked? table set when revoked (`at`, `reason`)
---@field status? "valid"|"expiring"|"expired"|"revoked"
---@field issued? string `YYYY-MM-DD`
---@field expires? string `YYYY-MM-DD`

---An asset of the enterprise (DESIGN.md 4.3).
---@class mmsm.Asset
---@field id string
---@field name string
---@field type string asset type (`HW.pc`)
---@field owner? string
---@field values? table<string, number> V(a,d) per dimension, 0..10

---`ctx`: the only door from a script to the kernel. Data fields are read-only
---copies made for the call; the functions are the kernel's.
---@class mmsm.Ctx
---@field enterprise? table the enterprise's data (name, sector, size, ...)
---@field users? mmsm.User[]
---@field answers? table<string, "yes"|"partial"|"no"|"na"|"unknown"> checklist answers by subcontrol
---@field assets? mmsm.Asset[]
---@field board? table the control board's current values
---@field procedures? table[] procedure instances
---@field events? table[] procedure transitions, incidents, answer changes
---@field certificates? mmsm.Certificate[]
---@field plan? table[] plan follow-up items (`due` YYYY-MM-DD, `done_at`, `owner`, `key`)
---@field findings? table[] audit findings (`kind` major|minor|observation|opportunity, `control`, `response` with `due` and `done`, `closed`)
---@field audits? table[] audits held (`audit`, `kind` internal|external, `on` YYYY-MM-DD)
---@field measured? table<string, number> measured values by subcontrol
---@field schema? table an importer's target: `id`, `new`, and its `domains`, `controls`, `subcontrols`, `threats`, `asset_types` ids
---@field file? string an importer's input file name
---@field format? string an importer's input format (`csv`, `json`, `yaml`)
local ctx = {}

---Seconds since 1970-01-01 UTC: the time of the run, fixed for the whole call.
---Format it with `os.date("!%Y-%m-%d", ctx.now())`.
---@return integer
function ctx.now() end

---Log lines, shown by the kernel with the script's id. `print(...)` is
---`ctx.log.info` with its arguments joined by tabs.
---@class mmsm.Log
ctx.log = {}

---@param message string
function ctx.log.debug(message) end

---@param message string
function ctx.log.info(message) end

---@param message string
function ctx.log.warn(message) end

---@param message string
function ctx.log.error(message) end

---JSON, decoded and encoded by the kernel (serde). `null` decodes to nil.
---@class mmsm.Json
ctx.json = {}

---@param text string
---@return any
function ctx.json.decode(text) end

---@class mmsm.JsonEncodeOpts
---@field pretty? boolean indent the text (default: false)

---Keys come out sorted. A table with keys 1..n encodes as a list.
---@param value any nil, booleans, numbers, strings and tables of these
---@param opts? mmsm.JsonEncodeOpts
---@return string
function ctx.json.encode(value, opts) end

---YAML, decoded and encoded by the kernel (serde-saphyr).
---@class mmsm.Yaml
ctx.yaml = {}

---@param text string
---@return any
function ctx.yaml.decode(text) end

---@param value any
---@return string
function ctx.yaml.encode(value) end

---CSV, decoded and encoded by the kernel. Fields stay strings: use `tonumber`.
---@class mmsm.Csv
ctx.csv = {}

---@class mmsm.CsvDecodeOpts
---@field headers? boolean the first row names the columns (default: true)
---@field delimiter? string one character (default: ",")

---Rows as records keyed by the header row, or as lists of fields when
---`headers` is false.
---@param text string
---@param opts? mmsm.CsvDecodeOpts
---@return table[]
function ctx.csv.decode(text, opts) end

---@class mmsm.CsvEncodeOpts
---@field columns? string[] the columns of records, in order (default: the sorted keys of the first record)
---@field delimiter? string one character (default: ",")

---Records get a header row; lists are written as they are.
---@param rows table[]
---@param opts? mmsm.CsvEncodeOpts
---@return string
function ctx.csv.encode(rows, opts) end

---Files of the evidence folder (`--evidence DIR`): exported logs, CSV files.
---Paths are relative to it; absolute paths, `..` and links leading out are errors.
---@class mmsm.Evidence
ctx.evidence = {}

---The content of a file (at most the script's memory limit).
---@param path string
---@return string
function ctx.evidence.read(path) end

---The entries of a folder of the evidence folder (default: its top), sorted,
---as paths to pass to `read`; folders end with `/`.
---@param folder? string
---@return string[]
function ctx.evidence.list(folder) end

-- The declaration tables a script returns (DESIGN.md 7.1).

---A metric: `scripts/metrics/*.lua`.
---@class mmsm.Metric
---@field id string unique among scripts and plugins: letters, digits, `.`, `_`, `-`
---@field kind "metric"
---@field name string
---@field description? string
---@field unit? string the unit of the value (`days`, `ratio`)
---@field subcontrols? string[] subcontrols the score feeds (default: none; a schema's metrics entry overrides)
---@field schedule? string how often it runs: `30m`, `12h`, `1d`, `1w` (a schema's metrics entry overrides)
---@field collect fun(ctx: mmsm.Ctx): number? the measurement; nil when there is nothing to measure yet (the answers stand)
---@field score? fun(value: number): number the compliance in [0,1] of a value (default: the schema's thresholds)

---What a procedure action returns: filled registers, events, a suggestion.
---@class mmsm.ActionResult
---@field fields? table<string, any> values of the phase's registers
---@field events? table[] events to record
---@field suggestion? table a proposed change of the risk model, for the security officer

---A procedure action: `scripts/procedures/*.lua`, run on entry to a phase.
---@class mmsm.ProcedureAction
---@field id string
---@field kind "procedure_action"
---@field name string
---@field description? string
---@field run fun(ctx: mmsm.Ctx, instance: table): mmsm.ActionResult

---An importer: `scripts/importers/*.lua`; the kernel parses the input.
---@class mmsm.Importer
---@field id string
---@field kind "importer"
---@field name string
---@field description? string
---@field formats string[] accepted formats (`csv`, `json`, `yaml`, `xlsx`)
---@field import fun(ctx: mmsm.Ctx, input: any): table schema elements and mappings (`controls`, ...)
