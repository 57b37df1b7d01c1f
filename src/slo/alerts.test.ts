import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportedMetricNames, tollgateNamesIn } from "../metrics/exported.ts";
import {
  ABSENT_ALERT,
  BURN_ALERT,
  FROZEN_ALERT,
  operatorAlertGroup,
  profileAlertGroup,
  PROMETHEUS_READS_ALERT,
  RECONCILE_ERRORS_ALERT,
} from "./alerts.ts";
import { ERROR_RATIO_RECORD, profileRuleGroups, rulesFileYaml, type AlertingRule, type RuleGroup } from "./rules.ts";
import { burnAlerts, burnWindows } from "./windows.ts";
import { AUTH_ERRORS, game, HAS_PROMTOOL, PROMTOOL_TIMEOUT_MS, profile, promtoolCheckRules, promtoolTestRules } from "./test-builders.ts";

const auth = profile("auth", "auth", {
  targetRef: { name: "auth-service" },
  slos: [
    AUTH_ERRORS,
    { name: "latency", objective: 99, window: "1h", indicator: { latency: { metric: "http_server_request_duration_seconds", selector: '{job="auth"}', threshold: "1s" } } },
    // No unit suffix and no unit: no recording rules, so no alerts either.
    { name: "unknown-unit", objective: 99, indicator: { latency: { metric: "rpc_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
  ],
});
delete auth.spec.slos.find((s) => s.name === "unknown-unit")!.indicator.latency!.unit;

// The demo's minute-long SLO windows, where most burn windows land on the floor.
const demo = profile("demo", "demo", {
  targetRef: { name: "demo" },
  slos: [{ name: "availability", objective: 99, window: "2m", indicator: { istio: { kind: "availability" } } }],
});

const burnRules = (group: RuleGroup<AlertingRule>, slo: string) => group.rules.filter((r) => r.alert === BURN_ALERT && r.labels.slo === slo);
const absentRule = (group: RuleGroup<AlertingRule>, slo: string) => group.rules.find((r) => r.alert === ABSENT_ALERT && r.labels.slo === slo);

/** The recorded error ratios an expression reads, as their labels. */
function ratiosRead(expr: string): Array<Record<string, string>> {
  return [...expr.matchAll(new RegExp(`${ERROR_RATIO_RECORD}\\{([^}]*)\\}`, "g"))].map(
    (m) => Object.fromEntries((m[1] ?? "").split(",").map((kv) => kv.split("=").map((s) => s.replaceAll('"', "")) as [string, string])),
  );
}

describe("burn-rate alerts", () => {
  it("page at 14.4× over 1h and 5m and 6× over 6h and 30m, ticket at 3× over 1d and 2h and 1× over 3d and 6h, for a 30d SLO", () => {
    const { group } = profileAlertGroup(game);
    const rules = burnRules(group, "availability");
    expect(rules.map((r) => [r.labels.severity, r.labels.long_window, r.labels.short_window])).toEqual([
      ["page", "1h", "5m"],
      ["page", "6h", "30m"],
      ["ticket", "1d", "2h"],
      ["ticket", "3d", "6h"],
    ]);
    const ratio = (window: string) => `${ERROR_RATIO_RECORD}{namespace="games",profile="game",slo="availability",window="${window}"}`;
    expect(rules[0]).toEqual({
      alert: "TollgateSloErrorBudgetBurn",
      expr: `max without (window) (${ratio("1h")} > (14.4 * 0.005)) and max without (window) (${ratio("5m")} > (14.4 * 0.005))`,
      labels: { severity: "page", namespace: "games", profile: "game", slo: "availability", long_window: "1h", short_window: "5m" },
      annotations: {
        summary: "SLO availability of games/game is burning its error budget at over 14.4× (last 1h and last 5m)",
        description:
          "Over both the last 1h and the last 5m, more than 7.2 % of the events of SLO availability of games/game failed: " +
          "over 14.4 × its 0.5 % error budget (objective 99.5 % over 30d). At that rate 2 % of the budget goes every 1h, and all of it within 2d2h.",
      },
    });
    // A page fires at once: the short window is what stops it.
    expect(rules.every((r) => r.for === undefined)).toBe(true);
    expect(rules.map((r) => /> \(([\d.]+) \* 0\.005\)/.exec(r.expr)?.[1])).toEqual(["14.4", "6", "3", "1"]);
    expect(rules.map((r) => /At that rate ([\d.]+) %/.exec(r.annotations.description ?? "")?.[1])).toEqual(["2", "5", "10", "10"]);
  });

  it("set the threshold at factor × (1 − objective/100), without float noise", () => {
    const { group } = profileAlertGroup(auth);
    const [page] = burnRules(group, "errors");
    expect(page?.expr).toContain("> (14.4 * 0.001)");
    expect(page?.annotations.description).toContain("more than 1.44 % of the events");
    expect(page?.annotations.description).toContain("its 0.1 % error budget (objective 99.9 % over 4w)");
  });

  it("scale the windows with the SLO window exactly as the operator reads the burn rates", () => {
    const { group } = profileAlertGroup(game);
    const rules = burnRules(group, "latency");
    expect(rules.map((r) => [r.labels.long_window, r.labels.short_window])).toEqual([
      ["14m", "1m10s"],
      ["1h24m", "7m"],
      ["5h36m", "28m"],
      ["16h48m", "1h24m"],
    ]);
    expect(rules.map((r) => [r.labels.long_window, r.labels.short_window])).toEqual(burnAlerts("7d").map((a) => [a.long.window, a.short.window]));
    // With the operator's floor raised, the alerts follow it.
    const floored = burnRules(profileAlertGroup(game, { minBurnWindowMs: 10 * 60_000 }).group, "latency");
    expect(floored.map((r) => [r.labels.long_window, r.labels.short_window])).toEqual([
      ["14m", "10m"],
      ["1h24m", "10m"],
      ["5h36m", "28m"],
      ["16h48m", "1h24m"],
    ]);
  });

  it("read only error ratios that the profile's recording rules write, never a raw series or a range", () => {
    for (const opts of [{}, { minBurnWindowMs: 60_000 }]) {
      for (const p of [game, auth, demo]) {
        const written = new Set(
          profileRuleGroups(p, { ...opts, tiles: true })
            .groups.flatMap((g) => g.rules)
            .filter((r) => r.record === ERROR_RATIO_RECORD)
            .map((r) => JSON.stringify(r.labels)),
        );
        const { group } = profileAlertGroup(p, opts);
        expect(group.rules.length).toBeGreaterThan(0);
        for (const r of group.rules) {
          expect(r.expr).not.toContain("[");
          const read = ratiosRead(r.expr);
          expect(read.length).toBeGreaterThan(0);
          // Nothing but those selectors: take them out and only PromQL's own words are left.
          const words = r.expr.replaceAll(/tollgate_slo:error_ratio:rate\{[^}]*\}/g, "").match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
          for (const w of words) expect(["max", "without", "window", "and", "absent"]).toContain(w);
          for (const labels of read) expect(written, `${r.alert} ${JSON.stringify(labels)}`).toContain(JSON.stringify(labels));
        }
      }
    }
  });

  it("keep one alert where pairs of a severity scale onto the same two windows, the one with the lower factor", () => {
    expect(burnAlerts("2m").map((a) => [a.severity, a.factor, a.long.window, a.short.window])).toEqual([
      ["page", 14.4, "10s", "10s"],
      ["page", 6, "10s", "10s"],
      ["ticket", 3, "10s", "10s"],
      ["ticket", 1, "12s", "10s"],
    ]);
    const rules = burnRules(profileAlertGroup(demo).group, "availability");
    expect(rules.map((r) => [r.labels.severity, r.labels.long_window, r.labels.short_window, /> \(([\d.]+) \*/.exec(r.expr)?.[1]])).toEqual([
      ["page", "10s", "10s", "6"],
      ["ticket", "10s", "10s", "3"],
      ["ticket", "12s", "10s", "1"],
    ]);
  });

  it("leave out an SLO that cannot be measured, and say why", () => {
    const { group, problems } = profileAlertGroup(auth);
    expect(problems).toEqual([{ namespace: "auth", profile: "auth", slo: "unknown-unit", error: expect.stringMatching(/set latency.unit/) as unknown as string }]);
    expect(group.rules.some((r) => r.labels.slo === "unknown-unit")).toBe(false);
    expect([...new Set(group.rules.map((r) => r.labels.slo))]).toEqual(["errors", "latency"]);
  });

  it("go in a group of their own beside the profile's recording rules, at the profile's interval unless told", () => {
    expect(profileAlertGroup(game).group).toMatchObject({ name: "tollgate/games/game/alerts", interval: "30s" });
    expect(profileAlertGroup(game, { interval: "1m" }).group.interval).toBe("1m");
  });
});

describe("absent-metrics alerts", () => {
  it("fire when the ratio over the fastest page's short window has been missing or NaN for that page's long window", () => {
    const { group } = profileAlertGroup(game);
    const ratio = `${ERROR_RATIO_RECORD}{namespace="games",profile="game",slo="availability",window="5m"}`;
    expect(absentRule(group, "availability")).toEqual({
      alert: "TollgateSloMetricsAbsent",
      expr: `absent(${ratio} == ${ratio})`,
      for: "1h",
      labels: { severity: "ticket", namespace: "games", profile: "game", slo: "availability" },
      annotations: {
        summary: "SLO availability of games/game has had no error ratio for 1h; its burn-rate alerts cannot fire",
        description:
          `Tollgate's recorded error ratio of SLO availability of games/game over 5m (${ERROR_RATIO_RECORD}) has been missing or undefined for 1h: ` +
          "the profile's recording rules are not loaded, the indicator's metrics do not exist, or the workload served no requests. " +
          "Until it returns, no burn-rate alert of this SLO can fire.",
      },
    });
    const latency = absentRule(group, "latency");
    expect(latency?.for).toBe("14m");
    expect(latency?.expr).toContain('window="1m10s"');
    expect(absentRule(profileAlertGroup(demo).group, "availability")?.for).toBe("10s");
  });
});

describe("operator alerts", () => {
  const group = operatorAlertGroup();

  it("alert on failing Prometheus reads, failing reconciles and a profile frozen for over a day", () => {
    expect(group.name).toBe("tollgate/operator");
    expect(group.interval).toBeUndefined();
    expect(operatorAlertGroup({ interval: "1m" }).interval).toBe("1m");
    expect(group.rules.map((r) => [r.alert, r.for, r.labels.severity])).toEqual([
      [PROMETHEUS_READS_ALERT, "10m", "ticket"],
      [RECONCILE_ERRORS_ALERT, "10m", "ticket"],
      [FROZEN_ALERT, "1d", "ticket"],
    ]);
  });

  it("read only metrics Tollgate exports", () => {
    const exported = exportedMetricNames();
    const read = group.rules.flatMap((r) => tollgateNamesIn(r.expr));
    expect(new Set(read)).toEqual(
      new Set(["tollgate_prometheus_query_errors_total", "tollgate_reconcile_errors_total", "tollgate_reconcile_duration_seconds_count", "tollgate_profile_phase", "tollgate_leader"]),
    );
    for (const name of read) expect(exported, name).toContain(name);
  });
});

// ---------------------------------------------------------------------------------------------------
// Prometheus's own engine

/** A burn of `rate` × the budget from minute `from` to minute `to`, over steady traffic with no other errors. */
interface Burn {
  from: number;
  to: number;
  rate: number;
}

interface InputSeries {
  series: string;
  values: string;
}

/**
 * What the recording rules record for each burn window at each minute, for a 30d SLO: the burn's share
 * of the window, times its rate and the budget. Rounded to 12 digits, as budget.ts rounds, so a
 * window that holds exactly the threshold is at it, not a float's width above.
 */
function recordedRatios(labels: Record<string, string>, budget: number, burns: readonly Burn[], minutes: number): InputSeries[] {
  return burnWindows("30d").map((w) => {
    const length = w.ms / 60_000;
    const values = Array.from({ length: minutes + 1 }, (_, t) => {
      const bad = burns.reduce((sum, b) => sum + b.rate * Math.max(0, Math.min(t, b.to) - Math.max(t - length, b.from)), 0);
      return String(Number(((budget * bad) / length).toPrecision(12)));
    });
    const selector = Object.entries({ ...labels, window: w.window })
      .map(([k, v]) => `${k}="${v}"`)
      .join(",");
    return { series: `${ERROR_RATIO_RECORD}{${selector}}`, values: values.join(" ") };
  });
}

describe.skipIf(!HAS_PROMTOOL)("promtool", { timeout: PROMTOOL_TIMEOUT_MS }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tollgate-alerts-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function promtoolTest(name: string, groups: ReadonlyArray<RuleGroup<AlertingRule>>, evaluationInterval: string, tests: unknown[]): Promise<void> {
    const rulesFile = join(dir, `${name}-rules.yaml`);
    await writeFile(rulesFile, rulesFileYaml(groups));
    const testFile = join(dir, `${name}-test.yaml`);
    await writeFile(testFile, JSON.stringify({ rule_files: [rulesFile], evaluation_interval: evaluationInterval, tests }));
    const report = await promtoolTestRules(testFile);
    expect(report).toMatch(/SUCCESS/);
  }

  it("accepts the generated rules", async () => {
    const groups = [profileAlertGroup(game).group, profileAlertGroup(auth).group, profileAlertGroup(demo).group, operatorAlertGroup()];
    const file = join(dir, "alerts.yaml");
    await writeFile(file, rulesFileYaml(groups));
    const stdout = await promtoolCheckRules(file);
    // game: 2 SLOs × (4 burn + absent); auth: 2 × 5; demo: 3 burn + absent; operator: 3.
    expect(stdout).toMatch(/SUCCESS: 27 rules found/);
  });

  describe("burn-rate alerts on a 30d SLO at 99.5 %", () => {
    const checkout = profile("shop", "checkout", {
      targetRef: { name: "checkout" },
      slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
    });
    const { group } = profileAlertGroup(checkout, { interval: "1m" });
    const [page1h, page6h, ticket1d, ticket3d] = burnRules(group, "availability") as [AlertingRule, AlertingRule, AlertingRule, AlertingRule];
    const labels = { namespace: "shop", profile: "checkout", slo: "availability" };
    const burning = (burns: Burn[], minutes: number) => recordedRatios(labels, 0.005, burns, minutes);
    const at = (minute: number, ...firing: AlertingRule[]) => ({
      alertname: BURN_ALERT,
      eval_time: `${minute}m`,
      exp_alerts: firing.map((r) => ({ exp_labels: r.labels, exp_annotations: r.annotations })),
    });

    it("page over 1h and 5m at over 14.4×: not at 13×, not at exactly 14.4×, and at 14.5× once the hour is full", async () => {
      await promtoolTest("page-threshold", [group], "1m", [
        // Steady for 140 minutes: the 1h window is full from minute 120, and nothing else comes near its factor.
        { interval: "1m", input_series: burning([{ from: 60, to: 200, rate: 13 }], 200), alert_rule_test: [at(130), at(200)] },
        { interval: "1m", input_series: burning([{ from: 60, to: 200, rate: 14.4 }], 200), alert_rule_test: [at(130), at(200)] },
        // 14.5 × 59/60 = 14.26: only the full hour is above 14.4.
        { interval: "1m", input_series: burning([{ from: 60, to: 200, rate: 14.5 }], 200), alert_rule_test: [at(119), at(120, page1h), at(200, page1h)] },
      ]);
    });

    it("page over 1h and 5m when a 15× burn has filled 58 minutes of the hour, and stop 1 minute after it ends", async () => {
      await promtoolTest("page-1h", [group], "1m", [
        {
          interval: "1m",
          input_series: burning([{ from: 60, to: 150, rate: 15 }], 160),
          alert_rule_test: [
            // 15 × 57/60 = 14.25, 15 × 58/60 = 14.5.
            at(117),
            at(118, page1h),
            // The 6h window never reaches 6× (15 × 90/360 = 3.75): only the 1h page.
            at(150, page1h),
            // The 5m window holds 4 burning minutes at 151: 15 × 4/5 = 12.
            at(151),
          ],
        },
      ]);
    });

    it("page over 6h and 30m when a 7× burn has filled 309 minutes of the 6 hours, and stop 5 minutes after it ends", async () => {
      await promtoolTest("page-6h", [group], "1m", [
        {
          interval: "1m",
          input_series: burning([{ from: 60, to: 460, rate: 7 }], 470),
          alert_rule_test: [
            // 7 × 308/360 = 5.99, 7 × 309/360 = 6.008.
            at(368),
            at(369, page6h),
            // 400 minutes at 7× is 1.94× over a day and 0.65× over 3 days: no ticket.
            at(460, page6h),
            // The 30m window: 7 × 26/30 = 6.07 at 464, 7 × 25/30 = 5.83 at 465.
            at(464, page6h),
            at(465),
          ],
        },
      ]);
    });

    it("open both tickets when a 5.5× burn has filled 786 minutes of the day; close the 2h one 55 minutes after it ends, the 6h one 295", async () => {
      await promtoolTest("tickets", [group], "1m", [
        {
          interval: "1m",
          input_series: burning([{ from: 60, to: 1060, rate: 5.5 }], 1360),
          alert_rule_test: [
            // 3× over 1d and 1× over 3d are both a tenth of a 30d budget: 5.5 × 786/1440 = 3.002, 5.5 × 786/4320 = 1.0007.
            at(845),
            at(846, ticket1d, ticket3d),
            // 5.5× never pages.
            at(1060, ticket1d, ticket3d),
            // The 2h window: 5.5 × 66/120 = 3.025 at 1114, 5.5 × 65/120 = 2.98 at 1115.
            at(1114, ticket1d, ticket3d),
            at(1115, ticket3d),
            // The 6h window: 5.5 × 66/360 = 1.008 at 1354, 5.5 × 65/360 = 0.99 at 1355.
            at(1354, ticket3d),
            at(1355),
          ],
        },
      ]);
    });

    it("open only the 3-day ticket when a 2× burn has gone on for 36 hours and a minute", async () => {
      await promtoolTest("ticket-3d", [group], "1m", [
        {
          interval: "1m",
          input_series: burning([{ from: 60, to: 2230, rate: 2 }], 2230),
          // 2 × 2160/4320 = 1 is not over 1; 2 × 2161/4320 is. 2× never reaches the 1d ticket's 3×.
          alert_rule_test: [at(1500), at(2220), at(2221, ticket3d), at(2230, ticket3d)],
        },
      ]);
    });
  });

  it("raise the absent-metrics alert an hour after the 5m ratio goes missing or NaN, and drop it when the ratio returns", async () => {
    const twoSlos = profile("shop", "cart", {
      targetRef: { name: "cart" },
      slos: [
        { name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } },
        { name: "latency", objective: 99, window: "30d", indicator: { istio: { kind: "latency", threshold: "300ms" } } },
      ],
    });
    const { group } = profileAlertGroup(twoSlos, { interval: "1m" });
    const availability = absentRule(group, "availability") as AlertingRule;
    const latency = absentRule(group, "latency") as AlertingRule;
    const at = (minute: number, ...firing: AlertingRule[]) => ({
      alertname: ABSENT_ALERT,
      eval_time: `${minute}m`,
      exp_alerts: firing.map((r) => ({ exp_labels: r.labels, exp_annotations: r.annotations })),
    });
    await promtoolTest("absent", [group], "1m", [
      {
        interval: "1m",
        input_series: [
          // Availability: a ratio until minute 60, no traffic (NaN) from 61 to 150, a ratio again from 151.
          // Latency: never recorded at all, as when the rules are not loaded.
          { series: `${ERROR_RATIO_RECORD}{namespace="shop",profile="cart",slo="availability",window="5m"}`, values: `0.001x60 ${Array(90).fill("NaN").join(" ")} 0.001x10` },
        ],
        alert_rule_test: [
          at(59),
          at(60, latency),
          at(120, latency),
          at(121, availability, latency),
          at(150, availability, latency),
          at(151, latency),
        ],
      },
    ]);
  });

  describe("operator alerts", () => {
    const operator = operatorAlertGroup();
    const rule = (name: string) => operator.rules.find((r) => r.alert === name) as AlertingRule;

    it("raise failing Prometheus reads after 10 minutes of errors, never for a single one", async () => {
      const reads = rule(PROMETHEUS_READS_ALERT);
      const errors = (mode: string, kind: string) => `tollgate_prometheus_query_errors_total{job="tollgate",instance="a:8080",mode="${mode}",kind="${kind}"}`;
      const firing = {
        exp_labels: { severity: "ticket", mode: "RecordingRules" },
        exp_annotations: {
          summary: "Tollgate cannot read Prometheus (RecordingRules reads)",
          description:
            "Tollgate's RecordingRules reads from Prometheus have kept failing for 10 minutes (tollgate_prometheus_query_errors_total says of which kind). " +
            "Without measurements no SLO has a verdict: budgets are not updated, the policy holds its state and canaries wait.",
        },
      };
      expect(reads.annotations.summary).toContain("{{ $labels.mode }}");
      await promtoolTest("reads", [operator], "1m", [
        {
          interval: "1m",
          input_series: [
            // One failed Direct read at minute 10.
            { series: errors("Direct", "timeout"), values: "0x9 1x80" },
            // A failed RecordingRules read every minute from 31 to 60.
            { series: errors("RecordingRules", "unreachable"), values: "0x30 1+1x29 30x30" },
          ],
          alert_rule_test: [
            { alertname: PROMETHEUS_READS_ALERT, eval_time: "20m", exp_alerts: [] },
            { alertname: PROMETHEUS_READS_ALERT, eval_time: "40m", exp_alerts: [] },
            { alertname: PROMETHEUS_READS_ALERT, eval_time: "41m", exp_alerts: [firing] },
            { alertname: PROMETHEUS_READS_ALERT, eval_time: "63m", exp_alerts: [firing] },
            // Five minutes after the last error (one minute earlier on Prometheus 3, whose ranges leave out their start).
            { alertname: PROMETHEUS_READS_ALERT, eval_time: "65m", exp_alerts: [] },
          ],
        },
      ]);
    });

    it("raise reconcile errors when over a tenth of reconciles fail for 10 minutes, not at a tenth or less", async () => {
      const series = (name: string, extra = "") => `${name}{job="tollgate",instance="a:8080",controller="profile"${extra}}`;
      const input = (errorsValues: string) => [
        { series: series("tollgate_reconcile_duration_seconds_count", ',outcome="success"'), values: "0+10x90" },
        { series: series("tollgate_reconcile_duration_seconds_count", ',outcome="error"'), values: errorsValues },
        { series: series("tollgate_reconcile_errors_total"), values: errorsValues },
      ];
      const firing = {
        exp_labels: { severity: "ticket", controller: "profile" },
        exp_annotations: {
          summary: "Over 10 % of Tollgate's profile reconciles fail",
          description:
            "More than a tenth of the profile controller's reconciles have failed for 10 minutes (now 16.67%). " +
            "Failed reconciles are retried with backoff; the operator's log says why they fail.",
        },
      };
      const at = (minute: number, ...alerts: unknown[]) => ({ alertname: RECONCILE_ERRORS_ALERT, eval_time: `${minute}m`, exp_alerts: alerts });
      await promtoolTest("reconcile", [operator], "1m", [
        // 10 good reconciles a minute; 2 failed ones a minute from 31 to 60: 2 of 12 fail.
        // The share first passes a tenth at 33 (6 failures in the 5m window), so the alert fires at 43.
        { interval: "1m", input_series: input("0x30 2+2x29 60x30"), alert_rule_test: [at(42), at(43, firing), at(60, firing), at(63)] },
        // 1 failed a minute: 1 of 11, under a tenth.
        { interval: "1m", input_series: input("0x30 1+1x29 30x30"), alert_rule_test: [at(45), at(60)] },
      ]);
    });

    it("raise a profile frozen for a day on the leader's gauge, not a former leader's", async () => {
      const phase = (instance: string) => `tollgate_profile_phase{job="tollgate",instance="${instance}",namespace="games",profile="game",phase="Frozen"}`;
      const leader = (instance: string) => `tollgate_leader{job="tollgate",instance="${instance}"}`;
      const firing = {
        exp_labels: { severity: "ticket", job: "tollgate", instance: "a:8080", namespace: "games", profile: "game", phase: "Frozen" },
        exp_annotations: {
          summary: "Profile games/game has been frozen for over a day",
          description:
            "Deployments of games/game have been frozen for more than a day: its error budget is spent. " +
            "The freeze lifts when consumption falls below the policy's unfreezeBelow, or by an override.",
        },
      };
      const at = (minute: number, ...alerts: unknown[]) => ({ alertname: FROZEN_ALERT, eval_time: `${minute}m`, exp_alerts: alerts });
      await promtoolTest("frozen", [operator], "10m", [
        {
          interval: "10m",
          input_series: [
            // The leader sees the profile frozen from minute 60 to 1550 and healthy from 1560.
            { series: phase("a:8080"), values: "0x5 1x149 0x14" },
            { series: leader("a:8080"), values: "1x170" },
            // A former leader still exports the phase it saw last.
            { series: phase("b:8080"), values: "1x170" },
            { series: leader("b:8080"), values: "0x170" },
          ],
          alert_rule_test: [at(1490), at(1500, firing), at(1550, firing), at(1560)],
        },
      ]);
    });
  });
});
