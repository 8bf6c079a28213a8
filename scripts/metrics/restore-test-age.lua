-- Days since the last successful restore test: the latest closed instance of a
-- restore-test procedure, else restore-tests.csv (`date`, `result` ok|failed).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "restore-test-age",
  kind = "metric",
  name = "Days since the last successful restore test",
  unit = "days",
  subcontrols = { "8.13.3" },
  schedule = "1d",

  collect = function(ctx)
    local latest = isms.latest(isms.instances(ctx, "restore"), "closed_at")
    if latest == nil then
      latest = isms.latest(isms.evidence_csv(ctx, "restore-tests.csv") or {}, "date", function(row)
        return row.result == "ok"
      end)
    end
    return isms.age_days(ctx, latest)
  end,

  score = function(value)
    return isms.at_most(value, { { 35, 1 }, { 70, 0.5 } })
  end,
}

return metric
