-- Days since the last verified backup, read from the backup tool's export in
-- the evidence folder: backups.csv with columns `finished` (YYYY-MM-DD HH:MM)
-- and `status` (`verified`, `ok`, `failed`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "backup-freshness",
  kind = "metric",
  name = "Days since the last verified backup",
  unit = "days",
  subcontrols = { "8.13.1" },
  schedule = "1d",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "backups.csv")
    if rows == nil then
      error(why, 0)
    end
    local latest = isms.latest(rows, "finished", function(row)
      return row.status == "verified"
    end)
    if latest == nil then
      ctx.log.warn("backups.csv lists no verified backup")
    end
    return isms.age_days(ctx, latest, 365)
  end,

  score = function(value)
    return isms.at_most(value, { { 1, 1 }, { 7, 0.5 } })
  end,
}

return metric
