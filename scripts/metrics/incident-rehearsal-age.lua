-- Days since the incident procedure was last rehearsed, for example with a
-- ransomware scenario around a table (reviews.csv: `kind` incident-rehearsal).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "incident-rehearsal-age",
  kind = "metric",
  name = "Days since the incident procedure was last rehearsed",
  unit = "days",
  subcontrols = { "5.24.3" },
  schedule = "1w",

  collect = function(ctx)
    return isms.review_age(ctx, "incident-rehearsal")
  end,

  score = function(value)
    return isms.at_most(value, { { 365, 1 }, { 548, 0.5 } })
  end,
}

return metric
