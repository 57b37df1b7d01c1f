// What the CLI's command tests share: an io over files in memory, and the error a promise rejects with.

import type { ConvertIo } from "./import.ts";

/** An io over files in memory, recording what the command writes. */
export function io(files: Record<string, string>) {
  const out = { stdout: "", stderr: [] as string[], help: 0 };
  const fake: ConvertIo = {
    read: async (path) => {
      const text = files[path];
      if (text === undefined) throw new Error("ENOENT: no such file");
      return text;
    },
    write: (text) => void (out.stdout += text),
    warn: (line) => void out.stderr.push(line),
    help: () => void out.help++,
  };
  return { fake, out };
}

export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error("did not reject");
}
