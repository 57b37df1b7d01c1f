import { readFile } from "node:fs/promises";

/** A file the user named, or standard input for "-", as kubectl's -f reads them. */
export async function readInput(path: string): Promise<string> {
  if (path !== "-") return readFile(path, "utf8");
  let text = "";
  for await (const chunk of process.stdin.setEncoding("utf8")) text += chunk as string;
  return text;
}
