export * from "./autoscaler.ts";
export * from "./destination-rule.ts";
export * from "./labels.ts";
export * from "./meta.ts";
export * from "./names.ts";
export * from "./virtual-service.ts";
export * from "./primary.ts";
