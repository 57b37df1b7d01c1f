import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BURN_ALERT, operatorAlertGroup, profileAlertGroup } from "./alerts.ts";
import { operatorPrometheusRule, profileRuleSet, prometheusRule } from "./profile-rules.ts";
import { ERROR_RATIO_RECORD, profileRuleGroups, rulesFileYaml, type AlertingRule, type Rule } from "./rules.ts";
import { game, HAS_PROMTOOL, PROMTOOL_TIMEOUT_MS, profile, promtoolCheckRules, promtoolTestRules } from "./test-builders.ts";

const auth = profile("auth", "auth", {
  targetRef: { name: "auth-service" },
  slos: [
    { name: "availability", objective: 99.9, window: "28d", indicator: { istio: { kind: "availability" } } },
    { name: "unknown-unit", objective: 99, indicator: { latency: { metric: "rpc_latency", selector: "{}", threshold: "1s", unit: "seconds" } } },
  ],
});
// A latency SLO without a unit, as stored before the CRD required one: it cannot be measured.
delete auth.spec.slos.find((s) => s.name === "unknown-unit")!.indicator.latency!.unit;

const isAlert = (r: Rule): r is AlertingRule => "alert" in r;

/** The labels of every recorded error ratio an alert's expression reads. */
function ratiosRead(expr: string): string[] {
  return [...expr.matchAll(new RegExp(`${ERROR_RATIO_RECORD}\\{([^}]*)\\}`, "g"))].map((m) => m[1] ?? "");
}

function ratioLabels(labels: Record<string, string>): string {
  return ["namespace", "profile", "slo", "window"].map((k) => `${k}="${labels[k]}"`).join(",");
}

describe("a profile's rule set", () => {
  it("is its recording-rule groups, then its alert group", () => {
    const { groups, problems } = profileRuleSet(game, { tiles: true });
    expect(problems).toEqual([]);
    expect(groups.map((g) => [g.name, g.interval])).toEqual([
      ["tollgate/games/game/tiles", "5m"],
      ["tollgate/games/game/sums", "2m30s"],
      ["tollgate/games/game", "30s"],
      ["tollgate/games/game/alerts", "30s"],
    ]);
    expect(groups.slice(0, 3)).toEqual(profileRuleGroups(game, { tiles: true }).groups);
    expect(groups[3]).toEqual(profileAlertGroup(game).group);
  });

  it("gives the alerts the rules' interval and burn-window floor, so every ratio an alert reads is one the set records", () => {
    for (const opts of [{ interval: "10s" }, { interval: "1m", minBurnWindowMs: 20 * 60_000 }, { tiles: true as const }]) {
      const { groups } = profileRuleSet(game, opts);
      const recorded = new Set(
        groups
          .flatMap((g): Rule[] => g.rules)
          .filter((r) => !isAlert(r) && r.record === ERROR_RATIO_RECORD)
          .map((r) => ratioLabels(r.labels)),
      );
      const alerts = groups.at(-1)!;
      expect(alerts.interval).toBe(opts.interval ?? "30s");
      expect(alerts.rules.every(isAlert)).toBe(true);
      const read = alerts.rules.flatMap((r) => ratiosRead(r.expr));
      expect(read.length).toBeGreaterThan(0);
      for (const labels of read) expect(recorded, labels).toContain(labels);
    }
    // The floor reaches the alerts' windows: the latency page's 1m10s short window is raised to 20m.
    const floored = profileRuleSet(game, { minBurnWindowMs: 20 * 60_000 }).groups.at(-1)!;
    expect(floored.rules.find((r) => isAlert(r) && r.labels.slo === "latency" && r.labels.severity === "page")?.labels.short_window).toBe("20m");
  });

  it("leaves an SLO that cannot be measured out of both, as one problem", () => {
    const { groups, problems } = profileRuleSet(auth);
    expect(problems.map((p) => p.slo)).toEqual(["unknown-unit"]);
    const slos = new Set(groups.flatMap((g): Rule[] => g.rules).map((r) => r.labels.slo));
    expect(slos).toEqual(new Set(["availability"]));
    expect(groups.map((g) => g.name)).toEqual(["tollgate/auth/auth", "tollgate/auth/auth/alerts"]);
  });

  it("is empty when no SLO can be measured: no alert group that could only say its metrics are absent", () => {
    const none = { ...auth, spec: { ...auth.spec, slos: auth.spec.slos.filter((s) => s.name === "unknown-unit") } };
    expect(profileRuleSet(none)).toEqual({ groups: [], problems: [expect.objectContaining({ slo: "unknown-unit" })] });
  });
});

describe("PrometheusRule", () => {
  it("holds the profile's recording rules and alerts, owned by its profile", () => {
    const { object, problems } = prometheusRule(game, { labels: { release: "prometheus" }, ownerUid: "u-1" });
    expect(problems).toEqual([]);
    expect(object).toMatchObject({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: {
        name: "game-tollgate-slos",
        namespace: "games",
        labels: { release: "prometheus", "app.kubernetes.io/managed-by": "tollgate", "tollgate.dev/profile": "game" },
        ownerReferences: [{ apiVersion: "tollgate.dev/v1alpha1", kind: "PerformanceProfile", name: "game", uid: "u-1", controller: true }],
      },
    });
    expect(object.spec.groups).toEqual(profileRuleSet(game).groups);
    expect(object.spec.groups.at(-1)?.name).toBe("tollgate/games/game/alerts");
  });

  it("printed for a pipeline, is not labelled as managed by Tollgate and has no owner", () => {
    const { object } = prometheusRule(game, { managed: false, labels: { team: "games" } });
    expect(object.metadata.labels).toEqual({ team: "games", "tollgate.dev/profile": "game" });
    expect(object.metadata.ownerReferences).toBeUndefined();
  });

  it("of Tollgate's own alerts, takes a namespace and labels when given", () => {
    expect(operatorPrometheusRule()).toEqual({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "tollgate-operator-alerts", labels: {} },
      spec: { groups: [operatorAlertGroup()] },
    });
    expect(operatorPrometheusRule({ namespace: "monitoring", labels: { release: "prometheus" } }).metadata).toEqual({
      name: "tollgate-operator-alerts",
      namespace: "monitoring",
      labels: { release: "prometheus" },
    });
  });
});

describe.skipIf(!HAS_PROMTOOL)("promtool", { timeout: PROMTOOL_TIMEOUT_MS }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "tollgate-rule-set-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("accepts a file of rule sets with Tollgate's own alerts", async () => {
    const groups = [...profileRuleSet(game, { tiles: true }).groups, ...profileRuleSet(auth).groups, operatorAlertGroup()];
    const file = join(dir, "rules.yaml");
    await writeFile(file, rulesFileYaml(groups));
    const stdout = await promtoolCheckRules(file);
    const count = groups.reduce((n, g) => n + g.rules.length, 0);
    // game: 2 × (8 ratios + events) + 2 × 3 tiles + 4 burn and absent alerts per SLO; auth: 9 + 5; operator: 3.
    expect(count).toBe(18 + 6 + 10 + 9 + 5 + 3);
    expect(stdout).toContain(`SUCCESS: ${count} rules found`);
  });

  it("pages from raw Istio series through the file's recording rules: on a 15× burn once its hour is full, until 5 minutes after it", async () => {
    const checkout = profile("shop", "checkout", {
      targetRef: { name: "checkout" },
      slos: [{ name: "availability", objective: 99.5, window: "30d", indicator: { istio: { kind: "availability" } } }],
    });
    const { groups } = profileRuleSet(checkout, { interval: "1m" });
    const page = groups.at(-1)!.rules.find((r): r is AlertingRule => isAlert(r) && r.alert === BURN_ALERT && r.labels.long_window === "1h")!;
    expect(page.labels).toMatchObject({ severity: "page", short_window: "5m" });
    const rulesFile = join(dir, "burn-rules.yaml");
    await writeFile(rulesFile, rulesFileYaml(groups));

    // 600 requests a minute. A clean day first, so the 6h, 1d and 3d windows hold enough good traffic that
    // only the 1h page can fire; then 7.5 % errors (15× a 0.5 % budget) from minute 1440 to 1530.
    const minutes = 1560;
    const burning = (t: number) => t > 1440 && t <= 1530;
    const good: number[] = [0];
    const bad: number[] = [0];
    for (let t = 1; t <= minutes; t++) {
      good.push(good[t - 1]! + (burning(t) ? 555 : 600));
      bad.push(bad[t - 1]! + (burning(t) ? 45 : 0));
    }
    const series = (code: string) =>
      `istio_requests_total{destination_workload="checkout",destination_workload_namespace="shop",reporter="destination",response_code="${code}"}`;
    const at = (minute: number, firing: boolean) => ({
      alertname: BURN_ALERT,
      eval_time: `${minute}m`,
      exp_alerts: firing ? [{ exp_labels: page.labels, exp_annotations: page.annotations }] : [],
    });
    const test = {
      rule_files: [rulesFile],
      evaluation_interval: "1m",
      // The alerts after the ratios they read, as in the file, so both see the same instant.
      group_eval_order: groups.map((g) => g.name),
      tests: [
        {
          interval: "1m",
          input_series: [
            { series: series("200"), values: good.join(" ") },
            { series: series("503"), values: bad.join(" ") },
          ],
          alert_rule_test: [
            at(1430, false),
            // 40 minutes of the hour burning: 10×.
            at(1480, false),
            // The whole hour and the last 5 minutes at 15×.
            at(1510, true),
            at(1530, true),
            // The last 5 minutes clean again.
            at(1540, false),
          ],
        },
      ],
    };
    const testFile = join(dir, "burn-test.yaml");
    await writeFile(testFile, JSON.stringify(test));
    const report = await promtoolTestRules(testFile);
    expect(report).toMatch(/SUCCESS/);
  });
});
