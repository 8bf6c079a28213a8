-- Share of the enabled accounts holding administrator rights (accounts.csv):
-- daily work must be done with normal accounts.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "admin-share",
  kind = "metric",
  name = "Share of active accounts with administrator rights",
  unit = "ratio",
  subcontrols = { "8.2.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "accounts.csv")
    if rows == nil then
      error(why, 0)
    end
    local accounts = isms.filter(rows, function(row)
      return isms.truthy(row.enabled) and (true)
    end)
    return isms.share(accounts, function(row)
      return isms.truthy(row.admin)
    end, 0)
  end,

  score = function(value)
    return isms.at_most(value, { { 0.1, 1 }, { 0.25, 0.5 } })
  end,
}

return metric
