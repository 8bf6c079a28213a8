-- Enabled accounts nobody has logged in with for 90 days (accounts.csv:
-- `enabled`, `last_login`): forgotten accounts of former staff, suppliers or
-- tests are a way in.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "dormant-accounts",
  kind = "metric",
  name = "Enabled accounts not used for 90 days",
  unit = "accounts",
  subcontrols = { "5.18.4" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "accounts.csv", { "last_login" })
    local limit = ctx.now() - 90 * 86400
    return #isms.filter(rows, function(row)
      local last = isms.parse_date(row.last_login)
      return isms.truthy(row.enabled) and (last == nil or last < limit)
    end)
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 }, { 1, 0.5 } })
  end,
}

return metric
