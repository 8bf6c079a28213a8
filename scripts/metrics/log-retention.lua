-- The shortest log retention among the key systems (logs.csv: `system`,
-- `retention_days`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "log-retention",
  kind = "metric",
  name = "Shortest log retention of the key systems",
  unit = "days",
  subcontrols = { "8.15.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "logs.csv")
    if rows == nil then
      error(why, 0)
    end
    local shortest
    for _, row in ipairs(rows) do
      local days = tonumber(row.retention_days)
      if days and (shortest == nil or days < shortest) then
        shortest = days
      end
    end
    return shortest or 0
  end,

  score = function(value)
    return isms.at_least(value, { { 180, 1 }, { 90, 0.5 } })
  end,
}

return metric
