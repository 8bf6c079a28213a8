-- Incidents opened in the last 90 days (incident procedure instances, else
-- incidents.csv), the same count as the incident register shows. An indicator
-- for the security officer and the management review, bound to no question:
-- a count of reported incidents cannot score a control, since reporting none
-- would score best (5.27.1 is measured by incidents-learned).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "incidents-90d",
  kind = "metric",
  name = "Incidents in the last 90 days",
  unit = "incidents",
  subcontrols = {},
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
}

return metric
