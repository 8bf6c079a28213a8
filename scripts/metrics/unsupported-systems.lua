-- Share of the devices in endpoints.csv running a system that its maker no
-- longer supports (`os_supported` false).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "unsupported-systems",
  kind = "metric",
  name = "Share of devices on an unsupported system",
  unit = "ratio",
  subcontrols = { "8.8.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "endpoints.csv")
    if rows == nil then
      error(why, 0)
    end
    local devices = isms.filter(rows, function(row)
      return true
    end)
    return isms.share(devices, function(row)
      return not isms.truthy(row.os_supported)
    end)
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 }, { 0.05, 0.5 } })
  end,
}

return metric
