import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VERSION } from "../src/version.ts";
import { startSimulator, type Simulator } from "./simulator/client.ts";
import { CanaryScenario, canaryProfileYaml, type CanaryStatus } from "./support/canary.ts";
import { loadClusterEnv, ROOT, type ClusterEnv } from "./support/env.ts";
import { createOperatorNamespace, deleteOperatorNamespace } from "./support/identity.ts";
import { applyYaml, installCrds, kubectl as runKubectl, kubectlJson, kubectlOk, type KubectlResult } from "./support/kubectl.ts";
import { startOperator, type OperatorProcess } from "./support/operator.ts";
import { deleteProfiles } from "./support/profiles.ts";
import { sleep, waitFor } from "./support/wait.ts";
import { availabilityProfileYaml, deploymentYaml } from "./support/workloads.ts";
import type { Condition } from "./support/conditions.ts";

// `kubectl tollgate` as a user runs it: the cluster's own kubectl finds `kubectl-tollgate` on the PATH
// (a directory holding nothing but the plugin), and runs it with the user's kubeconfig, the admin's
// here (user tollgate-admin). The operator runs beside it as in the other suites: in the first suite
// it freezes a simulated service whose errors burn its budget four times over; in the second it runs
// canaries the plugin promotes, aborts and retries.

interface ProfileStatus {
  phase?: string;
  freeze?: { since: string; override?: { by: string; reason: string; expires: string } };
  conditions?: Condition[];
}

let env: ClusterEnv;
let pluginDir: string;

/** `kubectl ARGS` with the plugin's directory first on the PATH, as a user who installed it. */
const kubectl = (args: string[]): Promise<KubectlResult> => runKubectl(args, { env, pathFirst: pluginDir });
const tollgate = (...args: string[]) => kubectl(["tollgate", ...args]);

beforeAll(() => {
  env = loadClusterEnv();
  // What `npm install` puts on the PATH from the package's bin, running the sources with this Node.
  pluginDir = mkdtempSync(join(tmpdir(), "kubectl-tollgate-"));
  const plugin = join(pluginDir, "kubectl-tollgate");
  writeFileSync(plugin, `#!/bin/sh\nexec '${process.execPath}' '${join(ROOT, "src/plugin/main.ts")}' "$@"\n`);
  chmodSync(plugin, 0o755);
});
afterAll(() => {
  if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
});

describe("kubectl tollgate", () => {
  let ns: string;
  let sim: Simulator;
  let operator: OperatorProcess;

  const status = async () => (await kubectlJson<{ status?: ProfileStatus; metadata: { annotations?: Record<string, string> } }>(["-n", ns, "get", "pp", "game-service"]));
  const condition = (s: ProfileStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

  beforeAll(async () => {
    await installCrds();
    ns = await createOperatorNamespace("e2e-plugin");
    sim = await startSimulator({ targetsDir: env.PROMETHEUS_TARGETS_DIR });
    await sim.setWorkload(ns, "game-service", { rate: 1000, errorRatio: 0.02 });
    await applyYaml(deploymentYaml("game-service", "registry.example/game-service:1.0.0"), ns);
    await kubectlOk(["-n", ns, "rollout", "status", "deployment/game-service", "--timeout=60s"]);
    operator = startOperator(["--namespace", ns, "--prometheus-url", env.PROMETHEUS_URL]);
    await applyYaml(availabilityProfileYaml({ name: "game-service", intervalS: 2, minEvents: 100 }), ns);
    await waitFor("the profile to freeze", async () => ((await status()).status?.phase === "Frozen" ? true : undefined), { timeoutMs: 120_000, intervalMs: 500 });
  });
  afterAll(async () => {
    if (ns) await deleteProfiles(ns);
    await operator?.stop();
    await sim?.stop();
    if (ns) await deleteOperatorNamespace(ns);
  });

  it("is found on the PATH by kubectl itself", async () => {
    const list = await kubectl(["plugin", "list"]);
    expect(list.stdout).toContain(join(pluginDir, "kubectl-tollgate"));
    const version = await tollgate("version");
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it("status prints one line per profile with the phase, the budget, the freeze and why", async () => {
    const res = await tollgate("status", "-n", ns);
    expect(res.code).toBe(0);
    const [header, row, ...rest] = res.stdout.trimEnd().split("\n");
    expect(header).toMatch(/^NAME\s+PHASE\s+CONSUMED\s+REMAINING\s+WORST\s+FREEZE\s+OVERRIDE\s+CANARY\s+LAST DECISION$/);
    expect(rest).toEqual([]);
    // The last decision is the freeze, or the rollback it skipped (no revision has run stableAfter yet).
    expect(row).toMatch(/^game-service\s+Frozen\s+\d{3,}\.\d%\s+0\.0%\s+availability\s+BudgetExhausted \d+[sm]\s+-\s+-\s+(DeploymentsFrozen|RollbackSkipped)=True \w+: /);

    const all = await tollgate("status", "-A");
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(new RegExp(`\\n${ns}\\s+game-service\\s+Frozen`));
  });

  it("status NAME adds the SLO's line, and -o json holds what the status holds", async () => {
    const res = await tollgate("status", "game-service", "-n", ns, "--prometheus", env.PROMETHEUS_URL);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\nSLO\s+WINDOW\s+VERDICT\s+SLI\s+CONSUMED\s+REMAINING\s+EVENTS\s+BURN 5m.*BUDGET OVER WINDOW\n/);
    expect(res.stdout).toMatch(/\navailability\s+1m\s+Ok\s+\d+\.\d{3}%\s+\d+\.\d%\s+0\.0%\s+\d+\s+\d+(\.\d)?x/);

    const json = await tollgate("status", "game-service", "-n", ns, "-o", "json");
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout) as { phase: string; budget: { consumedPercent: number; worstSlo: string }; freeze: { reason: string } | null; slos: Array<{ name: string; verdict: string; burnRates: Record<string, number> }> };
    const stored = (await status()).status;
    expect(summary.phase).toBe("Frozen");
    expect(summary.budget.worstSlo).toBe("availability");
    expect(summary.budget.consumedPercent).toBeGreaterThanOrEqual(100);
    expect(summary.freeze).toMatchObject({ reason: "BudgetExhausted", since: stored?.freeze?.since });
    expect(summary.slos[0]).toMatchObject({ name: "availability", verdict: "Ok" });
    expect(summary.slos[0]?.burnRates["5m"]).toBeGreaterThan(1);
  });

  it("status exits 1 for a profile that does not exist and 2 for a wrong flag", async () => {
    const missing = await tollgate("status", "nope", "-n", ns);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`PerformanceProfile nope in namespace ${ns} not found`);
    const wrong = await tollgate("status", "--colour");
    expect(wrong.code).toBe(2);
  });

  it("explain prints the PromQL the operator runs, and its values from the test Prometheus", async () => {
    const res = await tollgate("explain", "game-service", "-n", ns, "--prometheus", env.PROMETHEUS_URL);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("SLO availability: 99.5 % good over 1m (error budget 0.5 % of events)");
    expect(res.stdout).toContain(`istio_requests_total{destination_workload="game-service",destination_workload_namespace="${ns}",reporter="destination",response_code=~"5.."}[10s]`);
    expect(res.stdout).toContain(`recorded as tollgate_slo:error_ratio:rate{namespace="${ns}",profile="game-service",slo="availability",window="1m"}`);
    // 2 % errors against a 0.5 % budget: the simulator's ratio, so a burn rate near 4 on every window.
    const burn = /error ratio over 1m \(the SLO window: budget consumed\): [\d.e-]+ \(burn rate ([\d.]+)x/.exec(res.stdout);
    expect(Number(burn?.[1])).toBeGreaterThan(3);
    expect(Number(burn?.[1])).toBeLessThan(5);
    expect(res.stdout).toMatch(/events over 1m \(the SLO window; fewer than policy\.minEvents is no verdict\): \d+ events/);
  });

  it("lint passes the repository's example", async () => {
    const res = await tollgate("lint", "-f", join(ROOT, "examples/game-service.yaml"));
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("PerformanceProfile game-service: ok");
  });

  it("override sets the annotation as the caller, and the operator lifts the freeze and records who", async () => {
    const res = await tollgate("override", "game-service", "-n", ns, "--reason", "hotfix INC-42", "--for", "2h");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`PerformanceProfile ${ns}/game-service: freeze override by tollgate-admin until `);
    const annotation = JSON.parse((await status()).metadata.annotations?.["tollgate.dev/override-freeze"] ?? "{}") as { by: string; reason: string; expires: string };
    expect(annotation).toMatchObject({ by: "tollgate-admin", reason: "hotfix INC-42" });
    const hours = (Date.parse(annotation.expires) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);

    const lifted = await waitFor("the operator to honour the override", async () => {
      const s = (await status()).status;
      return condition(s, "DeploymentsFrozen")?.reason === "FreezeOverridden" ? s : undefined;
    });
    expect(lifted?.freeze?.override).toMatchObject({ by: "tollgate-admin", reason: "hotfix INC-42" });
    // The status is recorded before the operator acts on it: the Deployment resumes just after.
    await waitFor("the Deployment to resume", async () => {
      const d = await kubectlJson<{ spec: { paused?: boolean } }>(["-n", ns, "get", "deployment", "game-service"]);
      return d.spec.paused ? undefined : true;
    });

    const shown = await tollgate("status", "-n", ns);
    expect(shown.stdout).toMatch(/game-service\s+Frozen\s+.*tollgate-admin, 1\d\dm left/);
  });

  it("override refuses more than the operator's 7d cap, and changes nothing", async () => {
    const before = (await status()).metadata.annotations?.["tollgate.dev/override-freeze"];
    const res = await tollgate("override", "game-service", "-n", ns, "--reason", "long fix", "--for", "8d");
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("--for 8d is longer than the 7d an override may last");
    expect((await status()).metadata.annotations?.["tollgate.dev/override-freeze"]).toBe(before);
  });

  it("override --clear removes the annotation and the freeze applies again", async () => {
    const res = await tollgate("override", "game-service", "-n", ns, "--clear");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("freeze override removed");
    expect((await status()).metadata.annotations?.["tollgate.dev/override-freeze"]).toBeUndefined();
    await waitFor("the freeze to apply again", async () => {
      const [s, d] = await Promise.all([status(), kubectlJson<{ spec: { paused?: boolean } }>(["-n", ns, "get", "deployment", "game-service"])]);
      return condition(s.status, "DeploymentsFrozen")?.status === "True" && d.spec.paused ? true : undefined;
    });
    const again = await tollgate("override", "game-service", "-n", ns, "--clear");
    expect(again).toMatchObject({ code: 0 });
    expect(again.stdout).toContain("had no freeze override; nothing changed");
  });
});

// The canary commands, on a canary whose steps are a minute apart, so nothing but the command moves it
// while a test waits. The scenario is the canary suite's: traffic for primary and the canary from the
// start, and no test before the budget has a verdict, since a profile whose budget has none is
// Degraded (MetricsUnavailable) rather than Progressing, whatever its canary does.
describe("kubectl tollgate canary", () => {
  const s = new CanaryScenario();
  const until = async (what: string, want: (c: CanaryStatus) => boolean): Promise<CanaryStatus> => (await s.canary(want, what)).canary!;

  beforeAll(async () => {
    await s.setUp("e2e-plugin-canary", canaryProfileYaml({ stepWeight: 10, maxWeight: 50, interval: "1m" }), { primary: 200, canary: 20 });
    await s.initialized();
  });
  afterAll(async () => {
    if (s.ns) await deleteProfiles(s.ns);
    await s.tearDown();
  });

  // The canary's revision is the Deployment controller's number for the new template, read from the
  // Deployment rather than counted here: the operator's set-up labels the target's pod template
  // tollgate.dev/track=canary, which is a revision of its own, so 2.0.0 is not revision 2.
  let run: { revision: number; templateHash: string };
  const rev = () => `revision ${run.revision} (${run.templateHash})`;

  it("status shows the canary's phase, step and weight", async () => {
    await s.setImage("registry.example/game-service:2.0.0");
    const started = await until("the canary at 10 %", (c) => c.phase === "Progressing" && c.step === 1 && c.weight === 10);
    run = { revision: await s.revision(), templateHash: started.templateHash ?? "" };
    expect(started.revision).toBe(run.revision);
    const res = await tollgate("status", "-n", s.ns);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/\ngame-service\s+Progressing\s+.*\s+Progressing step 1 10%\s+/);
  });

  it("canary retry is refused while the canary is in progress, and nothing is written", async () => {
    const res = await tollgate("canary", "retry", "game-service", "-n", s.ns);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("retry needs a failed canary (phase Failed)");
    expect(res.stderr).toContain(`the canary of revision ${run.revision} is Progressing at 10 %`);
    const pp = await kubectlJson<{ metadata: { annotations?: Record<string, string> } }>(["-n", s.ns, "get", "pp", "game-service"]);
    expect(pp.metadata.annotations?.["tollgate.dev/canary-command"]).toBeUndefined();
  });

  it("canary promote promotes at 10 % without the remaining steps, and the event names who asked", async () => {
    const res = await tollgate("canary", "promote", "game-service", "-n", s.ns, "--reason", "INC-42 fix verified");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`asked by tollgate-admin; the operator promotes the canary of ${rev()} from 10 %`);
    await until("the promotion", (c) => c.phase === "Succeeded");
    expect(await s.image("game-service-primary")).toBe("registry.example/game-service:2.0.0");
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
    expect((await s.event("CanaryPromoting")).message).toContain(`${rev()} is promoted by tollgate-admin (INC-42 fix verified) at 10 % (step 1)`);
  });

  it("canary abort fails the run at once and returns all traffic to primary", async () => {
    await s.setImage("registry.example/game-service:3.0.0");
    const running = await until("the next canary at 10 %", (c) => c.phase === "Progressing" && c.step === 1 && c.weight === 10);
    run = { revision: await s.revision(), templateHash: running.templateHash ?? "" };
    expect(running.revision).toBe(run.revision);
    const res = await tollgate("canary", "abort", "game-service", "-n", s.ns, "--reason", "bad build");
    expect(res.code).toBe(0);
    const failed = await until("the abort", (c) => c.phase === "Failed");
    expect(failed).toMatchObject({ weight: 0, templateHash: running.templateHash, startedAt: running.startedAt });
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
    expect(await s.image("game-service-primary")).toBe("registry.example/game-service:2.0.0");
    expect((await s.event("CanaryAborted")).message).toContain(`The canary of ${rev()} was aborted by tollgate-admin (bad build) at 10 % (step 1)`);
  });

  it("canary retry runs the failed template again as a new run, which the next command names", async () => {
    const failed = (await s.status()).canary;
    const res = await tollgate("canary", "retry", "game-service", "-n", s.ns);
    expect(res.code).toBe(0);
    const again = await until("the retried canary", (c) => c.phase === "Progressing");
    expect(again.templateHash).toBe(failed?.templateHash);
    expect(again.startedAt).not.toBe(failed?.startedAt);
    expect((await s.event("CanaryRetried")).message).toContain(`${rev()} runs as a canary again, retried by tollgate-admin after it failed`);
    // A command names its run by its start, so the abort of the retried run is for that run alone.
    const abort = await tollgate("canary", "abort", "game-service", "-n", s.ns, "-o", "json");
    expect(abort.code).toBe(0);
    expect((JSON.parse(abort.stdout) as { command: { startedAt: string } }).command.startedAt).toBe(again.startedAt);
    await until("the retried run aborted", (c) => c.phase === "Failed" && c.startedAt === again.startedAt);
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
  });

  it("a command the operator cannot read is said in CanaryProgressing, and neither it nor one for another run changes the canary", async () => {
    const annotate = (value: string) => kubectlOk(["-n", s.ns, "annotate", "--overwrite", "pp", "game-service", `tollgate.dev/canary-command=${value}`]);
    const progressing = async () => s.condition(await s.status(), "CanaryProgressing");
    const failed = (await s.status()).canary!;
    expect(failed.phase).toBe("Failed");
    const { templateHash, startedAt } = failed;

    // An unknown verb, typed by hand: the condition names the annotation and the field, and still says the run failed.
    await annotate(JSON.stringify({ command: "pause", templateHash, startedAt, by: "tollgate-admin" }));
    const invalid = await waitFor("CanaryCommandInvalid", async () => {
      const c = await progressing();
      return c?.reason === "CanaryCommandInvalid" ? c : undefined;
    });
    expect(invalid.status).toBe("False");
    expect(invalid.message).toContain('The tollgate.dev/canary-command annotation is ignored: "command" must be one of promote, abort, retry; expected JSON like {');
    expect(invalid.message).toContain(`The canary of ${rev()} failed; change the target's template, or retry it`);
    const told = await s.event("CanaryCommandInvalid");
    expect(told.type).toBe("Warning");
    expect(told.message).toContain('The tollgate.dev/canary-command annotation is ignored: "command" must be one of promote, abort, retry');

    // A retry for a run that is not this one does nothing; CanaryProgressing is the canary's own again.
    const earlier = "2026-01-01T00:00:00.000Z";
    await annotate(JSON.stringify({ command: "retry", templateHash, startedAt: earlier, by: "tollgate-admin", reason: "" }));
    await waitFor("CanaryProgressing the canary's own again", async () => {
      const c = await progressing();
      return c?.reason === "Failed" && !c.message.includes("tollgate.dev/canary-command") ? true : undefined;
    });
    await sleep(6_000); // three evaluation intervals
    expect((await s.status()).canary).toMatchObject({ phase: "Failed", weight: 0, startedAt });
    expect(await s.weights()).toEqual({ primary: 100, canary: 0 });
  });
});
