import type { QuotaRule } from './options.js';
import { NumberRing } from './ring-buffer.js';

/** How many accepted timestamps per prefix the stats keep (and report). */
export const RECORDED_TIMESTAMPS = 100_000;

/** Counters of one quota prefix since the last reset. */
export interface PrefixCounts {
  accepted: number;
  rejected429: number;
}

/** What the quotas report in the stats, keyed by quota prefix. */
export interface QuotaStats {
  byPrefix: Record<string, PrefixCounts>;
  accepted: Record<string, number[]>;
  maxInAnyWindow: Record<string, number>;
}

/**
 * The largest number of timestamps inside any rolling window of `windowMs` (two timestamps share
 * a window when they are less than `windowMs` apart, the rule admission uses). `sorted` must be
 * ascending. O(n) with two pointers.
 */
export function maxInAnyWindow(sorted: readonly number[], windowMs: number): number {
  let best = 0;
  let left = 0;
  for (let right = 0; right < sorted.length; right++) {
    const newest = sorted[right]!;
    while (newest - sorted[left]! >= windowMs) left++;
    best = Math.max(best, right - left + 1);
  }
  return best;
}

class PrefixQuota {
  /**
   * Accepted timestamps. It holds at least `rpm` of them, so admission is exact: a request fits
   * unless the rpm-th newest acceptance is still inside the window.
   */
  readonly timestamps: NumberRing;
  accepted = 0;
  rejected429 = 0;

  constructor(public rpm: number) {
    this.timestamps = new NumberRing(Math.max(rpm, RECORDED_TIMESTAMPS));
  }

  /** 0 when one more request fits at `now`, else ms until the blocking acceptance leaves the window. */
  waitMs(now: number, windowMs: number): number {
    const ring = this.timestamps;
    if (ring.size < this.rpm) return 0;
    const leavesAt = ring.at(ring.size - this.rpm) + windowMs;
    return leavesAt > now ? leavesAt - now : 0;
  }
}

/** Exact rolling-window request quotas per path prefix. */
export class QuotaBook {
  private quotas = new Map<string, PrefixQuota>();

  constructor(
    rules: readonly QuotaRule[],
    private windowMs: number,
  ) {
    this.setRules(rules);
  }

  get quotaWindowMs(): number {
    return this.windowMs;
  }

  /** Replaces the rules; a prefix that stays keeps its history and counters. */
  setRules(rules: readonly QuotaRule[]): void {
    const next = new Map<string, PrefixQuota>();
    for (const { prefix, rpm } of rules) {
      const kept = this.quotas.get(prefix);
      if (kept && kept.timestamps.capacity >= rpm) {
        kept.rpm = rpm;
        next.set(prefix, kept);
      } else {
        next.set(prefix, new PrefixQuota(rpm));
      }
    }
    this.quotas = next;
  }

  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
  }

  rules(): QuotaRule[] {
    return [...this.quotas].map(([prefix, q]) => ({ prefix, rpm: q.rpm }));
  }

  /**
   * Admits a request for `path` at `now`: returns 0 and records it against every matching prefix,
   * or returns the ms to wait (the longest over the full prefixes) and records nothing accepted.
   */
  admit(path: string, now: number): number {
    if (this.quotas.size === 0) return 0;
    let wait = 0;
    for (const [prefix, quota] of this.quotas) {
      if (!path.startsWith(prefix)) continue;
      const w = quota.waitMs(now, this.windowMs);
      if (w > 0) {
        quota.rejected429++;
        wait = Math.max(wait, w);
      }
    }
    if (wait > 0) return wait;
    for (const [prefix, quota] of this.quotas) {
      if (!path.startsWith(prefix)) continue;
      quota.timestamps.push(now);
      quota.accepted++;
    }
    return 0;
  }

  /** Forgets every acceptance and counter, keeping the rules. */
  reset(): void {
    for (const quota of this.quotas.values()) {
      quota.timestamps.clear();
      quota.accepted = 0;
      quota.rejected429 = 0;
    }
  }

  stats(): QuotaStats {
    const stats: QuotaStats = { byPrefix: {}, accepted: {}, maxInAnyWindow: {} };
    for (const [prefix, quota] of this.quotas) {
      const recorded = quota.timestamps.toArray(RECORDED_TIMESTAMPS);
      stats.byPrefix[prefix] = { accepted: quota.accepted, rejected429: quota.rejected429 };
      stats.accepted[prefix] = recorded;
      stats.maxInAnyWindow[prefix] = maxInAnyWindow(recorded, this.windowMs);
    }
    return stats;
  }
}
