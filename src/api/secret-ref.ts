import { z } from "zod";
import { dnsSubdomain } from "./names.ts";

/**
 * A key of a Secret in the profile's own namespace. Cross-namespace references are deliberately not
 * offered: a profile must not be a way to read another team's Secrets through the operator.
 */
export function secretKeyRef(field: string, description: string) {
  return z
    .object({
      name: dnsSubdomain(`${field}.name`, "Name of the Secret, in the profile's namespace."),
      key: z
        .string()
        .min(1, `${field}.key must not be empty.`)
        .max(253, `${field}.key must be at most 253 characters.`)
        .regex(/^[-._a-zA-Z0-9]+$/, `${field}.key must be a Secret data key: letters, digits, '-', '_' and '.'.`)
        .describe("Key within the Secret's data whose value is used."),
    })
    .describe(description);
}

export type SecretKeyRef = z.output<ReturnType<typeof secretKeyRef>>;
