-- Share of the desktops and laptops (endpoints.csv: `kind`, `auto_update`)
-- that install system and application updates automatically.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "auto-updates",
  kind = "metric",
  name = "Share of computers with automatic updates switched on",
  unit = "ratio",
  subcontrols = { "8.8.1" },
  schedule = "1d",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "endpoints.csv", { "auto_update" })
    return isms.share(isms.filter(rows, isms.workstation), function(row)
      return isms.truthy(row.auto_update)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
