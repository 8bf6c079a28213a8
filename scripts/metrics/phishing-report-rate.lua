-- Of the staff sent the latest practice phishing email (phishing-tests.csv:
-- `date`, `sent`, `clicked`, `reported`), the share who reported it: people
-- who report at once, without fear of blame, are the earliest alarm.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "phishing-report-rate",
  kind = "metric",
  name = "Share of staff who reported the latest practice phishing email",
  unit = "ratio",
  subcontrols = { "6.8.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "phishing-tests.csv", { "sent", "reported" })
    local latest, at
    for _, row in ipairs(rows) do
      local date = isms.parse_date(row.date)
      if date and (at == nil or date > at) and (tonumber(row.sent) or 0) > 0 then
        latest, at = row, date
      end
    end
    if latest == nil then
      return nil
    end
    return math.min(1, (tonumber(latest.reported) or 0) / tonumber(latest.sent))
  end,

  score = function(value)
    return isms.at_least(value, { { 0.7, 1 }, { 0.4, 0.5 } })
  end,
}

return metric
