-- The longest time taken to install a critical patch released in the last 90
-- days, from patches.csv (`host`, `severity`, `released`, `installed`); a patch
-- not installed yet counts until now.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "patch-lag",
  kind = "metric",
  name = "Days to install critical patches (worst of the last 90 days)",
  unit = "days",
  subcontrols = { "8.8.3" },
  schedule = "1d",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "patches.csv")
    if rows == nil then
      error(why, 0)
    end
    local now = ctx.now()
    local worst = 0
    for _, row in ipairs(rows) do
      local released = isms.parse_date(row.released)
      if row.severity == "critical" and released and released >= now - 90 * 86400 then
        local installed = isms.parse_date(row.installed) or now
        worst = math.max(worst, isms.days_between(released, installed))
      end
    end
    return worst
  end,

  score = function(value)
    return isms.at_most(value, { { 14, 1 }, { 30, 0.5 } })
  end,
}

return metric
