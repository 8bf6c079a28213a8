-- Helpers shared by the scripts: shares of lists and dates.
-- Load with `local isms = require("isms")`.

local isms = {}

---The share of `items` for which `predicate(item)` is true, in [0,1];
---`when_empty` (default 1) when there is no item.
---@generic T
---@param items T[]
---@param predicate fun(item: T): boolean
---@param when_empty? number
---@return number
function isms.share(items, predicate, when_empty)
  local total, hits = 0, 0
  for _, item in ipairs(items or {}) do
    total = total + 1
    if predicate(item) then
      hits = hits + 1
    end
  end
  if total == 0 then
    return when_empty or 1
  end
  return hits / total
end

---The items for which `predicate(item)` is true.
---@generic T
---@param items T[]
---@param predicate fun(item: T): boolean
---@return T[]
function isms.filter(items, predicate)
  local kept = {}
  for _, item in ipairs(items or {}) do
    if predicate(item) then
      kept[#kept + 1] = item
    end
  end
  return kept
end

---Seconds since 1970 (UTC) of a date `YYYY-MM-DD`, optionally followed by
---`THH:MM[:SS]` or ` HH:MM[:SS]` and a `Z`; nil when `text` is not such a date.
---@param text string
---@return integer?
function isms.parse_date(text)
  if type(text) ~= "string" then
    return nil
  end
  local y, m, d = text:match("^(%d%d%d%d)-(%d%d)-(%d%d)")
  if not y then
    return nil
  end
  local hh, mm, ss = text:match("^%d%d%d%d%-%d%d%-%d%d[T ](%d%d):(%d%d):?(%d*)")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  hh, mm, ss = tonumber(hh) or 0, tonumber(mm) or 0, tonumber(ss) or 0
  -- Days from civil (Howard Hinnant), so that no time zone is involved.
  if m <= 2 then
    y = y - 1
  end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + hh * 3600 + mm * 60 + ss
end

---Whole and partial days from `from` to `to` (both seconds since 1970).
---@param from integer
---@param to integer
---@return number
function isms.days_between(from, to)
  return (to - from) / 86400
end

---The records of CSV file `path` of the evidence (the ISMS's files, then the
---evidence folder), or nil and why not.
---@param ctx mmsm.Ctx
---@param path string
---@return table[]?
function isms.evidence_csv(ctx, path)
  local ok, text = pcall(ctx.evidence.read, path)
  if not ok then
    -- One line, without the host's prefix and traceback: the metric's
    -- failure (shown on the Metrics page) is where it is said.
    local why = tostring(text):gsub("\nstack traceback:.*$", ""):gsub("^runtime error: ", "")
    return nil, why
  end
  return ctx.csv.decode(text)
end

---The records of CSV file `path` of the evidence, raising the reason as the
---metric's error when the file cannot be read or when none of its records
---has one of `columns` (an export of an older format).
---@param ctx mmsm.Ctx
---@param path string
---@param columns? string[]
---@return table[]
function isms.evidence_rows(ctx, path, columns)
  local rows, why = isms.evidence_csv(ctx, path)
  if rows == nil then
    error(why, 0)
  end
  for _, column in ipairs(columns or {}) do
    local present = #rows == 0
    for _, row in ipairs(rows) do
      if row[column] ~= nil then
        present = true
        break
      end
    end
    if not present then
      error(("%s has no column `%s`"):format(path, column), 0)
    end
  end
  return rows
end

---Days since the latest review of `kind` in reviews.csv (`kind`, `date`), or
---since the latest closed instance of a procedure whose id contains `word`
---when one exists and is later.
---@param ctx mmsm.Ctx
---@param kind string
---@param word? string
---@return number
function isms.review_age(ctx, kind, word)
  local latest = word and isms.latest(isms.instances(ctx, word), "closed_at")
  local rows = isms.evidence_csv(ctx, "reviews.csv") or {}
  local reviewed = isms.latest(rows, "date", function(row)
    return row.kind == kind
  end)
  if reviewed and (latest == nil or reviewed > latest) then
    latest = reviewed
  end
  return isms.age_days(ctx, latest)
end

---Whether a device is a computer people use (not a server nor a network device).
---@param row table
---@return boolean
function isms.workstation(row)
  return row.kind == "desktop" or row.kind == "laptop"
end

---Whether a CSV field says yes: `yes`, `y`, `true`, `1`, `on`, `enabled` (any case).
---@param text string?
---@return boolean
function isms.truthy(text)
  if type(text) == "boolean" then
    return text
  end
  local word = tostring(text or ""):lower()
  return word == "yes" or word == "y" or word == "true" or word == "1" or word == "on" or word == "enabled"
end

---A time as seconds since 1970: a number is taken as is, a string is parsed
---with `parse_date`; nil otherwise.
---@param value any
---@return integer?
function isms.time_of(value)
  if type(value) == "number" then
    return math.floor(value)
  end
  return isms.parse_date(value)
end

---The latest time of `field` among `rows` for which `predicate(row)` is true
---(every row when nil), or nil.
---@param rows table[]
---@param field string
---@param predicate? fun(row: table): boolean
---@return integer?
function isms.latest(rows, field, predicate)
  local latest
  for _, row in ipairs(rows or {}) do
    local at = isms.time_of(row[field])
    if at and (predicate == nil or predicate(row)) and (latest == nil or at > latest) then
      latest = at
    end
  end
  return latest
end

---Days from `at` (seconds since 1970) to the run's time; `when_never`
---(default 9999) when `at` is nil.
---@param ctx mmsm.Ctx
---@param at integer?
---@param when_never? number
---@return number
function isms.age_days(ctx, at, when_never)
  if at == nil then
    return when_never or 9999
  end
  return math.max(0, isms.days_between(at, ctx.now()))
end

---A score from steps: the score of the first `{ limit, score }` whose limit
---`value` does not exceed, else `otherwise` (default 0). For "lower is better".
---@param value number
---@param steps { [1]: number, [2]: number }[]
---@param otherwise? number
---@return number
function isms.at_most(value, steps, otherwise)
  for _, step in ipairs(steps) do
    if value <= step[1] then
      return step[2]
    end
  end
  return otherwise or 0
end

---A score from steps: the score of the first `{ limit, score }` that `value`
---reaches, else `otherwise` (default 0). For "higher is better".
---@param value number
---@param steps { [1]: number, [2]: number }[]
---@param otherwise? number
---@return number
function isms.at_least(value, steps, otherwise)
  for _, step in ipairs(steps) do
    if value >= step[1] then
      return step[2]
    end
  end
  return otherwise or 0
end

---The instances of procedures whose id contains `word` (e.g. `incident`),
---from `ctx.procedures`.
---@param ctx mmsm.Ctx
---@param word string
---@return table[]
function isms.instances(ctx, word)
  return isms.filter(ctx.procedures or {}, function(instance)
    return type(instance.procedure) == "string" and instance.procedure:find(word, 1, true) ~= nil
  end)
end

-- A text with something in it, or nil.
local function filled(text)
  if type(text) == "string" and text:match("%S") then
    return text
  end
  return nil
end

---The incidents of the ISMS as `{ opened, deadline, closed, learned }` (seconds since
---1970, deadline and closed may be nil): the instances of incident procedures
---when there are any, else the rows of `incidents.csv` in the evidence folder
---(columns `id`, `opened`, `deadline`, `closed`, `cause`, `action`). `learned`
---is true when a root cause and the actions taken are recorded.
---@param ctx mmsm.Ctx
---@return { opened: integer, deadline: integer?, closed: integer?, learned: boolean }[]
function isms.incidents(ctx)
  local found = {}
  local instances = isms.instances(ctx, "incident")
  if #instances > 0 then
    for _, instance in ipairs(instances) do
      local deadline, cause, action
      for _, fields in pairs(instance.registers or {}) do
        deadline = deadline or isms.time_of(fields.deadline)
        cause = cause or filled(fields.root_cause)
        action = action or filled(fields.actions)
      end
      found[#found + 1] = {
        opened = isms.time_of(instance.started_at),
        deadline = deadline or (isms.time_of(instance.started_at) or 0) + 30 * 86400,
        closed = isms.time_of(instance.closed_at),
        learned = cause ~= nil and action ~= nil,
      }
    end
    return found
  end
  for _, row in ipairs(isms.evidence_csv(ctx, "incidents.csv") or {}) do
    local opened = isms.time_of(row.opened)
    if opened then
      found[#found + 1] = {
        opened = opened,
        deadline = isms.time_of(row.deadline),
        closed = isms.time_of(row.closed),
        learned = filled(row.cause) ~= nil and filled(row.action) ~= nil,
      }
    end
  end
  return found
end

return isms
