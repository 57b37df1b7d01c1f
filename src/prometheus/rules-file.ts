import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import { send } from "../http/transport.ts";
import { digest } from "../digest.ts";
import type { SloProfile } from "../slo/plan.ts";
import { profileRuleSet } from "../slo/profile-rules.ts";
import { RuleSetMemo, type RuleSetSummary } from "../slo/rule-set-memo.ts";
import { rulesFileYaml, type Rule, type RuleGroup, type RuleOptions, type RuleProblem } from "../slo/rules.ts";
import { PrometheusClient } from "./client.ts";
import { SyntaxChecker, type SyntaxVerdict } from "./syntax-check.ts";

/** Why Prometheus will not have a profile's rules: the spec field they come from, and Prometheus's word on them. */
export interface RulesRejection {
  field: string;
  message: string;
}

/**
 * What POST /-/reload said: Prometheus loaded its configuration and rule files, or refused them (and
 * kept running what it had) with its reason.
 */
export type ReloadOutcome = { ok: true } | { ok: false; message: string };

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
  /**
   * POSTs <url>/-/reload; the real one unless a test swaps it. Throws when the answer says nothing
   * about the rules (unreachable, the lifecycle API off): nothing is judged then. LifecycleApiOff
   * says no reload will ever answer, so nothing is kept for one.
   */
  reload?: (prometheusUrl: string) => Promise<ReloadOutcome>;
  /** Remembers Prometheus's verdicts on expressions; a fresh one by default. */
  syntax?: SyntaxChecker;
  /** The Prometheus whose parser judges the rules it is to load; a PrometheusClient for the URL by default. */
  client?: (prometheusUrl: string) => Pick<PrometheusClient, "checkSyntax">;
}

export function rulesFileName(namespace: string, profile: string): string {
  return `tollgate_${namespace}_${profile}.yaml`;
}

/** Rules of one profile checked with Prometheus's parser at once. */
const PARSE_CONCURRENCY = 8;

/** Prometheus's own message is kept for the user, but only its first line and never at any length. */
const MAX_MESSAGE = 300;

function firstLine(text: string): string {
  const line = (text.trim().split("\n")[0] ?? "").trim();
  return line.length > MAX_MESSAGE ? `${line.slice(0, MAX_MESSAGE)}…` : line;
}

/**
 * Prometheus runs without --web.enable-lifecycle (POST /-/reload answers 403): it loads the files at
 * its own reload or restart, and never says whether it accepted them.
 */
export class LifecycleApiOff extends Error {}

/**
 * Beside a rules file, where a copy waits while Prometheus has not yet loaded a change: `previous`, the
 * content before the change, to put back if Prometheus refuses it; `withdrawn`, the change itself while
 * a search for the refused file has taken it out. Named so that Prometheus's `<dir>/*.yaml` never
 * loads them (a leading dot and no .yaml/.yml ending, like the tmp files).
 */
export function stashFileName(file: string, kind: "previous" | "withdrawn"): string {
  return join(dirname(file), `.${basename(file)}.${kind}`);
}

function missing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === "ENOENT";
}

async function unlinkIfThere(path: string): Promise<void> {
  await unlink(path).catch((err: unknown) => {
    if (!missing(err)) throw err;
  });
}

async function postReload(url: string): Promise<ReloadOutcome> {
  const base = url.replace(/\/+$/, "");
  const res = await send(new URL(`${base}/-/reload`), { method: "POST", signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (res.status >= 200 && res.status < 300) return { ok: true };
  // Prometheus answers its reload only once done: 200, or 500 "failed to reload config: <why>" when it
  // refused the new configuration and kept the one it had. Any other answer (403: the lifecycle API
  // is off; a proxy's page) says nothing about the rules, and its body is not repeated.
  if (res.status === 500 && text.startsWith("failed to reload config")) return { ok: false, message: firstLine(text) };
  if (res.status === 403) throw new LifecycleApiOff(`POST ${base}/-/reload answered 403: Prometheus runs without --web.enable-lifecycle`);
  throw new Error(`POST ${base}/-/reload answered ${res.status}`);
}

/** What ensure() did with a profile's rules, and Prometheus's verdict if it refused them. */
export interface Ensured {
  changed: boolean;
  problems: RuleProblem[];
  rejected?: RulesRejection;
}

/**
 * A file changed since Prometheus last loaded its rules. No content: the change is the file itself,
 * and what to put back if Prometheus refuses it waits on disk beside it (stashFileName), so a
 * Prometheus that stays unreachable costs these few strings per profile, not two copies of its rules.
 */
interface Unconfirmed {
  file: string;
  namespace: string;
  name: string;
  url: string;
  digest: string;
  /** The digest of the file's content before the change, a copy of which is the `previous` stash; undefined: there was no file. */
  previous: string | undefined;
  /** The change is in the `withdrawn` stash, not in the file: a search for the refused file took it out. */
  withdrawn: boolean;
}

/** A rule as a user reads it in a refusal: which rule, of which SLO, over which window or pair of windows. */
function ruleName(rule: Rule): string {
  const slo = rule.labels.slo;
  if ("alert" in rule) {
    const pair = rule.labels.long_window !== undefined ? ` (${rule.labels.severity}, ${rule.labels.long_window} and ${rule.labels.short_window})` : "";
    return `the alerting rule ${rule.alert}${slo !== undefined ? ` of SLO ${slo}` : ""}${pair}`;
  }
  return `the recording rule ${rule.record} of SLO ${slo} (${rule.labels.window !== undefined ? `window ${rule.labels.window}` : "its tiles"})`;
}

/** A reload that could not say (Prometheus unreachable) stops the search for a refused file. */
class ReloadUnknown extends Error {}

/**
 * Recording rules and the alerts that read them (profileRuleSet) as Prometheus rule files, for a
 * Prometheus without prometheus-operator that loads `<dir>/*.yaml` (rule_files). One file per profile,
 * holding both, so a profile's rules change without rewriting anyone else's and its alerts come and go
 * with the series they read; written by tmp + rename so Prometheus never reads half a file.
 *
 * One profile's rules never stop another's from loading. Prometheus refuses a reload as a whole when
 * any rule file is bad, so a file reaches the directory only after Prometheus's parser accepted every
 * expression in it; and when a reload still fails, the files changed since the last good reload are
 * withdrawn, and put back half by half until the one Prometheus refuses is found, which stays
 * withdrawn (its previous content restored, or removed if it had none). Either way the profile is
 * remembered as rejected, with Prometheus's reason, until a later version of its rules loads.
 */
export class RulesFileWriter {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly reloadDelayMs: number;
  private readonly recheckMs: number;
  private readonly reload: (url: string) => Promise<ReloadOutcome>;
  private readonly syntax: SyntaxChecker;
  private readonly client: (url: string) => Pick<PrometheusClient, "checkSyntax">;
  private readonly clients = new Map<string, PrometheusClient>();
  /**
   * The digest of what each file was last found or written to hold, and when: a digest, not the
   * content, which is tens of KB per profile and kept for every profile.
   */
  private readonly written = new Map<string, { digest: string; atMs: number; url: string }>();
  /** Per Prometheus, the files changed since it last loaded its rules: the suspects when it refuses them. */
  private readonly unconfirmed = new Map<string, Map<string, Unconfirmed>>();
  /**
   * The Prometheus servers whose last reload answered 403: none of their reloads will say whether they
   * accepted a file, so no file is kept as a suspect for them (it would never be cleared).
   */
  private readonly lifecycleOff = new Set<string>();
  /** Per file, the digest of the content Prometheus refused, and why. */
  private readonly rejections = new Map<string, RulesRejection & { digest: string }>();
  /** Per file, the options its rules were last made with (how far the tiles cover), to judge a spec's rules by. */
  private readonly options = new Map<string, RuleOptions>();
  /** Per Prometheus, the reload waiting to start (later requests join it) and the last one asked for. */
  private readonly pendingReloads = new Map<string, Promise<void>>();
  private readonly reloads = new Map<string, Promise<void>>();
  /** What each profile's rules last rendered to, so a pass whose inputs did not change renders nothing. */
  private readonly memo = new RuleSetMemo((profile: SloProfile, opts: RuleOptions) => {
    const { groups, problems } = profileRuleSet(profile, opts);
    return { groups, problems, content: rulesFileYaml(groups) };
  });
  /** Writes to the directory and reloads one at a time, so a search for a refused file sees only its own moves. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(opts: RulesFileOptions) {
    this.dir = opts.dir;
    this.logger = opts.logger;
    this.reloadDelayMs = opts.reloadDelayMs ?? 2_000;
    this.recheckMs = opts.recheckMs ?? 10 * 60_000;
    this.reload = opts.reload ?? postReload;
    this.syntax = opts.syntax ?? new SyntaxChecker();
    this.client = opts.client ?? ((url) => this.defaultClient(url));
  }

  /**
   * Makes the profile's rules file hold its current rules; when that changed the file, asks the
   * Prometheus at `prometheusUrl` to reload (a reload that cannot be made is logged; Prometheus's own
   * reload or restart picks the file up later). Resolves once the file is in place, not after the
   * reload. Rules Prometheus's parser refuses are not written (`rejected` says why); when Prometheus
   * cannot be asked, this throws and the file stays as it was.
   */
  async ensure(profile: SloProfile, prometheusUrl: string, opts: RuleOptions = {}): Promise<Ensured> {
    const file = this.fileOf(profile.namespace, profile.name);
    this.options.set(file, opts);
    const last = this.memo.unchanged(profile, opts);
    const standing = last && this.standing(file, last);
    if (standing) return standing;
    const { groups, problems, content, digest: hash } = this.memo.rendered(profile, opts);
    const rules = { digest: hash, problems };
    const now = this.standing(file, rules);
    if (now) return now;
    const known = this.written.get(file);

    const found = await readFile(file, "utf8").catch(() => undefined);
    if (found === content && known?.digest === hash) {
      // A recheck, and the file is as it was written or found: nothing moves, so no need to wait for
      // the lock behind a reload's search (which would have taken the file out, not left it so).
      this.written.set(file, { ...known, atMs: Date.now() });
      this.settled(file, hash);
      return { changed: false, problems };
    }

    // Prometheus's parser sees every expression before the file can reach the directory.
    let parsed = false;
    if (found !== content) {
      const refusal = await this.parse(profile, groups, prometheusUrl);
      if (refusal) {
        this.rejections.set(file, { digest: hash, ...refusal });
        this.logger.warn({ file, namespace: profile.namespace, profile: profile.name, field: refusal.field, reason: refusal.message }, "rules refused by Prometheus's parser; the previous rules file stays");
        return { changed: false, problems, rejected: refusal };
      }
      parsed = true;
    }

    return this.exclusive(async () => {
      const again = this.refusedAs(file, rules); // refused by a reload while this waited
      if (again) return again;
      const onDisk = await readFile(file, "utf8").catch(() => undefined);
      if (onDisk === content) {
        // Found in place (a restart, or another replica wrote it): not yet seen loaded, so a suspect
        // should Prometheus refuse its rules before it reloads them once.
        if (!known) await this.suspect({ file, namespace: profile.namespace, name: profile.name, url: prometheusUrl, digest: hash, previous: undefined, withdrawn: false }, undefined);
        this.written.set(file, { digest: hash, atMs: Date.now(), url: prometheusUrl });
        this.settled(file, hash);
        return { changed: false, problems };
      }
      if (!parsed) return { changed: false, problems }; // moved while this waited; the next pass parses and writes it
      // The previous content is stashed before the change replaces it.
      await this.suspect({ file, namespace: profile.namespace, name: profile.name, url: prometheusUrl, digest: hash, previous: undefined, withdrawn: false }, onDisk);
      await this.put(file, content);
      this.written.set(file, { digest: hash, atMs: Date.now(), url: prometheusUrl });
      this.logger.info({ file, namespace: profile.namespace, profile: profile.name }, "rules file written");
      void this.requestReload(prometheusUrl);
      return { changed: true, problems };
    });
  }

  /**
   * Why Prometheus refused the profile's rules, if it did. With `profile`, only a verdict on the rules
   * the profile makes now: rules of a changed spec are judged afresh.
   */
  rejected(namespace: string, name: string, profile?: SloProfile): RulesRejection | undefined {
    const r = this.rejections.get(this.fileOf(namespace, name));
    if (!r) return undefined;
    if (profile) {
      const opts = this.options.get(this.fileOf(namespace, name)) ?? {};
      const rules = this.memo.unchanged(profile, opts) ?? this.memo.rendered(profile, opts);
      if (rules.digest !== r.digest) return undefined;
    }
    return { field: r.field, message: r.message };
  }

  /**
   * Removes a deleted profile's file, if this operator wrote or saw it since it started (a profile
   * deleted while no operator ran keeps its file: see the --rules-dir help), and forgets its verdict.
   */
  async remove(namespace: string, name: string): Promise<void> {
    const file = this.fileOf(namespace, name);
    this.rejections.delete(file);
    this.options.delete(file);
    this.memo.forget(namespace, name);
    await this.exclusive(async () => {
      for (const files of this.unconfirmed.values()) files.delete(file);
      await this.dropStashes(file);
      const known = this.written.get(file);
      if (!known) return;
      this.written.delete(file);
      await unlink(file).catch(() => undefined);
      void this.requestReload(known.url);
    });
  }

  /**
   * One reload per Prometheus per reloadDelayMs, however many files changed: a restart writes them all.
   * Reloads of one Prometheus run one after another; one asked for while another runs comes after it.
   * Resolves once Prometheus answered and any file it refused is withdrawn.
   */
  requestReload(url: string): Promise<void> {
    const pending = this.pendingReloads.get(url);
    if (pending) return pending;
    const before = this.reloads.get(url) ?? Promise.resolve();
    const p = new Promise<void>((resolve) => setTimeout(resolve, this.reloadDelayMs))
      .then(() => before)
      .then(() => {
        this.pendingReloads.delete(url);
        return this.reloadAndJudge(url);
      })
      .catch((err: unknown) => {
        // Said once when it is found off (stopTracking), not at every change after.
        const level = err instanceof LifecycleApiOff ? "debug" : "warn";
        this.logger[level]({ url, err: err instanceof Error ? err.message : String(err) }, "Prometheus rules reload failed; it loads them at its next reload");
      });
    this.pendingReloads.set(url, p);
    this.reloads.set(url, p);
    return p;
  }

  /**
   * How many files wait for a reload to confirm them (all Prometheus servers, or the one at `url`): at
   * most one per profile, and none for a Prometheus whose lifecycle API is off.
   */
  awaitingReload(url?: string): number {
    if (url !== undefined) return this.unconfirmed.get(url)?.size ?? 0;
    let n = 0;
    for (const files of this.unconfirmed.values()) n += files.size;
    return n;
  }

  /** What these rules already are: refused by Prometheus as they are, or in their file, found there lately. */
  private standing(file: string, rules: RuleSetSummary): Ensured | undefined {
    const refused = this.refusedAs(file, rules);
    if (refused) return refused;
    const known = this.written.get(file);
    if (known?.digest !== rules.digest || Date.now() - known.atMs >= this.recheckMs) return undefined;
    this.settled(file, rules.digest);
    return { changed: false, problems: rules.problems };
  }

  private refusedAs(file: string, rules: RuleSetSummary): Ensured | undefined {
    const r = this.rejections.get(file);
    return r?.digest === rules.digest ? { changed: false, problems: rules.problems, rejected: { field: r.field, message: r.message } } : undefined;
  }

  private fileOf(namespace: string, name: string): string {
    return join(this.dir, rulesFileName(namespace, name));
  }

  private defaultClient(url: string): PrometheusClient {
    let c = this.clients.get(url);
    if (!c) {
      c = new PrometheusClient({ url, retries: 1 });
      this.clients.set(url, c);
    }
    return c;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * The first rule Prometheus's parser refuses, as a rejection naming its SLO; throws when Prometheus
   * cannot say. The alerts are checked too: they are generated, but one Prometheus cannot parse would
   * keep the whole directory from loading all the same.
   */
  private async parse(profile: SloProfile, groups: ReadonlyArray<RuleGroup<Rule>>, url: string): Promise<RulesRejection | undefined> {
    const client = this.client(url);
    const rules = groups.flatMap((g): Rule[] => g.rules);
    // A few at a time: a profile's tens of rules cost a few round trips' wait, not one per rule.
    const verdicts: SyntaxVerdict[] = [];
    for (let i = 0; i < rules.length; i += PARSE_CONCURRENCY) {
      verdicts.push(...(await Promise.all(rules.slice(i, i + PARSE_CONCURRENCY).map((rule) => this.syntax.check(client, rule.expr)))));
    }
    let unknown: string | undefined;
    for (const [i, rule] of rules.entries()) {
      const verdict = verdicts[i]!;
      if (verdict.ok === "unknown") {
        unknown ??= verdict.error;
        continue;
      }
      if (verdict.ok) continue;
      const index = profile.spec.slos.findIndex((s) => s.name === rule.labels.slo);
      return {
        field: index >= 0 ? `spec.slos[${index}].indicator` : "spec.slos",
        message: `Prometheus cannot parse ${ruleName(rule)}: ${verdict.message}`,
      };
    }
    if (unknown !== undefined) throw new Error(`the rules cannot be checked with Prometheus's parser (${unknown}); the rules file stays as it was until they can`);
    return undefined;
  }

  private async put(file: string, content: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = this.tmpOf(file);
    await writeFile(tmp, content);
    await rename(tmp, file);
  }

  private tmpOf(file: string): string {
    return join(this.dir, `.${basename(file)}.${randomBytes(4).toString("hex")}.tmp`);
  }

  /**
   * Under the lock, before the file changes: keeps it as a suspect until a reload confirms it.
   * `onDisk` is what the file holds now; when the file was already a suspect, the content before its
   * first unconfirmed change stays the one to put back. Nothing is kept for a Prometheus whose
   * lifecycle API is off.
   */
  private async suspect(u: Unconfirmed, onDisk: string | undefined): Promise<void> {
    let before: Unconfirmed | undefined;
    for (const files of this.unconfirmed.values()) {
      before ??= files.get(u.file);
      files.delete(u.file);
    }
    if (this.lifecycleOff.has(u.url)) {
      if (before) await this.dropStashes(u.file);
      return;
    }
    if (before) u.previous = before.previous;
    else if (onDisk === undefined) await this.dropStashes(u.file); // ones left by an earlier process
    else {
      await mkdir(this.dir, { recursive: true });
      await writeFile(stashFileName(u.file, "previous"), onDisk);
      u.previous = digest(onDisk);
    }
    let files = this.unconfirmed.get(u.url);
    if (!files) this.unconfirmed.set(u.url, (files = new Map()));
    files.set(u.file, u);
  }

  private async dropStashes(file: string): Promise<void> {
    await unlinkIfThere(stashFileName(file, "previous"));
    await unlinkIfThere(stashFileName(file, "withdrawn"));
  }

  /** Takes a suspect's change back: its previous content, or no file. The change waits in the `withdrawn` stash. */
  private async withdraw(u: Unconfirmed): Promise<void> {
    if (u.withdrawn) return;
    const withdrawn = stashFileName(u.file, "withdrawn");
    const previous = stashFileName(u.file, "previous");
    try {
      if (u.previous === undefined) {
        await rename(u.file, withdrawn);
        this.written.delete(u.file);
      } else {
        // Copies, then a rename over the file: Prometheus never finds the file missing or half written.
        await copyFile(u.file, withdrawn);
        const tmp = this.tmpOf(u.file);
        await copyFile(previous, tmp);
        await rename(tmp, u.file);
        this.written.set(u.file, { digest: u.previous, atMs: Date.now(), url: u.url });
      }
      u.withdrawn = true;
    } catch (err) {
      // The file or its previous copy went away underneath (someone cleaned the directory): as it
      // stands, it is not Tollgate's change any more; the profile's next pass writes its rules again.
      if (!missing(err)) throw err;
      this.written.delete(u.file);
    }
  }

  private async reapply(u: Unconfirmed): Promise<void> {
    if (!u.withdrawn) return;
    u.withdrawn = false;
    try {
      await rename(stashFileName(u.file, "withdrawn"), u.file);
      this.written.set(u.file, { digest: u.digest, atMs: Date.now(), url: u.url });
    } catch (err) {
      if (!missing(err)) throw err;
      this.written.delete(u.file);
    }
  }

  /** Prometheus loaded these files as they are: a rejection of another version of them is over, and their previous content is not needed. */
  private async confirm(suspects: readonly Unconfirmed[]): Promise<void> {
    for (const u of suspects) {
      if (this.unconfirmed.get(u.url)?.get(u.file) !== u) continue; // changed again since: that change is the suspect now
      this.unconfirmed.get(u.url)?.delete(u.file);
      // Nothing was stashed for a file found in place or new (suspect() cleared what an earlier process
      // left): a restart's thousands of suspects cost no unlink each at the first reload.
      if (u.previous !== undefined || u.withdrawn) await this.dropStashes(u.file);
      const r = this.rejections.get(u.file);
      if (r && r.digest !== u.digest) this.rejections.delete(u.file);
    }
  }

  /** Prometheus will never say: forget its suspects, and their stashes. */
  private async stopTracking(url: string): Promise<void> {
    const files = this.unconfirmed.get(url);
    this.unconfirmed.delete(url);
    if (!this.lifecycleOff.has(url)) this.logger.warn({ url, files: files?.size ?? 0 }, "Prometheus's lifecycle API is off (POST /-/reload answers 403): rules files are written and loaded at its own reload; a refused file cannot be found and withdrawn");
    this.lifecycleOff.add(url);
    for (const u of files?.values() ?? []) await this.dropStashes(u.file);
  }

  /**
   * The profile is back at rules Prometheus has loaded (a spec edited back to its last good version):
   * the rejection of another version is over.
   */
  private settled(file: string, hash: string): void {
    const r = this.rejections.get(file);
    if (!r || r.digest === hash) return;
    if ([...this.unconfirmed.values()].some((files) => files.has(file))) return;
    this.rejections.delete(file);
  }

  /** Under the lock, with `u` withdrawn: it stays so, and neither stash is needed any more. */
  private async reject(u: Unconfirmed, message: string): Promise<void> {
    this.unconfirmed.get(u.url)?.delete(u.file);
    await this.dropStashes(u.file);
    const rejection = { field: "spec.slos", message: `Prometheus refused to load the profile's rules file: ${message}` };
    this.rejections.set(u.file, { digest: u.digest, ...rejection });
    this.logger.warn({ file: u.file, namespace: u.namespace, profile: u.name, reason: message }, "Prometheus refused this rules file; it is withdrawn");
  }

  private async reloadOrUnknown(url: string): Promise<ReloadOutcome> {
    try {
      return await this.reload(url);
    } catch (err) {
      throw new ReloadUnknown(err instanceof Error ? err.message : String(err));
    }
  }

  /**
   * Reload, and when Prometheus refuses, find the files it refuses and withdraw them. The reload itself
   * runs outside the lock: Prometheus takes seconds to read thousands of files, and profiles' passes
   * go on writing meanwhile. The suspects it judges are taken under the lock, once every write begun
   * is in place, so a file written during the reload stays a suspect for the next one (this one may
   * have read it or not). A refusal is searched for under the lock, among every suspect by then.
   */
  private async reloadAndJudge(url: string): Promise<void> {
    const suspects = await this.exclusive(async () => [...(this.unconfirmed.get(url)?.values() ?? [])]);
    let first: ReloadOutcome;
    try {
      first = await this.reload(url);
    } catch (err) {
      // Nothing judged: the suspects wait for the next reload, unless no reload will ever judge them.
      if (err instanceof LifecycleApiOff) await this.exclusive(() => this.stopTracking(url));
      throw err;
    }
    if (this.lifecycleOff.delete(url)) this.logger.info({ url }, "Prometheus's lifecycle API answers again; rules files changed from now on are checked at each reload");
    if (first.ok) {
      await this.exclusive(() => this.confirm(suspects));
      this.logger.debug({ url }, "Prometheus reloaded its rules");
      return;
    }
    await this.exclusive(() => this.searchRefused(url, first.message));
  }

  /** Under the lock, after a refused reload: withdraws the files changed since the last good one, and puts them back half by half to find the one refused. */
  private async searchRefused(url: string, refusal: string): Promise<void> {
    const suspects = [...(this.unconfirmed.get(url)?.values() ?? [])];
    if (suspects.length === 0) {
      this.logger.warn({ url, reason: refusal }, "Prometheus refuses its configuration, and no rules file changed since it last loaded one");
      return;
    }
    this.logger.warn({ url, reason: refusal, files: suspects.length }, "Prometheus refuses its rules; withdrawing the files changed since its last good reload");
    const unjudged = new Set(suspects);
    let lastOk = true;
    // Invariant of find: every file outside `group` is as Prometheus last loaded it, and `group` is withdrawn.
    const find = async (group: Unconfirmed[]): Promise<void> => {
      for (const u of group) await this.reapply(u);
      const outcome = await this.reloadOrUnknown(url);
      lastOk = outcome.ok;
      if (outcome.ok) {
        await this.confirm(group);
        group.forEach((u) => unjudged.delete(u));
        return;
      }
      for (const u of group) await this.withdraw(u);
      if (group.length === 1) {
        await this.reject(group[0]!, outcome.message);
        unjudged.delete(group[0]!);
        return;
      }
      const half = Math.ceil(group.length / 2);
      await find(group.slice(0, half));
      await find(group.slice(half));
    };
    try {
      for (const u of suspects) await this.withdraw(u);
      const baseline = await this.reloadOrUnknown(url);
      if (!baseline.ok) {
        // Refused without any of them too: the fault is elsewhere (another file, prometheus.yml).
        for (const u of suspects) await this.reapply(u);
        this.logger.warn({ url, reason: baseline.message }, "Prometheus refuses its configuration without the rules files Tollgate changed too; no profile is blamed");
        return;
      }
      if (suspects.length === 1) {
        await this.reject(suspects[0]!, refusal);
        unjudged.clear();
        return;
      }
      const half = Math.ceil(suspects.length / 2);
      await find(suspects.slice(0, half));
      await find(suspects.slice(half));
      // The last reload was a refusal: load once more what Prometheus accepts, so its last reload is a good one.
      if (!lastOk && !(await this.reloadOrUnknown(url)).ok) this.logger.warn({ url }, "Prometheus refuses its rules even with the refused files withdrawn");
    } catch (err) {
      if (!(err instanceof ReloadUnknown)) throw err;
      // Prometheus stopped answering halfway: put back what was not judged; the next reload judges it.
      for (const u of unjudged) await this.reapply(u);
      this.logger.warn({ url, err: err.message }, "Prometheus stopped answering while its rules were checked; the unjudged files wait for its next reload");
    }
  }
}
