-- A CISO Assistant library (YAML, intuitem's format).
--   objects.framework.requirement_nodes:
--     an assessable node                -> a control (id = the last part of its urn, e.g.
--                                          `ac-2`, `ac-2(1)` as `ac-2.1`; title = its name
--                                          or ref_id) with one
--                                          subcontrol of the same id (text = its description,
--                                          else its name; level 2 for 800-53 enhancements
--                                          such as `AC-2(1)`, else 1)
--     the nearest non-assessable ancestor -> the control's domain (a root when there is none)
--     withdrawn nodes ("[Withdrawn: ...]") are skipped and counted
--   objects.requirement_mapping_sets[].requirement_mappings (or the singular
--   requirement_mapping_set) -> mappings `framework:node` -> `framework:node`, with
--   relationship equal, subset, superset kept, intersect -> related; not_related skipped.

---@type mmsm.Importer
local importer = {
  id = "ciso-assistant",
  kind = "importer",
  name = "CISO Assistant library (YAML): framework requirement nodes and requirement mappings",
  formats = { "yaml" },
}

-- An urn's node as a schema id (letters, digits, `.`, `-`, `_`): 800-53's
-- enhancement `ac-2(1)` becomes `ac-2.1`, as OSCAL spells it; any other
-- character becomes `-`.
local function schema_id(node)
  local id = node:gsub("%((%w+)%)", ".%1"):gsub("[^%w%.%-_]", "-")
  return id
end

-- `urn:intuitem:risk:req_node:nist-sp-800-53-rev5:ac-2` -> "nist-sp-800-53-rev5", "ac-2"
local function split_urn(urn)
  local framework, node = tostring(urn):match("req_node:([^:]+):(.+)$")
  return framework, node and schema_id(node)
end

local RELATIONS = { equal = "equal", subset = "subset", superset = "superset", intersect = "related" }

local function import_framework(framework, result, skipped)
  local nodes = framework.requirement_nodes or {}
  local by_urn = {}
  for _, node in ipairs(nodes) do
    by_urn[node.urn] = node
  end
  local domains = {}
  local function domain_of(node)
    local parent = by_urn[node.parent_urn]
    while parent and parent.assessable do
      parent = by_urn[parent.parent_urn]
    end
    local holder = parent or { urn = "root", name = framework.name or "Requirements" }
    local _, id = split_urn(holder.urn)
    id = id or "root"
    if not domains[id] then
      domains[id] = true
      local name = holder.name or holder.ref_id or id
      if holder.ref_id and holder.name and holder.ref_id ~= holder.name then
        name = holder.ref_id .. " " .. holder.name
      end
      result.domains[#result.domains + 1] = { id = id, name = name }
    end
    return id
  end
  for _, node in ipairs(nodes) do
    if node.assessable then
      local description = node.description or ""
      if description:find("^%[Withdrawn") then
        skipped["withdrawn requirements"] = skipped["withdrawn requirements"] + 1
      else
        local _, id = split_urn(node.urn)
        local title = node.name or node.ref_id or id
        local text = description ~= "" and description or title
        local level = (node.ref_id or ""):find("%(%d+%)$") and 2 or 1
        result.controls[#result.controls + 1] = {
          id = id,
          domain = domain_of(node),
          title = title,
          subcontrols = { { id = id, level = level, text = text:gsub("%s+", " ") } },
        }
      end
    end
  end
end

local function import_mappings(sets, result, skipped)
  for _, set in ipairs(sets) do
    for _, pair in ipairs(set.requirement_mappings or {}) do
      local relation = RELATIONS[pair.relationship]
      local from_fw, from = split_urn(pair.source_requirement_urn)
      local to_fw, to = split_urn(pair.target_requirement_urn)
      if relation and from and to then
        result.mappings[#result.mappings + 1] = {
          from = from_fw .. ":" .. from,
          to = to_fw .. ":" .. to,
          relation = relation,
        }
      else
        skipped["mappings not related or unreadable"] = skipped["mappings not related or unreadable"] + 1
      end
    end
  end
end

function importer.import(ctx, input)
  local objects = input.objects
  if type(objects) ~= "table" then
    error("not a CISO Assistant library: the file has no `objects`")
  end
  local result = { domains = {}, controls = {}, mappings = {} }
  local skipped = { ["withdrawn requirements"] = 0, ["mappings not related or unreadable"] = 0 }
  if objects.framework then
    import_framework(objects.framework, result, skipped)
  end
  local sets = objects.requirement_mapping_sets or { objects.requirement_mapping_set }
  import_mappings(sets, result, skipped)
  result.skipped = skipped
  result.notes = {
    ("%s: %d controls, %d mappings"):format(input.name or ctx.file, #result.controls, #result.mappings),
  }
  return result
end

return importer
