-- Of the incidents closed in the last year, the share whose root cause and
-- actions are recorded (incident procedure instances, else incidents.csv:
-- `closed`, `cause`, `action`). Nothing closed, nothing to measure: the answer
-- stands. Reporting fewer incidents cannot raise this score.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "incidents-learned",
  kind = "metric",
  name = "Share of the incidents closed in the last year with a cause found and a measure taken",
  unit = "ratio",
  subcontrols = { "5.27.1" },
  schedule = "1d",

  collect = function(ctx)
    local since = ctx.now() - 365 * 86400
    local closed = isms.filter(isms.incidents(ctx), function(incident)
      return incident.closed ~= nil and incident.closed >= since
    end)
    if #closed == 0 then
      return nil
    end
    return isms.share(closed, function(incident)
      return incident.learned == true
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
