-- Incidents opened in the last 90 days (incident procedure instances, else
-- incidents.csv): many incidents say that their causes are not removed.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "incidents-90d",
  kind = "metric",
  name = "Incidents in the last 90 days",
  unit = "incidents",
  subcontrols = { "5.27.1" },
  schedule = "1d",

  collect = function(ctx)
    local since = ctx.now() - 90 * 86400
    local count = 0
    for _, incident in ipairs(isms.incidents(ctx)) do
      if incident.opened and incident.opened >= since then
        count = count + 1
      end
    end
    return count
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 }, { 2, 0.75 }, { 5, 0.5 } }, 0.25)
  end,
}

return metric
