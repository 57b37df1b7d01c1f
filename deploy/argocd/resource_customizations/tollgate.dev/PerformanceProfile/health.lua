-- Argo CD health of a Tollgate PerformanceProfile (tollgate.dev/v1alpha1).
--
-- Tollgate writes status.phase, status.freeze, status.canary and the conditions Ready, MetricsAvailable,
-- BudgetHealthy, DeploymentsFrozen, RolledBack and CanaryProgressing, each with a one-sentence message
-- holding the numbers (src/api/status.ts, src/policy/conditions.ts in Tollgate). This check picks the
-- Argo CD status and reuses those sentences rather than rebuilding them: an argocd-cm health check runs
-- without Lua's string and math libraries, so it could not format a percentage the way Tollgate does.
--
-- Frozen is Suspended, not Degraded. A freeze holds deliveries until the budget recovers below
-- unfreezeBelow or someone overrides it: "waiting for an external event to resume", which is what
-- Suspended means in Argo CD, and what it shows for the Deployment Tollgate paused ("Deployment is
-- paused") and for a paused Argo Rollout. The service did burn its budget, but Tollgate has acted on
-- that and paged through its own notifications; nothing about the profile needs fixing. A freeze can
-- also last days (hysteresis on a 30-day window): Degraded would keep the Application red all that time
-- and fire Argo CD's on-health-degraded notifications for an incident that is already being handled.
--
-- RollingBack is Degraded, as an aborted Argo Rollout is: Tollgate is undoing the release Git asked for
-- because it is still burning the budget, so Git and the cluster disagree until someone reverts or
-- fixes the commit. It is short (the phase turns Frozen once the rollback has rolled out) and it is the
-- moment a notification is worth sending.

local function condition(kind)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

-- A condition's sentence, or the fallback when Tollgate has not written that condition.
local function said(c, fallback)
  if c ~= nil and c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local function health(state, message)
  return { status = state, message = message }
end

local status = obj.status
if status == nil or status.observedGeneration == nil then
  return health("Progressing", "Waiting for Tollgate to evaluate the profile.")
end
-- Until Tollgate has seen the current spec, its status describes an older one.
local generation = obj.metadata.generation
if generation ~= nil and generation > status.observedGeneration then
  return health("Progressing", "Waiting for Tollgate to evaluate generation " .. generation ..
    " of the profile (its status is for generation " .. status.observedGeneration .. ").")
end

-- Configuration that keeps Tollgate from doing its job comes first: the rest of the status may be stale.
local ready = condition("Ready")
if ready ~= nil and ready.status == "False" and ready.reason == "InvalidSpec" then
  return health("Degraded", "Invalid spec: " .. said(ready, "Tollgate cannot act on this profile."))
end
if ready ~= nil and ready.status == "False" and ready.reason == "TargetNotFound" then
  return health("Degraded", said(ready, "The profile's Deployment was not found."))
end
local canaryCondition = condition("CanaryProgressing")
if canaryCondition ~= nil and canaryCondition.reason == "IstioNotInstalled" then
  return health("Degraded", said(canaryCondition, "spec.canary needs Istio, which this cluster does not serve."))
end

local phase = status.phase
local budget = condition("BudgetHealthy")
local frozen = condition("DeploymentsFrozen")

if phase == "RollingBack" then
  return health("Degraded", "RollingBack: " ..
    said(condition("RolledBack"), "Tollgate is rolling the Deployment back to its last known good revision.") ..
    " Budget: " .. said(budget, "exhausted."))
end

-- An override (status.freeze.override, present only while it is valid) lifts the freeze: no longer suspended.
local freeze = status.freeze
if freeze ~= nil and freeze.override == nil then
  return health("Suspended", "Frozen: " .. said(frozen, "Rollouts are frozen since " .. tostring(freeze.since) .. " (" .. tostring(freeze.reason) .. ")."))
end

local canary = status.canary

-- A failed canary keeps its traffic until primary has the replicas to carry it all. Progressing, not
-- Degraded: Tollgate is already taking the traffic off it and has sent CanaryFailed; once the traffic
-- is off, the phase is Failed, which is said below as Healthy.
if canary ~= nil and canary.phase == "Aborting" then
  return health("Progressing", "Aborting: " .. said(canaryCondition, "traffic is leaving a failed canary."))
end

-- A canary under way, including one running as a hotfix under an override. Promoting still has
-- traffic on the canary (weight > 0); so has a drain an older Tollgate recorded as Failed.
local walking = phase == "Progressing" or (canary ~= nil and (canary.phase == "Initializing" or
  canary.phase == "Progressing" or canary.phase == "Promoting" or (canary.weight ~= nil and canary.weight > 0)))
if walking then
  return health("Progressing", "Progressing: " .. said(canaryCondition, "a canary is under way."))
end

if freeze ~= nil then
  return health("Healthy", "Overridden: " .. said(frozen, freeze.override.by .. " overrides the freeze until " .. freeze.override.expires .. "."))
end

if phase == "Degraded" then
  local metrics = condition("MetricsAvailable")
  -- Too few requests to judge (a new or quiet service) is not a fault; no Prometheus or no series is.
  if metrics ~= nil and metrics.reason == "InsufficientData" then
    return health("Healthy", "Insufficient data: " .. said(metrics, "too few events for a verdict."))
  end
  return health("Degraded", "Degraded: " .. said(metrics, said(ready, "Tollgate has no SLO verdict.")))
end

-- A failed canary has already moved all traffic back to primary; Argo CD cannot tell from here whether
-- Git still names the failed revision, so it is said, not flagged.
local lastCanary = ""
if canaryCondition ~= nil and canaryCondition.reason == "Failed" then
  lastCanary = " " .. said(canaryCondition, "")
end

if phase == "Warning" then
  return health("Healthy", "Warning: " .. said(budget, "the error budget is low.") .. lastCanary)
end
if phase == "Healthy" then
  return health("Healthy", "Healthy: " .. said(budget, "within budget.") .. lastCanary)
end
if phase == nil then
  return health("Progressing", "Waiting for Tollgate's first evaluation of the budget.")
end
return health("Unknown", "Tollgate reports phase " .. tostring(phase) .. ".")
