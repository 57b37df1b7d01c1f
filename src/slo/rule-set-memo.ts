import { parseDuration } from "../api/duration.ts";
import { digest } from "../digest.ts";
import type { SloProfile } from "./plan.ts";
import type { RuleOptions, RuleProblem } from "./rules.ts";
import { isTileable, type TileOptions } from "./tiles.ts";
import { canonicalWindow, queryWindows } from "./windows.ts";

/**
 * Rendering a profile's rules (every rule's PromQL, then YAML or JSON) is most of what a quiet pass
 * allocates, and its inputs change only with the spec or when tiles come to cover another window. So
 * the writers of rules ask this memo first: per profile, the key of the inputs it last rendered from,
 * with the digest of what that made and its problems. Not the rendering itself: tens of KB per
 * profile would be kept for every profile. A writer that must write (the rules changed, or a recheck
 * finds the file gone) renders again.
 */

/** What one rendering of a profile's rules came to, without the rules. */
export interface RuleSetSummary {
  /** digest() of the rendered content. */
  digest: string;
  problems: RuleProblem[];
}

/** A rendering: whatever the writer renders to, with the content its digest is of. */
export interface Rendering {
  content: string;
  problems: RuleProblem[];
}

/**
 * The options the rules are rendered with, and a key that changes exactly when the rendering can.
 * Tiles' coverage grows every pass, but the rules read it only to tell which windows the tiles cover
 * (tiles.ts isTiled): it is rounded down to the longest of the SLO's windows it covers, which renders
 * the same rules and keeps the key still between windows.
 */
export function ruleSetInputs<O extends RuleOptions>(profile: SloProfile, opts: O): { key: string; opts: O } {
  const tiles = typeof opts.tiles === "object" && opts.tiles.coverageMs !== undefined ? { ...opts.tiles, coverageMs: coveredWindows(profile, opts.tiles, opts) } : undefined;
  const normalized = tiles ? { ...opts, tiles } : opts;
  return { key: digest(JSON.stringify([profile.namespace, profile.name, profile.spec, normalized])), opts: normalized };
}

function coveredWindows(profile: SloProfile, tiles: TileOptions, opts: RuleOptions): Record<string, number> {
  const covered: Record<string, number> = {};
  for (const slo of profile.spec.slos) {
    const ms = tiles.coverageMs?.[slo.name];
    if (ms === undefined) continue;
    try {
      const windows = queryWindows(canonicalWindow(slo.window), opts).map(parseDuration);
      covered[slo.name] = Math.max(0, ...windows.filter((w) => isTileable(w, tiles) && w <= ms));
    } catch {
      // A window the plan refuses too (planSlo reports it): keep the figure as it came.
      covered[slo.name] = ms;
    }
  }
  return covered;
}

/** Twice the profiles one replica is built for (DESIGN.md, Scale): beyond it the least recently used are rendered again. */
export const DEFAULT_MEMO_PROFILES = 20_000;

/**
 * Per profile, the summary of its last rendering and the key of the inputs it was made from. Bounded:
 * a writer forgets a deleted profile, and past `maxProfiles` the least recently asked for is dropped
 * (a profile deleted while another replica led is never forgotten otherwise), which costs it one
 * rendering.
 */
export class RuleSetMemo<O extends RuleOptions, R extends Rendering> {
  private readonly render: (profile: SloProfile, opts: O) => R;
  private readonly maxProfiles: number;
  private readonly last = new Map<string, RuleSetSummary & { key: string }>();

  /** `render` must be a pure function of its arguments: the memo stands for it while they are the same. */
  constructor(render: (profile: SloProfile, opts: O) => R, opts: { maxProfiles?: number } = {}) {
    this.render = render;
    this.maxProfiles = opts.maxProfiles ?? DEFAULT_MEMO_PROFILES;
  }

  /** The summary of the profile's last rendering if it was made from these same inputs; undefined otherwise. */
  unchanged(profile: SloProfile, opts: O): RuleSetSummary | undefined {
    const name = profileKey(profile);
    const last = this.last.get(name);
    if (!last || last.key !== ruleSetInputs(profile, opts).key) return undefined;
    this.touch(name, last);
    return last;
  }

  /** Renders the profile's rules now, and remembers what they came to. */
  rendered(profile: SloProfile, opts: O): R & RuleSetSummary {
    const inputs = ruleSetInputs(profile, opts);
    const made = this.render(profile, inputs.opts);
    const summary = { key: inputs.key, digest: digest(made.content), problems: made.problems };
    this.touch(profileKey(profile), summary);
    return { ...made, digest: summary.digest };
  }

  forget(namespace: string, name: string): void {
    this.last.delete(`${namespace}/${name}`);
  }

  get size(): number {
    return this.last.size;
  }

  /** Map order is insertion order: re-inserting keeps the least recently used first. */
  private touch(name: string, entry: RuleSetSummary & { key: string }): void {
    this.last.delete(name);
    this.last.set(name, entry);
    if (this.last.size > this.maxProfiles) {
      const oldest = this.last.keys().next();
      if (!oldest.done) this.last.delete(oldest.value);
    }
  }
}

function profileKey(profile: SloProfile): string {
  return `${profile.namespace}/${profile.name}`;
}
