-- Share of the laptops, phones and tablets (endpoints.csv: `kind`,
-- `remote_wipe`) whose company data can be wiped when they are lost.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "remote-wipe",
  kind = "metric",
  name = "Share of laptops and phones that can be wiped remotely",
  unit = "ratio",
  subcontrols = { "8.1.3" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "endpoints.csv", { "remote_wipe" })
    local portable = isms.filter(rows, function(row)
      return row.kind == "laptop" or row.kind == "phone" or row.kind == "tablet"
    end)
    return isms.share(portable, function(row)
      return isms.truthy(row.remote_wipe)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
