-- Break glass from Argo CD: set or clear Tollgate's tollgate.dev/override-freeze annotation.
local actions = {}
local frozen = obj.status ~= nil and obj.status.freeze ~= nil

-- Offered while rollouts are frozen, overridden or not: run again, it replaces the override (to extend
-- it, or after it expired). The parameters show as fields in Argo CD 3.1 and later; left empty, or on
-- older versions and the CLI, which pass none, the action uses its defaults.
actions["override-freeze"] = {
  ["disabled"] = not frozen,
  ["iconClass"] = "fa fa-fw fa-unlock",
  ["displayName"] = "Override freeze",
  ["params"] = {
    { ["name"] = "reason" },
    { ["name"] = "by" },
    { ["name"] = "minutes" },
  },
}

local annotations = obj.metadata.annotations
if annotations ~= nil and annotations["tollgate.dev/override-freeze"] ~= nil then
  actions["clear-override"] = {
    ["iconClass"] = "fa fa-fw fa-lock",
    ["displayName"] = "Clear freeze override",
  }
end

return actions
