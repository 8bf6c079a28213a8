-- Days until the first certificate of certificates.csv (`name`, `expires`)
-- expires; negative when one has expired already.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "certificate-expiry",
  kind = "metric",
  name = "Days until the first website or signature certificate expires",
  unit = "days",
  subcontrols = { "8.24.3" },
  schedule = "1d",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "certificates.csv", { "expires" })
    local first
    for _, row in ipairs(rows) do
      local at = isms.parse_date(row.expires)
      if at and (first == nil or at < first) then
        first = at
      end
    end
    if first == nil then
      return nil
    end
    return math.floor(isms.days_between(ctx.now(), first))
  end,

  score = function(value)
    return isms.at_least(value, { { 30, 1 }, { 7, 0.5 } })
  end,
}

return metric
