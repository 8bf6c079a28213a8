-- Procedure action for the first phase of incident management (MMSM-SME A3.2):
-- when the reporter leaves the date out, the incident register gets today's date,
-- so that every incident is dated by the time it closes.

---@type mmsm.ProcedureAction
local action = {
  id = "incident-reported-on",
  kind = "procedure_action",
  name = "Date an incident report",

  run = function(ctx, instance)
    local register = (instance.registers or {})["reg-incidents"] or {}
    if register.reported_on ~= nil then
      return { fields = {} }
    end
    ctx.log.info(("dating %s"):format(instance.id))
    return {
      fields = { reported_on = os.date("!%Y-%m-%d", ctx.now()) },
      events = { { note = "reported_on filled by incident-reported-on", by = ctx.user } },
    }
  end,
}

return action
