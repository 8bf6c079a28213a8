-- Administrator accounts beyond what the company's size needs (accounts.csv:
-- `enabled`, `admin`): daily work is done with normal accounts, and a company
-- needs about one administrator in ten accounts, never fewer than two (the
-- person who runs IT and a stand-in or the IT supplier). A micro firm with
-- one or two administrators is not penalised for being small.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "admin-share",
  kind = "metric",
  name = "Administrator accounts beyond what the company's size needs",
  unit = "accounts",
  subcontrols = { "8.2.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "accounts.csv", { "admin" })
    local enabled = isms.filter(rows, function(row)
      return isms.truthy(row.enabled)
    end)
    local admins = #isms.filter(enabled, function(row)
      return isms.truthy(row.admin)
    end)
    local allowed = math.max(2, math.ceil(#enabled / 10))
    return math.max(0, admins - allowed)
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 }, { 1, 0.5 } })
  end,
}

return metric
