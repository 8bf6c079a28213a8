-- Audit findings not followed up (issue 15.4): the open non-conformities
-- (`ctx.findings`, kind major or minor, not closed) that have no corrective
-- action yet or whose action is past its due date and not done. It feeds
-- "every finding gets a corrective action with an owner and a due date".
-- With no audit held and no finding recorded there is nothing to measure:
-- the metric gives no value and the declared answer stands.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "open-findings",
  kind = "metric",
  name = "Open non-conformities without a corrective action on time",
  unit = "findings",
  subcontrols = { "5.35.3" },
  schedule = "1d",

  collect = function(ctx)
    local findings = ctx.findings or {}
    if #findings == 0 and #(ctx.audits or {}) == 0 then
      return nil
    end
    local now = ctx.now()
    local behind = 0
    for _, finding in ipairs(findings) do
      local nonconformity = finding.kind == "major" or finding.kind == "minor"
      if nonconformity and finding.closed == nil then
        local response = finding.response
        if response == nil then
          behind = behind + 1
        elseif response.done == nil then
          local due = isms.time_of(response.due)
          -- Due at the end of its day.
          if due and due + 86400 <= now then
            behind = behind + 1
          end
        end
      end
    end
    return behind
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 }, { 1, 0.5 } })
  end,
}

return metric
