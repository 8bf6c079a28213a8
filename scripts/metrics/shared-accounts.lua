-- Share of the enabled shared or technical accounts (accounts.csv: `shared`
-- yes) that name no `owner`: each one must be listed with who answers for it.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "shared-accounts",
  kind = "metric",
  name = "Share of enabled shared accounts without a named owner",
  unit = "ratio",
  subcontrols = { "5.16.3" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "accounts.csv", { "shared", "owner" })
    local shared = isms.filter(rows, function(row)
      return isms.truthy(row.enabled) and isms.truthy(row.shared)
    end)
    return isms.share(shared, function(row)
      return (row.owner or "") == ""
    end, 0)
  end,

  score = function(value)
    return 1 - value
  end,
}

return metric
