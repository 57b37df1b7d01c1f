import { describe, expect, it } from "vitest";
import { peakRssKiB, rssKiB } from "./replicas.ts";

describe("rssKiB and peakRssKiB", () => {
  it("read this process's resident memory and its high-water mark from /proc", () => {
    const rss = rssKiB(process.pid);
    const peak = peakRssKiB(process.pid);
    expect(rss).toBeGreaterThan(0);
    expect(peak).toBeGreaterThanOrEqual(rss!);
  });

  it("say nothing of a process that is gone", () => {
    expect(rssKiB(2 ** 22 + 1)).toBeUndefined();
    expect(peakRssKiB(2 ** 22 + 1)).toBeUndefined();
  });
});
