-- Days since the asset inventory was last checked against reality
-- (reviews.csv: `kind` asset-inventory, `date`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "asset-inventory-age",
  kind = "metric",
  name = "Days since the asset inventory was last checked",
  unit = "days",
  subcontrols = { "5.9.4" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_csv(ctx, "reviews.csv") or {}
    local latest = isms.latest(rows, "date", function(row)
      return row.kind == "asset-inventory"
    end)
    return isms.age_days(ctx, latest)
  end,

  score = function(value)
    return isms.at_most(value, { { 183, 1 }, { 365, 0.5 } })
  end,
}

return metric
