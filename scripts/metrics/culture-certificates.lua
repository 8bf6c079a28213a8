-- Share of active users holding a valid security-culture certificate
-- (MMSM-SME A3.1, DESIGN.md 6.3): it feeds the awareness subcontrols.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "culture-certificates",
  kind = "metric",
  name = "Share of active users with a valid culture certificate",
  unit = "ratio",
  subcontrols = { "6.3.1" },
  schedule = "1d",

  collect = function(ctx)
    local now = ctx.now()
    local valid_until = {}
    for _, cert in ipairs(ctx.certificates or {}) do
      local expires = isms.parse_date(cert.expires)
      local usable = cert.status == "valid" or cert.status == "expiring"
      if usable and (expires == nil or expires >= now) then
        valid_until[cert.user] = true
      end
    end
    local active = isms.filter(ctx.users or {}, function(user)
      return user.active ~= false
    end)
    ctx.log.debug(("%d active users"):format(#active))
    return isms.share(active, function(user)
      return valid_until[user.id] == true
    end)
  end,

  -- The share is the compliance: every user must know the rules.
  score = function(value)
    return value
  end,
}

return metric
