-- Share of the cloud services in use (cloud-services.csv: `mfa`) whose
-- accounts all log in with a second step.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "cloud-mfa",
  kind = "metric",
  name = "Share of cloud services with MFA switched on",
  unit = "ratio",
  subcontrols = { "5.23.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "cloud-services.csv", { "mfa" })
    return isms.share(rows, function(row)
      return isms.truthy(row.mfa)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
