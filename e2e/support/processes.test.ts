import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

// A parent that registers a long-running child with track(), then ends in the way given; prints the
// child's pid first so the test can look for it afterwards.
const PARENT = (ending: string) => `
  import { spawn } from "node:child_process";
  import { exitOnSignals, track } from ${JSON.stringify(new URL("./processes.ts", import.meta.url).href)};
  exitOnSignals();
  const child = track(spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" }));
  process.stdout.write(child.pid + "\\n");
  setTimeout(() => { ${ending} }, 200);
  setInterval(() => {}, 1000);
`;

// Running, as opposed to gone or a zombie: an orphan that was killed stays a zombie until whoever
// adopted it reaps it, and signal 0 still finds a zombie.
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function childOfParentThat(ending: string, signal?: NodeJS.Signals): Promise<{ pid: number; code: number | null }> {
  const parent = spawn(process.execPath, ["--input-type=module", "-e", PARENT(ending)], { stdio: ["ignore", "pipe", "inherit"] });
  const pid = await new Promise<number>((resolve) => parent.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
  if (signal) parent.kill(signal);
  const code = await new Promise<number | null>((resolve) => parent.once("exit", (c) => resolve(c)));
  // The kill is sent during the parent's exit; give the kernel a moment to reap the child.
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return { pid, code };
}

describe("track", () => {
  it("kills a tracked child when its parent fails with process.exit(1)", async () => {
    const { pid, code } = await childOfParentThat("process.exit(1)");
    expect(code).toBe(1);
    expect(alive(pid)).toBe(false);
  });

  it("kills a tracked child when its parent dies of an uncaught error", async () => {
    const { pid, code } = await childOfParentThat("throw new Error('boom')");
    expect(code).toBe(1);
    expect(alive(pid)).toBe(false);
  });

  it("kills a tracked child when a script using exitOnSignals gets SIGTERM", async () => {
    const { pid, code } = await childOfParentThat("", "SIGTERM");
    expect(code).toBe(143);
    expect(alive(pid)).toBe(false);
  });
});
