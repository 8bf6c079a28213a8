-- Targets whose latest scan (scans.csv: `date`, `target`, `exposed` the
-- services reachable from the internet, separated by `;`) found remote
-- desktop, VNC, Telnet or Windows file sharing open to the internet.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "exposed-remote-access",
  kind = "metric",
  name = "Internet-facing targets whose latest scan found remote desktop or file sharing open",
  unit = "targets",
  subcontrols = { "8.20.2" },
  schedule = "1d",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "scans.csv", { "exposed" })
    local latest = {}
    for _, row in ipairs(rows) do
      local at = isms.parse_date(row.date)
      local seen = latest[row.target]
      if at and (seen == nil or at >= seen.at) then
        latest[row.target] = { at = at, exposed = (row.exposed or ""):lower() }
      end
    end
    local risky = { rdp = true, vnc = true, telnet = true, smb = true }
    local count = 0
    for _, scan in pairs(latest) do
      for service in scan.exposed:gmatch("[^;%s]+") do
        if risky[service] then
          count = count + 1
          break
        end
      end
    end
    return count
  end,

  score = function(value)
    return isms.at_most(value, { { 0, 1 } })
  end,
}

return metric
