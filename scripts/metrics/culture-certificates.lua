-- Share of the users who need a culture certificate that hold a valid one:
-- each user's `certificate` in ctx.users is the status the culture page shows
-- (valid, expiring, expired, revoked, none, not-required), so the metric and
-- the page count the same people. Nobody needs one: nothing to measure.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "culture-certificates",
  kind = "metric",
  name = "Share of active users with a valid culture certificate",
  unit = "ratio",
  subcontrols = { "6.3.2" },
  schedule = "1d",

  collect = function(ctx)
    local needing = isms.filter(ctx.users or {}, function(user)
      return user.certificate ~= "not-required"
    end)
    if #needing == 0 then
      return nil
    end
    return isms.share(needing, function(user)
      return user.certificate == "valid" or user.certificate == "expiring"
    end)
  end,

  -- The share is the compliance: every user must know the rules.
  score = function(value)
    return value
  end,
}

return metric
