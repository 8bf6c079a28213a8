-- Share of the devices (endpoints.csv: `host`, `kind`, `antivirus`,
-- `av_updated`, `encrypted`, `os_supported`) whose anti-malware runs and was
-- updated in the last 7 days.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "antivirus-coverage",
  kind = "metric",
  name = "Share of devices with anti-malware running and updated",
  unit = "ratio",
  subcontrols = { "8.7.1" },
  schedule = "1d",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "endpoints.csv")
    if rows == nil then
      error(why, 0)
    end
    local now = ctx.now()
    local devices = isms.filter(rows, function(row)
      return true
    end)
    return isms.share(devices, function(row)
      return isms.truthy(row.antivirus) and (isms.parse_date(row.av_updated) or 0) >= now - 7 * 86400
    end)
  end,

  score = function(value)
    return isms.at_least(value, { { 1, 1 }, { 0.9, 0.5 } })
  end,
}

return metric
