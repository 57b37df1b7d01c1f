/** A Deployment manifest as a team would write it: `replicas` pods of `image`, labelled app=<name>. */
export function deploymentYaml(name: string, image: string, replicas = 2): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, labels: {app: ${name}}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: app, image: "${image}"}]}
`;
}

/**
 * The smallest valid PerformanceProfile for `target`: one Istio availability SLO. Suites that test what
 * Tollgate writes need a real profile as the owner; with a made-up uid the garbage collector deletes
 * the objects under the test.
 */
export function minimalProfileYaml(name: string, target = name): string {
  return `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${name}}
spec:
  targetRef: {name: ${target}}
  slos: [{name: availability, objective: 99.5, indicator: {istio: {kind: availability}}}]
`;
}

/**
 * The suites' usual subject: one Istio availability SLO over a one-minute window, read every
 * `intervalS`. `policy` adds lines under spec.policy (indented four spaces), `extra` lines under spec
 * (indented two).
 */
export function availabilityProfileYaml(o: { name: string; target?: string; objective?: number; intervalS: number; minEvents?: number; policy?: string; extra?: string }): string {
  return `apiVersion: tollgate.dev/v1alpha1
kind: PerformanceProfile
metadata: {name: ${o.name}}
spec:
  targetRef: {name: ${o.target ?? o.name}}
  slos:
    - {name: availability, objective: ${o.objective ?? 99.5}, window: 1m, indicator: {istio: {kind: availability}}}
  policy:
    evaluationInterval: ${o.intervalS}s
    minEvents: ${o.minEvents ?? 10}
${o.policy ?? ""}${o.extra ?? ""}`;
}
