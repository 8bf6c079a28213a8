-- Share of the enabled personal accounts enrolled in the password manager
-- (accounts.csv, column `password_manager`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "password-manager",
  kind = "metric",
  name = "Share of active accounts using the password manager",
  unit = "ratio",
  subcontrols = { "5.17.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "accounts.csv")
    if rows == nil then
      error(why, 0)
    end
    local accounts = isms.filter(rows, function(row)
      return isms.truthy(row.enabled) and (true)
    end)
    return isms.share(accounts, function(row)
      return isms.truthy(row.password_manager)
    end, 1)
  end,

  score = function(value)
    return value
  end,
}

return metric
