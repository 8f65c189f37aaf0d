import type { LatencySample, PickRule } from './types.js';

/** A subject's latency averages (ms) and when each last moved (ms; 0 = never). */
export interface LatencyAverages {
  lat: number;
  latAt: number;
  ttft: number;
  ttftAt: number;
}

/**
 * The walk order of candidates (indices) for a pick rule, given each one's score: by tier, then
 * score (with the latency buffer applied per tier), then the order given — what admit.lua's rank()
 * does, for the memory store.
 */
export function rankOrder(scores: readonly number[], rule: PickRule): number[] {
  const tier = (j: number) => Math.min(15, Math.max(0, rule.tiers[j] ?? 0));
  const s = scores.slice();
  const buffer = rule.buffer ?? 0;
  if (buffer > 0) {
    const low = new Map<number, number>();
    s.forEach((v, j) => {
      const l = low.get(tier(j));
      if (l === undefined || v < l) low.set(tier(j), v);
    });
    s.forEach((v, j) => {
      const l = low.get(tier(j))!;
      if (v <= l * (1 + buffer)) s[j] = l;
    });
  }
  return s.map((_, j) => j).sort((x, y) => tier(x) - tier(y) || s[x]! - s[y]! || x - y);
}

/** A latency score as rank() reads it: the average if it moved within the TTL, else 0 (untried). */
export function latencyScore(l: LatencyAverages | undefined, rule: PickRule, now: number): number {
  if (!l) return 0;
  const ttl = rule.ttlMs ?? 3_600_000;
  if (rule.stream) return now - l.ttftAt <= ttl ? l.ttft : 0;
  return now - l.latAt <= ttl ? l.lat : 0;
}

/** Folds one sample into the averages, as settle.lua does (the first sample sets them). */
export function addLatency(l: LatencyAverages, sample: LatencySample, now: number): void {
  const a = sample.alpha;
  const ms = sample.msPerToken;
  if (ms !== undefined && Number.isFinite(ms) && ms >= 0) {
    l.lat = l.latAt === 0 ? ms : l.lat + a * (ms - l.lat);
    l.latAt = now;
  }
  const ttft = sample.ttftMs;
  if (ttft !== undefined && Number.isFinite(ttft) && ttft >= 0) {
    l.ttft = l.ttftAt === 0 ? ttft : l.ttft + a * (ttft - l.ttft);
    l.ttftAt = now;
  }
}
