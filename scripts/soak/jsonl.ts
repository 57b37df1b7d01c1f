import { appendFileSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";

/** Appends one JSON object per line, synchronously: a killed soak loses no line it wrote. */
export interface JsonlWriter {
  readonly file: string;
  write(record: Record<string, unknown>): void;
}

export function jsonl(file: string): JsonlWriter {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, "");
  return { file, write: (record) => appendFileSync(file, JSON.stringify(record) + "\n") };
}
