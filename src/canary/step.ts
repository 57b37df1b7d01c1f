import { parseDuration } from "../api/duration.ts";
import { gatingSlos, judgeCheck, minEvents } from "./check.ts";
import { askedBy, commandFor, type CanaryCommand } from "./command.ts";
import type {
  CanaryAction,
  CanaryDecision,
  CanaryInput,
  CanarySpec,
  CanaryStatus,
  CanarySummary,
  WorkloadFacts,
} from "./types.ts";

/** How soon to look again while waiting on a rollout or a scale-up; Deployment watch events usually come sooner. */
export const POLL_MS = 5_000;

interface Ctx {
  input: CanaryInput;
  canary: CanarySpec;
  primary: WorkloadFacts;
  primaryName: string;
  targetName: string;
  intervalMs: number;
  /**
   * Replicas one workload needs to carry all the traffic: the larger of primary's and the canary's
   * counts. The canary starts with primary's count and is never scaled below it mid-canary, so at
   * an abort this is at least what primary ran before the canary, even if primary's HPA shed
   * replicas while the canary took a share of the load.
   */
  full: number;
  now: string;
  nowMs: number;
}

/** Internal result: cluster actions and edge actions kept apart so the order is always cluster first. */
interface Step {
  status: CanaryStatus;
  cluster: CanaryAction[];
  edge?: CanaryAction[];
  requeueAfterMs: number;
  summary: CanarySummary;
}

const weights = (canary: number): CanaryAction => ({ action: "setWeights", primary: 100 - canary, canary });
const scaleCanary = (replicas: number): CanaryAction => ({ action: "scaleCanary", replicas });
const scalePrimary = (replicas: number): CanaryAction => ({ action: "scalePrimary", replicas });
const normal = (reason: string, message: string): CanaryAction => ({ action: "event", type: "Normal", reason, message });
const warning = (reason: string, message: string): CanaryAction => ({ action: "event", type: "Warning", reason, message });

/** The canary's pods of the current template are all up: traffic may go to them. */
function warm(t: WorkloadFacts): boolean {
  return t.rolloutComplete && t.desiredReplicas >= 1 && t.readyReplicas >= t.desiredReplicas;
}

function rev(s: CanaryStatus | { revision?: number; templateHash?: string }): string {
  return `revision ${s.revision ?? "?"} (${s.templateHash ?? "?"})`;
}

/**
 * One reconcile of the canary: (spec, previous status.canary, the two Deployments, the canary's burn
 * rates, the freeze, now) → (next status.canary, actions, requeue). Pure and deterministic; all state
 * lives in status.canary, so a restarted operator resumes where the last one stopped.
 *
 * The status encodes sub-states without extra fields:
 * - Progressing with step 0: the canary's pods are starting; no traffic yet.
 * - Progressing with templateHash ≠ the target's: a new revision (or a revert) superseded the canary;
 *   traffic leaves it once primary can carry everything.
 * - Promoting with weight > 0: primary is rolling out the promoted template.
 *
 * A failed canary is Aborting while traffic is still on it (primary is getting the replicas to carry
 * everything) and Failed only once all traffic is on primary and the canary is scaled to 0, so that
 * `kubectl get pp` never shows a canary as over while it still serves requests.
 */
export function stepCanary(input: CanaryInput): CanaryDecision {
  const canary = input.spec.canary;
  if (!canary) {
    return { status: undefined, actions: [], requeueAfterMs: undefined, summary: { active: false, reason: "NoCanary", message: "spec.canary is not set." } };
  }
  const targetName = input.spec.targetRef.name;
  const primaryName = `${targetName}-primary`;
  if (!input.primary) return finish(bootstrap(input, primaryName));

  const ctx: Ctx = {
    input,
    canary,
    primary: input.primary,
    primaryName,
    targetName,
    intervalMs: parseDuration(canary.interval),
    full: Math.max(1, input.primary.desiredReplicas, input.target.desiredReplicas),
    now: input.now.toISOString(),
    nowMs: input.now.getTime(),
  };
  const prev = input.status;
  if (!prev || prev.phase === "Initializing") return finish(initializing(ctx, prev));
  switch (prev.phase) {
    case "Progressing":
      return finish(prev.templateHash === input.target.templateHash ? promotionHeld(ctx, prev, progressing(ctx, prev)) : superseded(ctx, prev));
    case "Promoting":
      return finish(promoting(ctx, prev, []));
    case "Aborting":
      // CanaryFailed went out on entering Aborting; resuming the drain must not send it again.
      return finish(drain(ctx, prev, []));
    case "Failed":
      // Failed with traffic on the canary is how operators before the Aborting phase recorded a
      // drain under way: finish it as one.
      return finish(prev.weight > 0 ? drain(ctx, { ...prev, phase: "Aborting" }, []) : idle(ctx, prev, [], undefined));
    default:
      return finish(prev.weight > 0 ? drain(ctx, prev, []) : idle(ctx, prev, [], undefined));
  }
}

function finish(s: Step): CanaryDecision {
  return { status: s.status, actions: [...s.cluster, ...(s.edge ?? [])], requeueAfterMs: s.requeueAfterMs, summary: s.summary };
}

/** No primary: create it from the target's template. Traffic is not routed to it until it is ready. */
function bootstrap(input: CanaryInput, primaryName: string): Step {
  const t = input.target;
  const replicas = Math.max(1, t.desiredReplicas);
  const status: CanaryStatus = { phase: "Initializing", weight: 0, step: 0, failedChecks: 0, revision: t.revision, templateHash: t.templateHash };
  const message = `Creating ${primaryName} from ${rev(t)} with ${replicas} replicas; traffic moves to it once it is ready.`;
  return {
    status,
    cluster: [{ action: "ensurePrimary", source: "target", replicas }],
    // Told once per set-up: an Initializing status without a template is the shell's, recorded while it
    // labelled the target, before this step began.
    edge: input.status?.phase === "Initializing" && input.status.templateHash !== undefined ? [] : [normal("CanaryInitializing", message)],
    requeueAfterMs: POLL_MS,
    summary: { active: true, reason: "Initializing", message },
  };
}

/**
 * Primary exists; route everything to it once it can carry the load. Also the entry after a lost
 * status, so that even then traffic never moves to a primary without the replicas for it.
 */
function initializing(ctx: Ctx, prev: CanaryStatus | undefined): Step {
  const p = ctx.primary;
  const t = ctx.input.target;
  const same = t.templateHash === p.templateHash;
  if (!(p.rolloutComplete && p.readyReplicas >= ctx.full)) {
    const status: CanaryStatus = prev ?? { phase: "Initializing", weight: 0, step: 0, failedChecks: 0, templateHash: p.templateHash, ...(same ? { revision: t.revision } : {}) };
    return {
      status,
      cluster: [scalePrimary(ctx.full)],
      requeueAfterMs: POLL_MS,
      summary: { active: true, reason: "Initializing", message: `Waiting for ${ctx.primaryName} to have ${ctx.full} ready replicas (${p.readyReplicas} now).` },
    };
  }
  const status: CanaryStatus = { phase: "Waiting", weight: 0, step: 0, failedChecks: 0, templateHash: p.templateHash, ...(same ? { revision: t.revision } : {}) };
  const message = `${ctx.primaryName} has ${p.readyReplicas} ready replicas and takes all traffic; ${ctx.targetName} is scaled to 0 until its template changes.`;
  return {
    status,
    cluster: [scalePrimary(ctx.full), weights(0), scaleCanary(0)],
    edge: [normal("CanaryInitialized", message)],
    // Soon, not one interval: a target that already differs from primary starts its canary next.
    requeueAfterMs: POLL_MS,
    summary: { active: false, reason: "Initialized", message },
  };
}

/**
 * No canary running and all traffic on primary (after `pre`, the actions that got it there). Starts a
 * canary for a new template unless frozen or that template already failed.
 */
function idle(ctx: Ctx, s: CanaryStatus, pre: CanaryAction[], left: CanaryStatus | undefined): Step {
  const t = ctx.input.target;
  const settle = [...pre, weights(0), scaleCanary(0)];
  if (t.templateHash === ctx.primary.templateHash) {
    const status: CanaryStatus = s.phase === "Waiting" ? { ...s, templateHash: t.templateHash, revision: t.revision } : s;
    const message =
      s.phase === "Waiting" ? `${ctx.primaryName} runs ${rev(t)}, the target's template; no canary to run.` : `Last canary: ${rev(s)} ${s.phase}; no new revision since.`;
    return {
      status,
      cluster: settle,
      edge: left ? [normal("CanaryCancelled", `The target's template is primary's again (${rev(t)}); the canary of ${rev(left)} stopped and all traffic is on primary.`)] : [],
      requeueAfterMs: ctx.intervalMs,
      summary: { active: false, reason: s.phase === "Waiting" ? "NoNewRevision" : s.phase, message },
    };
  }
  const retry = commandFor(ctx.input.command, "retry", s) ? ctx.input.command : undefined;
  if (s.phase === "Failed" && s.templateHash === t.templateHash && !retry) {
    return {
      status: s,
      cluster: settle,
      requeueAfterMs: ctx.intervalMs,
      summary: { active: false, reason: "Failed", message: `The canary of ${rev(s)} failed; change the target's template, or retry it (kubectl tollgate canary retry), to try again.` },
    };
  }
  const frozen = ctx.input.frozen;
  if (frozen) {
    const status: CanaryStatus = { phase: "Waiting", weight: 0, step: 0, failedChecks: 0, revision: t.revision, templateHash: t.templateHash };
    const message = `The canary of ${rev(t)} does not start: ${frozen.message}.`;
    const fresh = s.phase !== "Waiting" || s.templateHash !== t.templateHash;
    return {
      status,
      cluster: settle,
      edge: fresh ? [warning("CanaryBlocked", message)] : [],
      requeueAfterMs: ctx.intervalMs,
      summary: { active: false, reason: frozen.reason, message },
    };
  }
  return start(ctx, pre, left, retry);
}

/** A new canary run of the target's template; `retry` when a person asked to run a failed one again. */
function start(ctx: Ctx, pre: CanaryAction[], left: CanaryStatus | undefined, retry?: CanaryCommand): Step {
  const t = ctx.input.target;
  const c = ctx.canary;
  // A canary that replaces one with traffic starts from 0, so the weight never steps down to a new,
  // untested revision: it leaves the old one entirely, then rises from 0 one step at a time.
  const warmed = warm(t);
  const ready = warmed && !(left !== undefined && left.weight > 0);
  const weight = ready ? Math.min(c.stepWeight, c.maxWeight) : 0;
  const status: CanaryStatus = {
    phase: "Progressing",
    weight,
    step: ready ? 1 : 0,
    failedChecks: 0,
    revision: t.revision,
    templateHash: t.templateHash,
    startedAt: ctx.now,
    lastCheck: ctx.now,
  };
  const plan = `+${c.stepWeight} % every ${c.interval} up to ${c.maxWeight} % while its burn rate stays at or under ${c.maxBurnRate}x`;
  const now = ready ? `${weight} % of traffic now` : warmed ? "no traffic until the old canary's has left" : "no traffic until its pods are ready";
  const message = left
    ? `${rev(t)} replaced ${rev(left)} under test; its canary starts over: ${now}, ${plan}.`
    : retry
      ? `${rev(t)} runs as a canary again, retried ${askedBy(retry)} after it failed: ${now}, ${plan}.`
      : `${rev(t)} runs as a canary beside ${ctx.primaryName}: ${now}, ${plan}.`;
  return {
    status,
    cluster: [...pre, scaleCanary(ctx.full), weights(weight)],
    edge: [normal(left ? "CanaryRestarted" : retry ? "CanaryRetried" : "CanaryStarted", message)],
    requeueAfterMs: ready ? ctx.intervalMs : Math.min(POLL_MS, ctx.intervalMs),
    summary: { active: true, reason: ready || warmed ? "Progressing" : "WaitingForCanaryPods", message },
  };
}

/**
 * The target changed under a running canary: to a new revision (restart) or back to primary's
 * (cancel). Traffic leaves the old canary only once primary can carry everything; until then nothing
 * is checked, since the canary's numbers now mix two revisions.
 */
function superseded(ctx: Ctx, prev: CanaryStatus): Step {
  const p = ctx.primary;
  const pre = prev.weight > 0 ? [scalePrimary(ctx.full)] : [];
  if (prev.weight > 0 && p.readyReplicas < ctx.full) {
    return {
      status: prev,
      cluster: [...pre, scaleCanary(ctx.full), weights(prev.weight)],
      requeueAfterMs: POLL_MS,
      summary: {
        active: true,
        reason: "Superseded",
        message: `${rev(ctx.input.target)} replaced ${rev(prev)} under test; waiting for ${ctx.primaryName} to have ${ctx.full} ready replicas (${p.readyReplicas} now) before traffic leaves the canary.`,
      },
    };
  }
  return idle(ctx, { ...prev, phase: "Waiting", weight: 0 }, pre, prev);
}

function progressing(ctx: Ctx, prev: CanaryStatus): Step {
  const t = ctx.input.target;
  const c = ctx.canary;
  const level = [scaleCanary(ctx.full), weights(prev.weight)];
  // A person's word comes before the next check: abort at once, or promote without the remaining
  // steps (never while frozen: a freeze stops promotions, whoever asks; promotionHeld says so).
  const command = ctx.input.command;
  if (commandFor(command, "abort", prev)) return abort(ctx, { ...prev, lastCheck: ctx.now }, `aborted ${askedBy(command)}`, command);
  if (commandFor(command, "promote", prev) && !ctx.input.frozen) {
    const status: CanaryStatus = { ...prev, phase: "Promoting", lastCheck: ctx.now };
    return promoting(ctx, status, [
      normal("CanaryPromoting", `${rev(prev)} is promoted ${askedBy(command)} at ${prev.weight} % (step ${prev.step}), without its remaining checks; copying its template to ${ctx.primaryName}.`),
    ]);
  }
  const last = prev.lastCheck === undefined ? Number.NaN : Date.parse(prev.lastCheck);
  // A missing or future lastCheck (hand edit, another leader's clock) starts the interval afresh
  // rather than judging numbers that may predate the step or waiting on a time that never comes.
  if (!Number.isFinite(last) || last > ctx.nowMs) {
    return { status: { ...prev, lastCheck: ctx.now }, cluster: level, requeueAfterMs: ctx.intervalMs, summary: running(ctx, prev, "Progressing") };
  }
  // A step is judged on traffic at its own weight: until the VirtualService routes it (the write failed
  // with the API server down, or a hand edit undid it), the weight is applied again and the step's
  // interval starts over, so no check judges the previous weight's traffic and no step is skipped.
  const routed = ctx.input.routedWeight;
  if (prev.step >= 1 && routed !== prev.weight) {
    const status: CanaryStatus = { ...prev, lastCheck: ctx.now };
    return {
      status,
      cluster: level,
      requeueAfterMs: Math.min(POLL_MS, ctx.intervalMs),
      summary: {
        active: true,
        reason: "Routing",
        message: `Step ${prev.step} of ${rev(prev)} waits for the VirtualService to route ${prev.weight} % to the canary (it routes ${routed} %); the step's interval starts once it does.`,
      },
    };
  }
  const dueIn = last + ctx.intervalMs - ctx.nowMs;

  if (prev.step === 0) {
    if (warm(t)) {
      const weight = Math.min(c.stepWeight, c.maxWeight);
      const status: CanaryStatus = { ...prev, step: 1, weight, lastCheck: ctx.now };
      return {
        status,
        cluster: [scaleCanary(ctx.full), weights(weight)],
        edge: [normal("CanaryAdvanced", `The canary's ${t.readyReplicas} pods of ${rev(prev)} are ready; ${weight} % of traffic goes to it.`)],
        requeueAfterMs: ctx.intervalMs,
        summary: running(ctx, status, "Progressing"),
      };
    }
    if (dueIn > 0) {
      return {
        status: prev,
        cluster: level,
        requeueAfterMs: Math.min(POLL_MS, dueIn),
        summary: { active: true, reason: "WaitingForCanaryPods", message: `${t.readyReplicas}/${t.desiredReplicas} canary pods of ${rev(prev)} ready.` },
      };
    }
    return failCheck(ctx, prev, "PodsNotReady", `${t.readyReplicas}/${t.desiredReplicas} canary pods of ${rev(prev)} ready after ${c.interval}`);
  }

  if (dueIn > 0) return { status: prev, cluster: level, requeueAfterMs: dueIn, summary: running(ctx, prev, "Progressing") };

  // The canary's own metrics cannot see requests Istio could not deliver to it, so a canary without
  // ready pods is a failure here, not the silence of a hold.
  if (t.readyReplicas < 1) return failCheck(ctx, prev, "PodsNotReady", `no ready canary pods of ${rev(prev)} while it takes ${prev.weight} % of traffic`);
  const verdict = judgeCheck(c, gatingSlos(ctx.input.spec), minEvents(ctx.input.spec), ctx.input.canaryMeasurement);
  if (verdict.kind === "fail") return failCheck(ctx, prev, verdict.reason, verdict.message);
  if (verdict.kind === "hold") {
    const message = `Step ${prev.step} of ${rev(prev)} at ${prev.weight} % holds: ${verdict.message}.`;
    const held: CanaryStatus = { ...prev, lastCheck: ctx.now, lastVerdict: { verdict: verdict.reason, message } };
    return { status: held, cluster: level, requeueAfterMs: ctx.intervalMs, summary: running(ctx, held, "Progressing") };
  }
  const checked: CanaryStatus = { ...prev, lastCheck: ctx.now, lastVerdict: { verdict: "Passed", message: verdict.message } };
  if (prev.weight >= c.maxWeight) {
    const frozen = ctx.input.frozen;
    if (frozen) {
      return {
        status: checked,
        cluster: level,
        requeueAfterMs: ctx.intervalMs,
        summary: { active: true, reason: "PromotionFrozen", message: `${rev(prev)} passed at ${prev.weight} % but is not promoted: ${frozen.message}. It holds at ${prev.weight} %.` },
      };
    }
    const status: CanaryStatus = { ...checked, phase: "Promoting" };
    return promoting(ctx, status, [normal("CanaryPromoting", `${rev(prev)} passed at ${prev.weight} % (${verdict.message}); copying its template to ${ctx.primaryName}.`)]);
  }
  const weight = Math.min(prev.weight + c.stepWeight, c.maxWeight);
  const status: CanaryStatus = { ...checked, weight, step: prev.step + 1 };
  return {
    status,
    cluster: [scaleCanary(ctx.full), weights(weight)],
    edge: [normal("CanaryAdvanced", `${rev(prev)} passed step ${prev.step} (${verdict.message}); ${weight} % of traffic goes to the canary.`)],
    requeueAfterMs: ctx.intervalMs,
    summary: running(ctx, status, "Progressing"),
  };
}

/** A promotion a person asked for while frozen: the canary carries on, and its condition says why it waits. */
function promotionHeld(ctx: Ctx, prev: CanaryStatus, step: Step): Step {
  const command = ctx.input.command;
  const frozen = ctx.input.frozen;
  if (!commandFor(command, "promote", prev) || !frozen || step.status.phase !== "Progressing") return step;
  return {
    ...step,
    summary: { active: true, reason: "PromotionFrozen", message: `The promotion of ${rev(prev)} asked ${askedBy(command)} waits: ${frozen.message}. It holds at ${step.status.weight} %.` },
  };
}

function running(ctx: Ctx, s: CanaryStatus, reason: string): CanarySummary {
  const next = s.lastCheck ? new Date(Date.parse(s.lastCheck) + ctx.intervalMs).toISOString() : "now";
  // A held step says why until the next check, not only on the reconcile that held it.
  const held = s.lastVerdict?.verdict === "NoData" || s.lastVerdict?.verdict === "InsufficientData" ? s.lastVerdict : undefined;
  if (held && reason === "Progressing") return { active: true, reason: held.verdict, message: `${held.message} Next check at ${next}.` };
  return {
    active: true,
    reason,
    message: `${rev(s)} takes ${s.weight} % of traffic (step ${s.step}, ${s.failedChecks}/${ctx.canary.failureLimit} checks failed); next check at ${next}.`,
  };
}

function failCheck(ctx: Ctx, prev: CanaryStatus, verdict: "BurnRateExceeded" | "PodsNotReady", why: string): Step {
  const limit = ctx.canary.failureLimit;
  const status: CanaryStatus = { ...prev, failedChecks: prev.failedChecks + 1, lastCheck: ctx.now, lastVerdict: { verdict, message: why } };
  if (status.failedChecks >= limit) return abort(ctx, status, why);
  return {
    status,
    cluster: [scaleCanary(ctx.full), weights(prev.weight)],
    edge: [warning("CanaryCheckFailed", `Check ${status.failedChecks} of ${limit} allowed failed for ${rev(prev)} at ${prev.weight} %: ${why}.`)],
    requeueAfterMs: ctx.intervalMs,
    summary: running(ctx, status, "CheckFailed"),
  };
}

/** The canary failed its checks, or `command` (a person) aborted it: traffic returns to primary. */
function abort(ctx: Ctx, s: CanaryStatus, why: string, command?: CanaryCommand): Step {
  const aborting: CanaryStatus = { ...s, phase: "Aborting" };
  const back = `${ctx.primaryName} is scaled to ${ctx.full} replicas before all traffic returns to it.`;
  const message = command
    ? `The canary of ${rev(s)} was ${why} at ${s.weight} % (step ${s.step}). ${back}`
    : `The canary of ${rev(s)} failed ${s.failedChecks} checks (failureLimit ${ctx.canary.failureLimit}), the last: ${why}. ${back}`;
  return drain(ctx, aborting, [
    warning(command ? "CanaryAborted" : "CanaryFailed", message),
    {
      action: "notify",
      event: "CanaryFailed",
      severity: "warning",
      summary: message,
      dedupKey: dedupKey(ctx, s),
      details: details(s),
    },
  ]);
}

/**
 * Takes the traffic off a canary that is over: primary first gets the replicas to carry everything,
 * and only when they are ready does the traffic move and the canary scale down. An Aborting canary
 * becomes Failed only then; other phases (Waiting or Succeeded with traffic left on the canary, which
 * Tollgate does not write but a hand edit can) keep theirs.
 */
function drain(ctx: Ctx, s: CanaryStatus, edge: CanaryAction[]): Step {
  const p = ctx.primary;
  const aborting = s.phase === "Aborting";
  if (s.weight > 0 && p.readyReplicas < ctx.full) {
    const what = aborting ? `The canary of ${rev(s)} failed; waiting` : "Waiting";
    return {
      status: s,
      cluster: [scalePrimary(ctx.full), weights(s.weight)],
      edge,
      requeueAfterMs: POLL_MS,
      summary: {
        active: true,
        reason: aborting ? "Aborting" : "Draining",
        message: `${what} for ${ctx.primaryName} to have ${ctx.full} ready replicas (${p.readyReplicas} now) before ${s.weight} % of traffic leaves the canary.`,
      },
    };
  }
  const phase = aborting ? "Failed" : s.phase;
  const message = `All traffic is on ${ctx.primaryName} (${p.readyReplicas} ready replicas); the canary of ${rev(s)} is scaled to 0.`;
  return {
    status: { ...s, phase, weight: 0 },
    cluster: [...(s.weight > 0 ? [scalePrimary(ctx.full)] : []), weights(0), scaleCanary(0)],
    edge: [...edge.filter((a) => a.action === "event"), ...(s.weight > 0 ? [normal("CanaryRolledBack", message)] : []), ...edge.filter((a) => a.action !== "event")],
    requeueAfterMs: ctx.intervalMs,
    summary: { active: false, reason: phase, message },
  };
}

/**
 * The passed template goes to primary; once primary has rolled it out with the replicas for all the
 * traffic, the traffic moves back and the canary scales to zero. A promotion under way finishes even
 * if a freeze begins: primary is already rolling, and stopping halfway helps no one.
 */
function promoting(ctx: Ctx, s: CanaryStatus, edge: CanaryAction[]): Step {
  const p = ctx.primary;
  const hash = s.templateHash ?? ctx.input.target.templateHash;
  const revision = s.revision ?? ctx.input.target.revision;
  const copied = p.templateHash === hash;
  const cluster: CanaryAction[] = [...(copied ? [] : [{ action: "promote", templateHash: hash, revision } as const]), scalePrimary(ctx.full)];
  if (copied && p.rolloutComplete && p.readyReplicas >= ctx.full) {
    const message = `${rev(s)} is promoted: ${ctx.primaryName} runs it with ${p.readyReplicas} ready replicas and takes all traffic; the canary is scaled to 0.`;
    return {
      status: { ...s, phase: "Succeeded", weight: 0 },
      cluster: [...cluster, weights(0), scaleCanary(0)],
      edge: [
        ...edge,
        normal("CanaryPromoted", message),
        { action: "notify", event: "CanaryPromoted", severity: "info", summary: message, dedupKey: dedupKey(ctx, s), details: details(s) },
      ],
      requeueAfterMs: ctx.intervalMs,
      summary: { active: false, reason: "Succeeded", message },
    };
  }
  // A revision pushed during promotion is rolling onto the canary's pods untested: take the traffic
  // off them as soon as primary can carry it all.
  const drifted = ctx.input.target.templateHash !== hash;
  const weight = drifted && p.readyReplicas >= ctx.full ? 0 : s.weight;
  return {
    status: { ...s, weight },
    cluster: [...cluster, ...(weight > 0 ? [scaleCanary(ctx.full)] : []), weights(weight)],
    edge,
    requeueAfterMs: POLL_MS,
    summary: {
      active: true,
      reason: "Promoting",
      message: `Waiting for ${ctx.primaryName} to roll out ${rev(s)} with ${ctx.full} ready replicas (${copied ? p.readyReplicas : 0} now).`,
    },
  };
}

function dedupKey(ctx: Ctx, s: CanaryStatus): string {
  return `tollgate/${ctx.input.profile.namespace}/${ctx.input.profile.name}/canary/${s.templateHash ?? "unknown"}`;
}

function details(s: CanaryStatus): Record<string, string | number> {
  return {
    revision: s.revision ?? -1,
    templateHash: s.templateHash ?? "",
    weight: s.weight,
    step: s.step,
    failedChecks: s.failedChecks,
    ...(s.startedAt ? { startedAt: s.startedAt } : {}),
  };
}

