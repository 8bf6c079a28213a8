-- How well the company's email domains are protected against forged senders
-- (email-domains.csv: `domain`, `spf`, `dkim`, `dmarc` none|quarantine|reject,
-- empty when missing): a domain counts 1 with SPF, DKIM and an enforced DMARC
-- policy, 0.5 with SPF and a DMARC record that only monitors (or no DKIM), 0
-- otherwise. The value is the mean over the domains.
local isms = require("isms")

---@type mmsm.Metric
local metric = {
  id = "dmarc",
  kind = "metric",
  name = "Protection of the email domains against forged senders (SPF, DKIM, DMARC)",
  unit = "ratio",
  subcontrols = { "8.21.2" },
  schedule = "1w",

  collect = function(ctx)
    local rows = isms.evidence_rows(ctx, "email-domains.csv", { "spf", "dkim", "dmarc" })
    if #rows == 0 then
      error("email-domains.csv lists no domain", 0)
    end
    local total = 0
    for _, row in ipairs(rows) do
      local policy = (row.dmarc or ""):lower()
      local enforced = policy == "quarantine" or policy == "reject"
      if isms.truthy(row.spf) and isms.truthy(row.dkim) and enforced then
        total = total + 1
      elseif isms.truthy(row.spf) and policy ~= "" then
        total = total + 0.5
      end
    end
    return total / #rows
  end,

  score = function(value)
    return value
  end,
}

return metric
