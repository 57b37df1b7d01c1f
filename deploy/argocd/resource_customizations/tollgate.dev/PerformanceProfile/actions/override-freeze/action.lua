-- Sets tollgate.dev/override-freeze to {"by":...,"reason":...,"expires":...}, which Tollgate reads as a
-- break-glass override until expires (src/policy/override.ts in Tollgate).
--
-- Argo CD runs actions without Lua's string and math libraries, so the value is put together by
-- concatenation and the expiry is computed from os.time() with integer arithmetic: os.date cannot be
-- used, because Argo CD's os.date formats an explicit time in the server's zone even with "!".

local DEFAULT_MINUTES = 60
-- An override from a button is for a hotfix, not a policy change; longer ones belong in a reviewed
-- kubectl annotate or in Git.
local MAX_MINUTES = 1440

-- Argo CD before 3.1 has no actionParams; the UI sends "" for a field left empty.
local params = actionParams or {}
local function given(name)
  local value = params[name]
  if value == nil or value == "" then
    return nil
  end
  return value
end

local reason = given("reason") or "break glass from Argo CD"
-- Argo CD does not tell the script who clicked; it records that in its ResourceActionRan event.
local by = given("by") or "Argo CD"
local minutes = DEFAULT_MINUTES
if given("minutes") ~= nil then
  minutes = tonumber(params["minutes"])
  if minutes == nil or minutes % 1 ~= 0 or minutes < 1 or minutes > MAX_MINUTES then
    error("minutes must be a whole number from 1 to " .. MAX_MINUTES .. ", not \"" .. params["minutes"] .. "\"", 0)
  end
end
-- Tollgate refuses longer values and keeps the freeze; better to say so here than in a condition later.
if #by > 253 then
  error("by must be at most 253 bytes", 0)
end
if #reason > 1024 then
  error("reason must be at most 1024 bytes", 0)
end

-- floor(a / b) for integers, with only the % operator at hand.
local function div(a, b)
  return (a - a % b) / b
end

local function two(n)
  if n < 10 then
    return "0" .. n
  end
  return "" .. n
end

-- Unix seconds to RFC 3339 in UTC: days since 1970-01-01 to a civil date in the proleptic Gregorian
-- calendar, counting 400-year eras from 0000-03-01 so leap days fall at the end of each year.
local function rfc3339(t)
  local seconds = t % 86400
  local z = div(t, 86400) + 719468
  local era = div(z, 146097)
  local dayOfEra = z - era * 146097
  local yearOfEra = div(dayOfEra - div(dayOfEra, 1460) + div(dayOfEra, 36524) - div(dayOfEra, 146096), 365)
  local dayOfYear = dayOfEra - (365 * yearOfEra + div(yearOfEra, 4) - div(yearOfEra, 100))
  local monthFromMarch = div(5 * dayOfYear + 2, 153)
  local day = dayOfYear - div(153 * monthFromMarch + 2, 5) + 1
  local month = monthFromMarch + 3
  if month > 12 then
    month = month - 12
  end
  local year = yearOfEra + era * 400
  if month <= 2 then
    year = year + 1
  end
  return year .. "-" .. two(month) .. "-" .. two(day) .. "T" .. two(div(seconds, 3600)) .. ":" ..
    two(div(seconds % 3600, 60)) .. ":" .. two(seconds % 60) .. "Z"
end

local expires = rfc3339(os.time() + minutes * 60)

-- Without the string library by and reason cannot be escaped: a '"' or '\' in them makes the value
-- invalid JSON, which Tollgate reports (DeploymentsFrozen, reason OverrideInvalid) and ignores, so the
-- freeze stays. expires comes last because JSON.parse keeps the last of duplicate keys: text that
-- smuggles in its own "expires" cannot outlast MAX_MINUTES.
if obj.metadata.annotations == nil then
  obj.metadata.annotations = {}
end
obj.metadata.annotations["tollgate.dev/override-freeze"] =
  '{"by":"' .. by .. '","reason":"' .. reason .. '","expires":"' .. expires .. '"}'
return obj
