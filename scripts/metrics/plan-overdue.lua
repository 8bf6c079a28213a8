-- Items of the improvement plan whose due date has passed and that are not done
-- (plan follow-up of the ISMS: `due` YYYY-MM-DD, `done_at`).
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "plan-overdue",
  kind = "metric",
  name = "Improvement-plan items past their due date",
  unit = "items",
  subcontrols = { "5.36.2" },
  schedule = "1d",

  collect = function(ctx)
    local now = ctx.now()
    local overdue = 0
    for _, item in ipairs(ctx.plan or {}) do
      local due = isms.time_of(item.due)
      -- Overdue from the day after its due date, as the plan page counts it.
      if due and due + 86400 <= now and item.done_at == nil then
        overdue = overdue + 1
      end
    end
    return overdue
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 }, { 2, 0.5 } })
  end,
}

return metric
