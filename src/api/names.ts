import { z } from "zod";

/** RFC 1123 label, as Kubernetes uses for Service names; also safe as a Prometheus label value and rule-name part. */
export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/** RFC 1123 subdomain, as Kubernetes uses for Deployment and Secret names. */
export const DNS_SUBDOMAIN_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/** A lower-case RFC 1123 label of at most 63 characters (`availability`, `game-service`). */
export function dnsLabel(field: string, description: string) {
  return z
    .string()
    .min(1, `${field} must not be empty.`)
    .max(63, `${field} must be at most 63 characters.`)
    .regex(new RegExp(DNS_LABEL_PATTERN), `${field} must be lower-case letters, digits and dashes, starting and ending with a letter or digit.`)
    .describe(description);
}

/** A lower-case RFC 1123 subdomain of at most 253 characters, the name of most Kubernetes objects. */
export function dnsSubdomain(field: string, description: string) {
  return z
    .string()
    .min(1, `${field} must not be empty.`)
    .max(253, `${field} must be at most 253 characters.`)
    .regex(new RegExp(DNS_SUBDOMAIN_PATTERN), `${field} must be a Kubernetes object name: lower-case letters, digits, dashes and dots.`)
    .describe(description);
}
