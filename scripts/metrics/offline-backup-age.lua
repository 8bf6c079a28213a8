-- Days since the last verified backup to a copy that ransomware on the network
-- cannot reach (backups.csv: `finished`, `status` verified|ok|failed, `offline`
-- yes for a disconnected, rotated or immutable copy).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "offline-backup-age",
  kind = "metric",
  name = "Days since the last verified offline backup",
  unit = "days",
  subcontrols = { "8.13.2" },
  schedule = "1d",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "backups.csv", { "offline" })
    local latest = isms.latest(rows, "finished", function(row)
      return row.status == "verified" and isms.truthy(row.offline)
    end)
    return isms.age_days(ctx, latest)
  end,

  score = function(value)
    return isms.at_most(value, { { 7, 1 }, { 31, 0.5 } })
  end,
}

return metric
