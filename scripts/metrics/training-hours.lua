-- Security training hours per active user of the ISMS in the last 365 days
-- (training.csv: `user`, `course`, `hours`, `date`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "training-hours",
  kind = "metric",
  name = "Security training hours per user in the last year",
  unit = "hours",
  subcontrols = { "6.3.3" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "training.csv")
    if rows == nil then
      error(why, 0)
    end
    local since = ctx.now() - 365 * 86400
    local hours = 0
    for _, row in ipairs(rows) do
      local at = isms.parse_date(row.date)
      if at and at >= since then
        hours = hours + (tonumber(row.hours) or 0)
      end
    end
    local users = #(ctx.users or {})
    if users == 0 then
      users = 1
    end
    return hours / users
  end,

  score = function(value)
    return isms.at_least(value, { { 2, 1 }, { 1, 0.5 } })
  end,
}

return metric
