-- For the people who left in the last year (accounts.csv: `left` the last
-- working day, `disabled` the day the account was disabled), the most days an
-- account stayed enabled after it; one still enabled counts until today.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "leaver-accounts",
  kind = "metric",
  name = "Days a leaver's account stayed enabled after the last working day, worst of the last year",
  unit = "days",
  subcontrols = { "5.18.1" },
  schedule = "1d",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "accounts.csv", { "left", "disabled" })
    local now = ctx.now()
    local worst = 0
    for _, row in ipairs(rows) do
      local left = isms.parse_date(row.left)
      if left and left >= now - 365 * 86400 and left <= now then
        local disabled = isms.parse_date(row.disabled)
        if disabled == nil and isms.truthy(row.enabled) then
          disabled = now
        end
        if disabled then
          worst = math.max(worst, isms.days_between(left, disabled))
        end
      end
    end
    return worst
  end,

  score = function(value)
    return isms.at_most(value, { { 1, 1 }, { 7, 0.5 } })
  end,
}

return metric
