import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));

let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "simulator-main-"));
});

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function run(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, [MAIN, ...args], { env });
  children.push(child);
  return child;
}

function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code} before printing a line`)));
  });
}

function exit(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; stderr: string }> {
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stderr })));
}

describe("main.ts", () => {
  it("prints exactly the listening line, preloads workloads, and unregisters on SIGINT", async () => {
    const env = { ...process.env, PROMETHEUS_TARGETS_DIR: dir };
    const child = run(["--workload", "default/game-service=20,0.5", "--job", "preloaded"], env);
    const done = exit(child);
    const line = await firstLine(child);
    expect(line).toMatch(/^\{"msg":"listening","url":"http:\/\/127\.0\.0\.1:\d+"\}$/);
    const url = (JSON.parse(line) as { url: string }).url;
    // The targets directory came from the environment.
    expect(readdirSync(dir)).toEqual([`simulator-${new URL(url).port}.json`]);
    const view = (await (await fetch(`${url}/workloads/default/game-service`)).json()) as { params: { rate: number; errorRatio: number } };
    expect(view.params).toMatchObject({ rate: 20, errorRatio: 0.5 });
    child.kill("SIGINT");
    expect((await done).code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("exits and unregisters when its stdin closes, if asked to", async () => {
    const child = run(["--targets-dir", dir, "--exit-with-stdin"]);
    const done = exit(child);
    await firstLine(child);
    expect(readdirSync(dir)).toHaveLength(1);
    child.stdin.end();
    expect((await done).code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("rejects bad flags with exit code 2 and a message", async () => {
    const badPort = await exit(run(["--port", "70000"]));
    expect(badPort).toEqual({ code: 2, stderr: "simulator: --port must be an integer in [0, 65535], got 70000\n" });
    const badWorkload = await exit(run(["--workload", "default/x=-3"]));
    expect(badWorkload.code).toBe(2);
    expect(badWorkload.stderr).toBe("simulator: --workload default/x=-3: rate must be >= 0 requests per second, got -3\n");
    const malformed = await exit(run(["--workload", "nonsense"]));
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/--workload must look like ns\/name=rate\[,errorRatio\]/);
  });
});
