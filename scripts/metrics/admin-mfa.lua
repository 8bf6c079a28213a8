-- Share of the enabled administrator accounts that sign in with a second
-- factor (accounts.csv).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "admin-mfa",
  kind = "metric",
  name = "Share of administrator accounts with MFA",
  unit = "ratio",
  subcontrols = { "8.2.3" },
  schedule = "1d",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "accounts.csv")
    if rows == nil then
      error(why, 0)
    end
    local accounts = isms.filter(rows, function(row)
      return isms.truthy(row.enabled) and (isms.truthy(row.admin))
    end)
    return isms.share(accounts, function(row)
      return isms.truthy(row.mfa)
    end, 1)
  end,

  score = function(value)
    return value
  end,
}

return metric
