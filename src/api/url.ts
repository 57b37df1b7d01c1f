import { z } from "zod";
import { withRules } from "./cel.ts";

/** Whether `s` is an absolute http(s) URL with a host, read the same way by fetch and by CEL's url(). */
export function isHttpUrl(s: string): boolean {
  if (!URL.canParse(s)) return false;
  const u = new URL(s);
  return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
}

/** An http(s) URL field; `field` names it in the message both the API server and validateSpec give. */
export function httpUrl(field: string, description: string, example: string) {
  return withRules(
    z.string().max(2048),
    [
      {
        rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
        message: `${field} must be an http or https URL such as ${example}.`,
        check: isHttpUrl,
      },
    ],
    { description },
  );
}
