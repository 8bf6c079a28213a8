-- Share of the desktops and laptops (endpoints.csv: `users_can_install`) on
-- which a normal user cannot install software by themselves.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "user-installs-blocked",
  kind = "metric",
  name = "Share of computers where normal users cannot install software",
  unit = "ratio",
  subcontrols = { "8.19.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "endpoints.csv", { "users_can_install" })
    return isms.share(isms.filter(rows, isms.workstation), function(row)
      return not isms.truthy(row.users_can_install)
    end)
  end,

  score = function(value)
    return value
  end,
}

return metric
