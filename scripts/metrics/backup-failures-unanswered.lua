-- Share of the failed backups of the last 90 days that no successful backup
-- (`verified` or `ok`) of the same target followed within two days: a failure
-- someone acts on is fixed by the next night (backups.csv).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "backup-failures-unanswered",
  kind = "metric",
  name = "Share of failed backups of the last 90 days not followed by a good one within two days",
  unit = "ratio",
  subcontrols = { "8.13.5" },
  schedule = "1d",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "backups.csv")
    local since = ctx.now() - 90 * 86400
    local failures = isms.filter(rows, function(row)
      local at = isms.parse_date(row.finished)
      return row.status == "failed" and at ~= nil and at >= since
    end)
    return isms.share(failures, function(failure)
      local failed_at = isms.parse_date(failure.finished)
      local fixed = isms.latest(rows, "finished", function(row)
        local at = isms.parse_date(row.finished)
        return (row.status == "verified" or row.status == "ok")
          and (row.target or "") == (failure.target or "")
          and at > failed_at and at <= failed_at + 2 * 86400
      end)
      return fixed == nil
    end, 0)
  end,

  score = function(value)
    return 1 - value
  end,
}

return metric
