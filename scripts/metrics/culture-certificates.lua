-- Share of active users holding a valid security-culture certificate
-- (MMSM-SME A3.1, DESIGN.md 6.3): it feeds the awareness subcontrols.
-- A certificate counts when it is not revoked and not past its expiry
-- (`expires_at`, seconds, or `expires`, a date).
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
    local now = ctx.now()
    local valid = {}
    for _, cert in ipairs(ctx.certificates or {}) do
      local expires = isms.time_of(cert.expires_at) or isms.parse_date(cert.expires)
      local usable = cert.revoked == nil and cert.status ~= "revoked" and cert.status ~= "expired"
      if usable and (expires == nil or expires >= now) then
        valid[cert.user] = true
      end
    end
    local active = isms.filter(ctx.users or {}, function(user)
      return user.active ~= false
    end)
    ctx.log.debug(("%d active users"):format(#active))
    return isms.share(active, function(user)
      return valid[user.id] == true
    end, 0)
  end,

  -- The share is the compliance: every user must know the rules.
  score = function(value)
    return value
  end,
}

return metric
