-- Helpers shared by the scripts: shares of lists and dates.
-- Load with `local isms = require("isms")`.

local isms = {}

---The share of `items` for which `predicate(item)` is true, in [0,1];
---`when_empty` (default 1) when there is no item.
---@generic T
---@param items T[]
---@param predicate fun(item: T): boolean
---@param when_empty? number
---@return number
function isms.share(items, predicate, when_empty)
  local total, hits = 0, 0
  for _, item in ipairs(items or {}) do
    total = total + 1
    if predicate(item) then
      hits = hits + 1
    end
  end
  if total == 0 then
    return when_empty or 1
  end
  return hits / total
end

---The items for which `predicate(item)` is true.
---@generic T
---@param items T[]
---@param predicate fun(item: T): boolean
---@return T[]
function isms.filter(items, predicate)
  local kept = {}
  for _, item in ipairs(items or {}) do
    if predicate(item) then
      kept[#kept + 1] = item
    end
  end
  return kept
end

---Seconds since 1970 (UTC) of a date `YYYY-MM-DD`, optionally followed by
---`THH:MM[:SS]` or ` HH:MM[:SS]` and a `Z`; nil when `text` is not such a date.
---@param text string
---@return integer?
function isms.parse_date(text)
  if type(text) ~= "string" then
    return nil
  end
  local y, m, d = text:match("^(%d%d%d%d)-(%d%d)-(%d%d)")
  if not y then
    return nil
  end
  local hh, mm, ss = text:match("^%d%d%d%d%-%d%d%-%d%d[T ](%d%d):(%d%d):?(%d*)")
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  hh, mm, ss = tonumber(hh) or 0, tonumber(mm) or 0, tonumber(ss) or 0
  -- Days from civil (Howard Hinnant), so that no time zone is involved.
  if m <= 2 then
    y = y - 1
  end
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + hh * 3600 + mm * 60 + ss
end

---Whole and partial days from `from` to `to` (both seconds since 1970).
---@param from integer
---@param to integer
---@return number
function isms.days_between(from, to)
  return (to - from) / 86400
end

return isms
