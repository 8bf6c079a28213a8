-- Share of the desktops and laptops (endpoints.csv: `screen_lock_minutes`,
-- empty when it never locks) that lock themselves within 10 minutes.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "screen-lock",
  kind = "metric",
  name = "Share of computers that lock within 10 minutes of inactivity",
  unit = "ratio",
  subcontrols = { "7.7.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "endpoints.csv", { "screen_lock_minutes" })
    return isms.share(isms.filter(rows, isms.workstation), function(row)
      local minutes = tonumber(row.screen_lock_minutes)
      return minutes ~= nil and minutes > 0 and minutes <= 10
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
