-- A Magerit v3 catalogue, JSON or CSV.
-- JSON: { asset_types: [{ id, name, parent }], threats: [{ id, name, origin, dimensions }],
--         tad: [{ asset_type, threat, probability, D, I, C, A, T }] }.
-- CSV: one table whose `section` column says what a row is: `asset_type` (id, name, parent),
--      `threat` (id, name, origin, dimensions as "D I C"), `tad` (asset_type, threat,
--      probability, D, I, C, A, T: degradations 0..100, empty = not degraded).
--   -> asset_types, threats and the TAD matrix (matrices.asset_type_threat), merged by id
--      (rows by asset type and threat).
-- A threat's origin defaults to its code's letter (N natural, I industrial, E error,
-- A attack); rows of unknown sections are skipped and counted.

---@type mmsm.Importer
local importer = {
  id = "magerit",
  kind = "importer",
  name = "Magerit v3 catalogue (JSON or CSV): asset types, threats and TAD rows",
  formats = { "json", "csv" },
}

local ORIGINS = { N = "natural", I = "industrial", E = "error", A = "attack" }
local DIMENSIONS = { "D", "I", "C", "A", "T" }

local function dimensions_of(value)
  if type(value) == "table" then
    return value
  end
  local dims = {}
  for letter in tostring(value or ""):gmatch("[DICAT]") do
    dims[#dims + 1] = letter
  end
  return dims
end

local function threat(row)
  local origin = row.origin or ORIGINS[tostring(row.id):sub(1, 1)]
  return { id = row.id, name = row.name, origin = origin and origin:lower(), dimensions = dimensions_of(row.dimensions) }
end

local function tad(row)
  local degradation = {}
  local source = row.degradation or row
  for _, d in ipairs(DIMENSIONS) do
    local v = tonumber(source[d])
    if v then
      degradation[d] = v
    end
  end
  return {
    asset_type = row.asset_type,
    threat = row.threat,
    probability = tonumber(row.probability) or 0,
    degradation = degradation,
  }
end

function importer.import(ctx, input)
  local result = { asset_types = {}, threats = {}, matrices = { asset_type_threat = {} } }
  local skipped = { ["rows of unknown sections"] = 0 }
  local sections = input
  if input.asset_types == nil and input.threats == nil and input.tad == nil then
    sections = { asset_types = {}, threats = {}, tad = {} }
    for _, row in ipairs(input) do
      local list = ({ asset_type = sections.asset_types, threat = sections.threats, tad = sections.tad })[row.section]
      if list then
        list[#list + 1] = row
      else
        skipped["rows of unknown sections"] = skipped["rows of unknown sections"] + 1
      end
    end
  end
  for _, row in ipairs(sections.asset_types or {}) do
    result.asset_types[#result.asset_types + 1] = { id = row.id, name = row.name, parent = row.parent }
  end
  for _, row in ipairs(sections.threats or {}) do
    result.threats[#result.threats + 1] = threat(row)
  end
  for _, row in ipairs(sections.tad or {}) do
    result.matrices.asset_type_threat[#result.matrices.asset_type_threat + 1] = tad(row)
  end
  result.skipped = skipped
  return result
end

return importer
