-- Of the suppliers that handle personal data for the company (suppliers.csv:
-- `personal_data` yes), the share with a signed data processing agreement
-- (`dpa` yes), as GDPR art. 28 requires.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "supplier-dpa",
  kind = "metric",
  name = "Share of suppliers handling personal data with a signed processing agreement",
  unit = "ratio",
  subcontrols = { "5.20.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "suppliers.csv", { "personal_data", "dpa" })
    local processors = isms.filter(rows, function(row)
      return isms.truthy(row.personal_data)
    end)
    return isms.share(processors, function(row)
      return isms.truthy(row.dpa)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
