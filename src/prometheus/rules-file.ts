import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { fetch } from "undici";
import type { SloProfile } from "../slo/plan.ts";
import { profileRuleGroup, rulesFileYaml, type RuleProblem } from "../slo/rules.ts";

export interface RulesFileOptions {
  dir: string;
  logger: Logger;
  /**
   * Coalesce reloads asked for within this long into one POST per Prometheus. Default 2 s: a reload
   * re-reads every rule file, and a first pass over thousands of profiles would otherwise reload
   * several times a second; rules are evaluated once per interval anyway.
   */
  reloadDelayMs?: number;
  /** Re-check a file against its expected content at least this often (someone deleted it). Default 10 min. */
  recheckMs?: number;
  /** POSTs <url>/-/reload; the real one unless a test swaps it. */
  reload?: (prometheusUrl: string) => Promise<void>;
}

export function rulesFileName(namespace: string, profile: string): string {
  return `tollgate_${namespace}_${profile}.yaml`;
}

async function postReload(url: string): Promise<void> {
  const res = await fetch(`${url.replace(/\/+$/, "")}/-/reload`, { method: "POST", signal: AbortSignal.timeout(10_000) });
  await res.text();
  if (res.status >= 400) throw new Error(`POST ${url}/-/reload answered ${res.status}`);
}

/**
 * Recording rules as Prometheus rule files, for a Prometheus without prometheus-operator that loads
 * `<dir>/*.yaml` (rule_files). One file per profile, so a profile's rules change without rewriting
 * anyone else's; written by tmp + rename so Prometheus never reads half a file.
 */
export class RulesFileWriter {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly reloadDelayMs: number;
  private readonly recheckMs: number;
  private readonly reload: (url: string) => Promise<void>;
  /** What each file was last found or written to hold, and when. */
  private readonly written = new Map<string, { content: string; atMs: number; url: string }>();
  private readonly pendingReloads = new Map<string, Promise<void>>();

  constructor(opts: RulesFileOptions) {
    this.dir = opts.dir;
    this.logger = opts.logger;
    this.reloadDelayMs = opts.reloadDelayMs ?? 2_000;
    this.recheckMs = opts.recheckMs ?? 10 * 60_000;
    this.reload = opts.reload ?? postReload;
  }

  /**
   * Makes the profile's rules file hold its current rules; when that changed the file, asks the
   * Prometheus at `prometheusUrl` to reload (best effort: a failure is logged, Prometheus's own reload
   * or restart picks the file up later). Resolves once the file is in place, not after the reload.
   */
  async ensure(profile: SloProfile, prometheusUrl: string): Promise<{ changed: boolean; problems: RuleProblem[] }> {
    const { group, problems } = profileRuleGroup(profile);
    const content = rulesFileYaml(group.rules.length > 0 ? [group] : []);
    const file = join(this.dir, rulesFileName(profile.namespace, profile.name));
    const known = this.written.get(file);
    if (known?.content === content && Date.now() - known.atMs < this.recheckMs) return { changed: false, problems };
    const onDisk = await readFile(file, "utf8").catch(() => undefined);
    if (onDisk === content) {
      this.written.set(file, { content, atMs: Date.now(), url: prometheusUrl });
      return { changed: false, problems };
    }
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${rulesFileName(profile.namespace, profile.name)}.${randomBytes(4).toString("hex")}.tmp`);
    await writeFile(tmp, content);
    await rename(tmp, file);
    this.written.set(file, { content, atMs: Date.now(), url: prometheusUrl });
    this.logger.info({ file, namespace: profile.namespace, profile: profile.name }, "recording rules file written");
    void this.requestReload(prometheusUrl);
    return { changed: true, problems };
  }

  /**
   * Removes a deleted profile's file, if this operator wrote or saw it since it started (a profile
   * deleted while no operator ran keeps its file: see the --rules-dir help).
   */
  async remove(namespace: string, name: string): Promise<void> {
    const file = join(this.dir, rulesFileName(namespace, name));
    const known = this.written.get(file);
    if (!known) return;
    this.written.delete(file);
    await unlink(file).catch(() => undefined);
    void this.requestReload(known.url);
  }

  /** One reload per Prometheus per reloadDelayMs, however many files changed: a restart writes them all. */
  requestReload(url: string): Promise<void> {
    const pending = this.pendingReloads.get(url);
    if (pending) return pending;
    const p = new Promise<void>((resolve) => setTimeout(resolve, this.reloadDelayMs))
      .then(() => {
        this.pendingReloads.delete(url);
        return this.reload(url);
      })
      .then(
        () => this.logger.debug({ url }, "Prometheus reloaded its rules"),
        (err: unknown) => this.logger.warn({ url, err: err instanceof Error ? err.message : String(err) }, "Prometheus rules reload failed; it loads them at its next reload"),
      );
    this.pendingReloads.set(url, p);
    return p;
  }
}
