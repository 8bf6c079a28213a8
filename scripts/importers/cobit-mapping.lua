-- A CSV mapping COBIT 2019 objectives or management practices to ISO/IEC 27002:2022 controls:
-- columns `cobit` (APO13 or APO13.01), `cobit_name`, `iso27002` (5.1), `relation` (equal,
-- subset, superset, related; default related).
--   -> mappings `cobit2019:APO13.01` -> `iso27002:5.1` (merged by the pair);
--   and, into a new schema (`--new`), the COBIT objectives as a second framework: the five
--   COBIT domains (EDM, APO, BAI, DSS, MEA) as domains, each objective as a control, each
--   practice as a subcontrol of level 2 (an objective named alone gets one of level 1).
-- Rows without both ids, or with an unknown relation, are skipped and counted.

---@type mmsm.Importer
local importer = {
  id = "cobit-mapping",
  kind = "importer",
  name = "COBIT 2019 -> ISO/IEC 27002 mapping (CSV): mappings, and COBIT as a framework",
  formats = { "csv" },
}

local DOMAINS = {
  EDM = "Evaluate, Direct and Monitor",
  APO = "Align, Plan and Organize",
  BAI = "Build, Acquire and Implement",
  DSS = "Deliver, Service and Support",
  MEA = "Monitor, Evaluate and Assess",
}
local RELATIONS = { equal = true, subset = true, superset = true, related = true }

function importer.import(ctx, rows)
  local result = { mappings = {} }
  local skipped = { ["rows without both ids or with an unknown relation"] = 0 }
  local framework = ctx.schema.new
  local domains, controls, order = {}, {}, {}
  for _, row in ipairs(rows) do
    local cobit, iso = row.cobit, row.iso27002
    local relation = (row.relation or "related"):lower()
    local objective = cobit and cobit:match("^(%u%u%u%d%d)")
    if not (objective and iso and RELATIONS[relation]) then
      skipped["rows without both ids or with an unknown relation"] =
        skipped["rows without both ids or with an unknown relation"] + 1
    else
      result.mappings[#result.mappings + 1] = {
        from = "cobit2019:" .. cobit,
        to = "iso27002:" .. iso,
        relation = relation,
      }
      if framework then
        local domain = objective:sub(1, 3)
        domains[domain] = true
        local control = controls[objective]
        if not control then
          control = { id = objective, domain = domain, title = row.objective_name or objective, subcontrols = {}, seen = {} }
          controls[objective] = control
          order[#order + 1] = objective
        end
        if not control.seen[cobit] then
          control.seen[cobit] = true
          local level = cobit == objective and 1 or 2
          local text = row.cobit_name or cobit
          control.subcontrols[#control.subcontrols + 1] = { id = cobit, level = level, text = text }
        end
      end
    end
  end
  if framework then
    result.domains, result.controls = {}, {}
    for _, id in ipairs({ "EDM", "APO", "BAI", "DSS", "MEA" }) do
      if domains[id] then
        result.domains[#result.domains + 1] = { id = id, name = DOMAINS[id] }
      end
    end
    for _, id in ipairs(order) do
      local control = controls[id]
      control.seen = nil
      result.controls[#result.controls + 1] = control
    end
  end
  result.skipped = skipped
  return result
end

return importer
