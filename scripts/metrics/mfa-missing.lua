-- Share of the enabled accounts without a second factor, from the identity
-- provider's export accounts.csv (`user`, `enabled`, `admin`, `mfa`, `password_manager`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "mfa-missing",
  kind = "metric",
  name = "Share of active accounts without MFA",
  unit = "ratio",
  subcontrols = { "8.5.1" },
  schedule = "1d",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "accounts.csv")
    if rows == nil then
      error(why, 0)
    end
    local accounts = isms.filter(rows, function(row)
      return isms.truthy(row.enabled) and (true)
    end)
    return isms.share(accounts, function(row)
      return not isms.truthy(row.mfa)
    end, 0)
  end,

  score = function(value)
    return 1 - value
  end,
}

return metric
