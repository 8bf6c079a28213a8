-- Days since the list of administrator accounts was last checked
-- (reviews.csv: `kind` admin-list-review, `date`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "admin-list-review-age",
  kind = "metric",
  name = "Days since the list of administrator accounts was last checked",
  unit = "days",
  subcontrols = { "8.2.2" },
  schedule = "1w",

  collect = function(ctx)
    return isms.review_age(ctx, "admin-list-review")
  end,

  score = function(value)
    return isms.at_most(value, { { 365, 1 }, { 548, 0.5 } })
  end,
}

return metric
