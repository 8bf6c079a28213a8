-- A list of ISO/IEC 27002:2022 controls, CSV or JSON: rows with `id` (5.1 .. 8.34), `title`,
-- `theme` (Organizational, People, Physical, Technological) and `attributes` (e.g.
-- "#Preventive #Confidentiality #Identify"), or a JSON object whose `controls` is such a list.
--   theme   -> a domain whose id is the control id's first number (`5` for 5.1)
--   control -> a control merged by id: title and attributes (as its description) are updated,
--              the subcontrols it has are kept; a control new to the schema gets one
--              subcontrol `<id>.1` of level 1 ("Is ... in place?") to be refined.
-- Rows without id or title are skipped and counted.

---@type mmsm.Importer
local importer = {
  id = "iso27002",
  kind = "importer",
  name = "ISO/IEC 27002:2022 controls (CSV or JSON): themes and controls, merged by id",
  formats = { "csv", "json" },
}

local THEMES = { ["5"] = "Organizational controls", ["6"] = "People controls",
  ["7"] = "Physical controls", ["8"] = "Technological controls" }

local function attributes_text(attributes)
  if type(attributes) == "table" then
    return table.concat(attributes, " ")
  end
  return attributes
end

function importer.import(ctx, input)
  local rows = input
  if type(input) == "table" and input.controls then
    rows = input.controls
  end
  local existing = {}
  for _, id in ipairs(ctx.schema.controls or {}) do
    existing[id] = true
  end
  local result = { domains = {}, controls = {} }
  local domains = {}
  local skipped = { ["rows without id or title"] = 0 }
  for _, row in ipairs(rows) do
    local id, title = row.id, row.title
    local domain = id and tostring(id):match("^(%d+)%.")
    if not (id and title and domain) then
      skipped["rows without id or title"] = skipped["rows without id or title"] + 1
    else
      id = tostring(id)
      if not domains[domain] then
        domains[domain] = true
        local name = THEMES[domain]
        if row.theme then
          name = row.theme:gsub("^%l", string.upper)
          if not name:find("controls$") then
            name = name .. " controls"
          end
        end
        result.domains[#result.domains + 1] = { id = domain, name = name or ("Theme " .. domain) }
      end
      local control = { id = id, domain = domain, title = title, description = attributes_text(row.attributes) }
      if not existing[id] then
        control.subcontrols = {
          { id = id .. ".1", level = 1, text = ("Is the control '%s' in place?"):format(title) },
        }
      end
      result.controls[#result.controls + 1] = control
    end
  end
  result.skipped = skipped
  return result
end

return importer
