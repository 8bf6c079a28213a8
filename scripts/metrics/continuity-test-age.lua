-- Days since the continuity plan was last tested: the latest closed instance
-- of the continuity-test procedure, or reviews.csv (`kind` continuity-test).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "continuity-test-age",
  kind = "metric",
  name = "Days since the continuity plan was last tested",
  unit = "days",
  subcontrols = { "5.30.4" },
  schedule = "1w",

  collect = function(ctx)
    return isms.review_age(ctx, "continuity-test", "continuity-test")
  end,

  score = function(value)
    return isms.at_most(value, { { 365, 1 }, { 548, 0.5 } })
  end,
}

return metric
