-- Days since the last verified backup, read from the backup tool's export in
-- the evidence folder (`--evidence DIR`): backups.csv with columns
-- `finished` (YYYY-MM-DD HH:MM) and `status` (`verified`, `ok`, `failed`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "backup-freshness",
  kind = "metric",
  name = "Days since the last verified backup",
  unit = "days",
  subcontrols = { "8.13.2" },
  schedule = "1d",

  collect = function(ctx)
    local rows = ctx.csv.decode(ctx.evidence.read("backups.csv"))
    local latest
    for _, row in ipairs(rows) do
      local finished = isms.parse_date(row.finished)
      if row.status == "verified" and finished and (latest == nil or finished > latest) then
        latest = finished
      end
    end
    if latest == nil then
      ctx.log.warn("backups.csv lists no verified backup")
      return 365
    end
    return math.max(0, isms.days_between(latest, ctx.now()))
  end,

  score = function(days)
    if days <= 1 then
      return 1
    elseif days <= 7 then
      return 0.5
    end
    return 0
  end,
}

return metric
