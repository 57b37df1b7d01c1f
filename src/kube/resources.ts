/** Where a kind lives in the API: enough to build its REST paths. */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  readonly apiVersion: string;
}

function resource(group: string, version: string, plural: string, kind: string, namespaced = true): ResourceType {
  return { group, version, plural, kind, namespaced, apiVersion: group ? `${group}/${version}` : version };
}

export const Resources = {
  PerformanceProfile: resource("tollgate.dev", "v1alpha1", "performanceprofiles", "PerformanceProfile"),
  Deployment: resource("apps", "v1", "deployments", "Deployment"),
  ReplicaSet: resource("apps", "v1", "replicasets", "ReplicaSet"),
  Pod: resource("", "v1", "pods", "Pod"),
  Service: resource("", "v1", "services", "Service"),
  Secret: resource("", "v1", "secrets", "Secret"),
  Event: resource("", "v1", "events", "Event"),
  Namespace: resource("", "v1", "namespaces", "Namespace", false),
  Lease: resource("coordination.k8s.io", "v1", "leases", "Lease"),
  HorizontalPodAutoscaler: resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler"),
  VirtualService: resource("networking.istio.io", "v1", "virtualservices", "VirtualService"),
  DestinationRule: resource("networking.istio.io", "v1", "destinationrules", "DestinationRule"),
  PrometheusRule: resource("monitoring.coreos.com", "v1", "prometheusrules", "PrometheusRule"),
  CustomResourceDefinition: resource("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false),
} as const;

export function objectPath(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
  const base = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const ns = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  const obj = name ? `/${encodeURIComponent(name)}` : "";
  const sub = name && subresource ? `/${subresource}` : "";
  return `${base}${ns}/${type.plural}${obj}${sub}`;
}
