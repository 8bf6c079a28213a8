-- Share of the laptops in endpoints.csv whose disk is encrypted.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "disk-encryption",
  kind = "metric",
  name = "Share of laptops with an encrypted disk",
  unit = "ratio",
  subcontrols = { "8.1.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "endpoints.csv")
    if rows == nil then
      error(why, 0)
    end
    local devices = isms.filter(rows, function(row)
      return row.kind == "laptop"
    end)
    return isms.share(devices, function(row)
      return isms.truthy(row.encrypted)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
