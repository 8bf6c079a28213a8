-- Share of the open incidents whose deadline has passed (incident procedure
-- instances, else incidents.csv); 0 when none is open.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "incidents-overdue",
  kind = "metric",
  name = "Share of incidents open past their deadline",
  unit = "ratio",
  subcontrols = { "5.26.3" },
  schedule = "12h",

  collect = function(ctx)
    local now = ctx.now()
    local open = isms.filter(isms.incidents(ctx), function(incident)
      return incident.closed == nil
    end)
    if #open == 0 then
      return 0
    end
    return isms.share(open, function(incident)
      return incident.deadline ~= nil and incident.deadline < now
    end)
  end,

  score = function(value)
    return 1 - value
  end,
}

return metric
