-- Days since the last external audit of the ISMS (issue 15.4): the latest
-- `on` date of the audits held (`ctx.audits`, recorded with `mmsm isms
-- audit-held`) whose kind is external. It feeds ISO/IEC 27002 5.35, an
-- independent review at least every two years. Never audited: 9999 days.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "external-audit-age",
  kind = "metric",
  name = "Days since the last external audit",
  unit = "days",
  subcontrols = { "5.35.2" },
  schedule = "1d",

  collect = function(ctx)
    local latest = isms.latest(ctx.audits or {}, "on", function(audit)
      return audit.kind == "external"
    end)
    return isms.age_days(ctx, latest)
  end,

  score = function(value)
    return isms.at_most(value, { { 730, 1 }, { 1095, 0.5 } })
  end,
}

return metric
