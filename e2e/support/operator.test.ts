import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./env.ts";
import { IMAGE_LAUNCH, IMAGE_NODE_FLAGS } from "./operator.ts";

describe("IMAGE_LAUNCH", () => {
  it("runs what the image's ENTRYPOINT runs: the same V8 flags before the compiled CLI", () => {
    const dockerfile = readFileSync(`${ROOT}/Dockerfile`, "utf8");
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? "null") as string[] | null;
    expect(entrypoint).not.toBeNull();
    const [node, ...rest] = entrypoint!;
    expect(node).toBe("node");
    expect(rest.slice(0, -1)).toEqual([...IMAGE_NODE_FLAGS]);
    // The image's /app is the repository's root: dist/ beside package.json.
    expect(rest.at(-1)).toBe(`/app/${relative(ROOT, IMAGE_LAUNCH.entry!)}`);
    expect(IMAGE_LAUNCH.nodeArgs).toEqual(IMAGE_NODE_FLAGS);
    expect(dockerfile).toContain(`ENV NODE_ENV=${IMAGE_LAUNCH.env?.NODE_ENV}`);
  });
});
