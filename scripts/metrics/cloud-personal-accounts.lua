-- Share of the cloud services in use (cloud-services.csv: `service`,
-- `registered_to` company|personal) whose account belongs to someone's
-- personal address rather than the company's.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "cloud-personal-accounts",
  kind = "metric",
  name = "Share of cloud services registered to a personal address",
  unit = "ratio",
  subcontrols = { "5.23.5" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "cloud-services.csv", { "registered_to" })
    return isms.share(rows, function(row)
      return (row.registered_to or ""):lower() ~= "company"
    end, 0)
  end,

  score = function(value)
    return 1 - value
  end,
}

return metric
