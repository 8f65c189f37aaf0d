import type { Behaviour } from './options.js';

/** Paths resolved and cached; past this many distinct paths the cache starts over. */
const CACHE_LIMIT = 10_000;

/** The current behaviour: defaults plus per-prefix overrides, for describing it over HTTP. */
export interface BehaviourDescription {
  defaults: Behaviour;
  overrides: Record<string, Partial<Behaviour>>;
}

/**
 * Default behaviour plus per-path-prefix overrides. For each knob the longest matching prefix that
 * sets it wins. Resolutions are cached per path, since a benchmark hits a handful of paths
 * thousands of times a second and the table only changes on `configure`.
 */
export class BehaviourTable {
  private defaults: Behaviour;
  private overrides = new Map<string, Partial<Behaviour>>();
  /** Overrides sorted shortest prefix first, so applying them in order lets longer ones win. */
  private ordered: Array<[string, Partial<Behaviour>]> = [];
  private cache = new Map<string, Behaviour>();

  constructor(private readonly initial: Behaviour) {
    this.defaults = { ...initial };
  }

  /** Merges `knobs` into the defaults, or into the override of `prefix` when given. */
  set(knobs: Partial<Behaviour>, prefix?: string): void {
    if (prefix === undefined) {
      this.defaults = { ...this.defaults, ...knobs };
    } else if (Object.keys(knobs).length > 0) {
      this.overrides.set(prefix, { ...this.overrides.get(prefix), ...knobs });
    }
    this.changed();
  }

  /** Drops the override of `prefix`, or without one restores the initial defaults and drops all overrides. */
  clear(prefix?: string): void {
    if (prefix === undefined) {
      this.defaults = { ...this.initial };
      this.overrides.clear();
    } else {
      this.overrides.delete(prefix);
    }
    this.changed();
  }

  resolve(path: string): Behaviour {
    const cached = this.cache.get(path);
    if (cached) return cached;
    let resolved = this.defaults;
    for (const [prefix, knobs] of this.ordered) {
      if (path.startsWith(prefix)) resolved = { ...resolved, ...knobs };
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(path, resolved);
    return resolved;
  }

  describe(): BehaviourDescription {
    return { defaults: { ...this.defaults }, overrides: Object.fromEntries(this.ordered) };
  }

  private changed(): void {
    this.ordered = [...this.overrides].sort(([a], [b]) => a.length - b.length);
    this.cache.clear();
  }
}
