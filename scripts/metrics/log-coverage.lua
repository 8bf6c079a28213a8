-- Share of the key systems of logs.csv (`system`, `logins` yes when logins
-- and important actions are recorded) whose logs would show who did what.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "log-coverage",
  kind = "metric",
  name = "Share of key systems that record logins",
  unit = "ratio",
  subcontrols = { "8.15.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "logs.csv", { "logins" })
    return isms.share(rows, function(row)
      return isms.truthy(row.logins)
    end, 0)
  end,

  score = function(value)
    return value
  end,
}

return metric
