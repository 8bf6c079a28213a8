-- Days since the firewall rules were last reviewed (reviews.csv: `kind`
-- firewall-review, `date`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "firewall-review-age",
  kind = "metric",
  name = "Days since the firewall rules were last reviewed",
  unit = "days",
  subcontrols = { "8.20.4" },
  schedule = "1w",

  collect = function(ctx)
    return isms.review_age(ctx, "firewall-review")
  end,

  score = function(value)
    return isms.at_most(value, { { 365, 1 }, { 548, 0.5 } })
  end,
}

return metric
