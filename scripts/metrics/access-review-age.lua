-- Days since access rights were last reviewed (reviews.csv: `kind`
-- access-review, `date`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "access-review-age",
  kind = "metric",
  name = "Days since the last access-rights review",
  unit = "days",
  subcontrols = { "5.18.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_csv(ctx, "reviews.csv") or {}
    local latest = isms.latest(rows, "date", function(row)
      return row.kind == "access-review"
    end)
    return isms.age_days(ctx, latest)
  end,

  score = function(value)
    return isms.at_most(value, { { 365, 1 }, { 548, 0.5 } })
  end,
}

return metric
