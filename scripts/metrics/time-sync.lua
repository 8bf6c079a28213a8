-- Share of all devices of endpoints.csv (`ntp`) that set their clock
-- automatically, so that logs of different systems can be put in order.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "time-sync",
  kind = "metric",
  name = "Share of devices that set their clock from a time server",
  unit = "ratio",
  subcontrols = { "8.17.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "endpoints.csv", { "ntp" })
    return isms.share(rows, function(row)
      return isms.truthy(row.ntp)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
