-- Any OSCAL catalog (JSON): NIST SP 800-53 rev5, NIST CSF 2.0, ...
--   groups                      -> domains (id and title of the group)
--   controls of a group         -> controls (id, title; domain = the group)
--   statement items (a., b.)    -> subcontrols of level 1 (id = the item's id, text = its
--                                  label and prose with the nested items' prose)
--   child controls (800-53 control enhancements, CSF subcategories)
--                               -> subcontrols of level 2 (id = the child's id, text = its
--                                  title and statement)
--   a control with neither      -> one subcontrol of level 1: its statement (`<id>_smt`)
--   withdrawn controls and child controls (prop status = withdrawn) are skipped and counted.
-- Parameters `{{ insert: param, id }}` become `[label]` (the parameter's label or choice).
-- Groups nested in groups are flattened into their top-level group.

---@type mmsm.Importer
local importer = {
  id = "oscal-catalog",
  kind = "importer",
  name = "OSCAL catalog (JSON): groups, controls, enhancements and statement items",
  formats = { "json" },
}

local function prop(element, name)
  for _, p in ipairs(element.props or {}) do
    if p.name == name then
      return p.value
    end
  end
  return nil
end

local function withdrawn(element)
  return prop(element, "status") == "withdrawn"
end

local function collect_params(control, into)
  for _, param in ipairs(control.params or {}) do
    local label = param.label
    if label == nil and param.select then
      label = table.concat(param.select.choice or {}, "; ")
    end
    into[param.id] = label or param.id
  end
  return into
end

local function clean(text, params)
  text = (text or ""):gsub("{{%s*insert:%s*param,%s*([%w%._%-]+)%s*}}", function(id)
    return "[" .. (params[id] or id) .. "]"
  end)
  return (text:gsub("%s+", " "):gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The prose of an item and of the items nested in it, with their labels.
local function item_text(part, params, out)
  local label = prop(part, "label")
  local prose = clean(part.prose, params)
  if prose ~= "" then
    out[#out + 1] = label and (label .. " " .. prose) or prose
  end
  for _, child in ipairs(part.parts or {}) do
    if child.name == "item" then
      item_text(child, params, out)
    end
  end
  return out
end

local function statement_of(control)
  for _, part in ipairs(control.parts or {}) do
    if part.name == "statement" then
      return part
    end
  end
  return nil
end

local function whole_statement(control, params)
  local statement = statement_of(control)
  if statement == nil then
    return ""
  end
  return table.concat(item_text(statement, params, {}), " ")
end

local function convert_control(control, domain, result, skipped)
  local params = collect_params(control, {})
  local subs = {}
  local statement = statement_of(control)
  if statement then
    for _, part in ipairs(statement.parts or {}) do
      if part.name == "item" then
        subs[#subs + 1] = { id = part.id, level = 1, text = table.concat(item_text(part, params, {}), " ") }
      end
    end
  end
  for _, child in ipairs(control.controls or {}) do
    if withdrawn(child) then
      skipped["withdrawn child controls"] = skipped["withdrawn child controls"] + 1
    else
      local child_params = collect_params(child, setmetatable({}, { __index = params }))
      local text = whole_statement(child, child_params)
      local title = clean(child.title, child_params)
      if text == "" then
        text = title
      elseif title ~= child.id then
        text = title .. ": " .. text
      end
      subs[#subs + 1] = { id = child.id, level = 2, text = text }
    end
  end
  if #subs == 0 then
    local text = whole_statement(control, params)
    subs[1] = { id = control.id .. "_smt", level = 1, text = text ~= "" and text or control.title }
  end
  result.controls[#result.controls + 1] = {
    id = control.id,
    domain = domain,
    title = clean(control.title, params),
    subcontrols = subs,
  }
end

local function convert_group(group, domain, result, skipped)
  for _, control in ipairs(group.controls or {}) do
    if withdrawn(control) then
      skipped["withdrawn controls"] = skipped["withdrawn controls"] + 1
    else
      convert_control(control, domain, result, skipped)
    end
  end
  for _, sub in ipairs(group.groups or {}) do
    convert_group(sub, domain, result, skipped)
  end
end

function importer.import(ctx, input)
  local catalog = input.catalog
  if type(catalog) ~= "table" then
    error("not an OSCAL catalog: the file has no `catalog` object")
  end
  local result = { domains = {}, controls = {} }
  local skipped = { ["withdrawn controls"] = 0, ["withdrawn child controls"] = 0 }
  for _, group in ipairs(catalog.groups or {}) do
    result.domains[#result.domains + 1] = { id = group.id, name = group.title }
    convert_group(group, group.id, result, skipped)
  end
  if catalog.controls and #catalog.controls > 0 then
    result.domains[#result.domains + 1] = { id = "ungrouped", name = "Controls outside any group" }
    convert_group({ controls = catalog.controls }, "ungrouped", result, skipped)
  end
  result.skipped = skipped
  local title = catalog.metadata and catalog.metadata.title
  result.notes = { ("%s: %d domains, %d controls"):format(title or ctx.file, #result.domains, #result.controls) }
  return result
end

return importer
