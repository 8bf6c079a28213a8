-- Share of the key suppliers (suppliers.csv: `supplier`, `critical`,
-- `last_review`) not reviewed in the last 365 days; closed instances of the
-- supplier-review procedure naming the supplier count as reviews (its
-- onboarding does not: that is a check before hiring, not a yearly review).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "supplier-reviews-expired",
  kind = "metric",
  name = "Share of key suppliers whose yearly review has expired",
  unit = "ratio",
  subcontrols = { "5.22.1" },
  schedule = "1w",

  collect = function(ctx)
    local rows, why = isms.evidence_csv(ctx, "suppliers.csv")
    if rows == nil then
      error(why, 0)
    end
    local reviewed = {}
    for _, instance in ipairs(isms.instances(ctx, "supplier-review")) do
      for _, fields in pairs(instance.registers or {}) do
        if fields.supplier and instance.closed_at then
          reviewed[fields.supplier] = math.max(reviewed[fields.supplier] or 0, instance.closed_at)
        end
      end
    end
    local key = isms.filter(rows, function(row)
      return isms.truthy(row.critical)
    end)
    local limit = ctx.now() - 365 * 86400
    return isms.share(key, function(row)
      local last = math.max(isms.parse_date(row.last_review) or 0, reviewed[row.supplier] or 0)
      return last < limit
    end, 0)
  end,

  score = function(value)
    return 1 - value
  end,
}

return metric
