import { type Geometry, limitArg } from './options.js';
import type { LatencyAverages } from './pick-rank.js';
import type { PickRule, Subject, SubjectState } from './types.js';

/**
 * The memory store's windows: the same ring of buckets the Redis scripts keep (scripts/window.ts),
 * in process memory, with the same answers.
 */

/** Per-subject state: the same structures the Redis scripts keep, in process memory. */
export interface SubjectWindows {
  /**
   * Bucket index → tokens and requests, the counted totals, and the oldest counted bucket. The
   * `local*` parts of each are what this process admitted on its own while Redis was away (the
   * rest it admitted through Redis, recorded here as a mirror): what goes back to Redis when it returns.
   */
  buckets: Map<number, Bucket>;
  tokens: number;
  requests: number;
  first: number | undefined;
  /**
   * Requests in flight, until they settle. No expiry: the holder is this process, so a lease can
   * only outlive its request through a bug, while a long stream must keep its slot (the Redis
   * store renews its leases for the same reason; there a dead replica's leases do expire).
   */
  leases: Set<string>;
  cooldownUntil: number;
  /** A subject with a slice limit: the open tenth-of-a-slice and the requests of the 11 ending with it (admit.lua's field 'q'). */
  slices: { open: number; counts: number[] } | undefined;
  /** Latency averages from settled samples (pick-rank.ts), when any. */
  latency: LatencyAverages | undefined;
  /** This minute's calls (counted at admission) and failures (counted at settlement). */
  outcomeMinute: number;
  calls: number;
  fail: number;
}

/** Admission counts the call in the chosen candidate's minute, as admit.lua does. */
export function countCall(w: SubjectWindows, t: number): void {
  openMinute(w, t);
  w.calls++;
}

/** Starts the outcome counts afresh when the minute they belong to has passed. */
export function openMinute(w: SubjectWindows, t: number): void {
  const minute = Math.floor(t / 60_000);
  if (w.outcomeMinute !== minute) {
    w.outcomeMinute = minute;
    w.calls = 0;
    w.fail = 0;
  }
}

export interface Bucket {
  tokens: number;
  requests: number;
  localTokens: number;
  localRequests: number;
}

interface Block {
  /** 1 rpm, 2 tpm, 3 parallel, 4 cooldown, 6 slice — as admit.lua. */
  readonly code: 1 | 2 | 3 | 4 | 6;
  readonly waitMs: number;
}

export function check(
  w: SubjectWindows,
  s: Subject,
  tokens: number,
  t: number,
  geo: Geometry,
  candidate: boolean,
): Block | undefined {
  if (candidate && w.cooldownUntil > t) return { code: 4, waitMs: w.cooldownUntil - t };
  forget(w, t, geo);
  const rpm = limitArg(s.limits.rpm);
  if (rpm > 0 && w.requests >= rpm) {
    return { code: 1, waitMs: waitFor(w, w.requests + 1 - rpm, 'requests', t, geo) };
  }
  const tpm = limitArg(s.limits.tpm);
  if (tpm > 0 && w.tokens + tokens > tpm) {
    return { code: 2, waitMs: waitFor(w, w.tokens + tokens - tpm, 'tokens', t, geo) };
  }
  const par = limitArg(s.limits.maxParallel);
  if (par > 0 && w.leases.size >= par) return { code: 3, waitMs: 1000 };
  const slice = s.limits.slice;
  if (slice) {
    const ring = rollSlices(w, slice.ms, t);
    let held = 0;
    for (const n of ring.counts) held += n;
    if (held >= slice.max) {
      // Refused until enough tenths have left the span, oldest first.
      let need = held + 1 - slice.max;
      for (let b = ring.open - 10; b <= ring.open; b++) {
        need -= ring.counts[b % 11]!;
        if (need <= 0) return { code: 6, waitMs: Math.ceil(((b + 11) * slice.ms) / 10 - t) };
      }
    }
  }
  return undefined;
}

/** Moves a subject's slice ring to the tenth of a slice `t` falls in, emptying the tenths that left. */
function rollSlices(w: SubjectWindows, sliceMs: number, t: number): { open: number; counts: number[] } {
  const open = Math.floor((t * 10) / sliceMs);
  if (!w.slices) w.slices = { open, counts: new Array<number>(11).fill(0) };
  const r = w.slices;
  if (open - r.open >= 11) r.counts.fill(0);
  else for (let b = r.open + 1; b <= open; b++) r.counts[b % 11] = 0;
  r.open = Math.max(r.open, open);
  return r;
}

export function reserve(
  w: SubjectWindows,
  s: Subject,
  tokens: number,
  leaseId: string,
  t: number,
  geo: Geometry,
  local: boolean,
): SubjectState {
  const state: { requests?: SubjectState['requests']; tokens?: SubjectState['tokens'] } = {};
  const rpm = limitArg(s.limits.rpm);
  const tpm = limitArg(s.limits.tpm);
  const cur = Math.floor(t / geo.bucketMs);
  const resetMs = (cur + geo.k + 1) * geo.bucketMs - t;
  count(w, s, tpm > 0 ? tokens : 0, cur, t, geo, local);
  if (rpm > 0) state.requests = { limit: rpm, remaining: Math.max(rpm - w.requests, 0), resetMs };
  if (tpm > 0) state.tokens = { limit: tpm, remaining: Math.max(tpm - w.tokens, 0), resetMs };
  if (limitArg(s.limits.maxParallel) > 0) w.leases.add(leaseId);
  return state;
}

/**
 * Counts one request and its tokens in `bucket` of a subject with an rpm or tpm limit (a bucket
 * that has already left the span is not counted: it would no longer count).
 */
export function count(
  w: SubjectWindows,
  s: Subject,
  tokens: number,
  bucket: number,
  t: number,
  geo: Geometry,
  local: boolean,
): void {
  const slice = s.limits.slice;
  if (slice) {
    const ring = rollSlices(w, slice.ms, t);
    ring.counts[ring.open % 11]!++;
  }
  if (limitArg(s.limits.rpm) === 0 && limitArg(s.limits.tpm) === 0) return;
  forget(w, t, geo);
  const first = Math.floor(t / geo.bucketMs) - geo.k;
  if (bucket < first) return;
  if (w.first === undefined) w.first = first;
  let b = w.buckets.get(bucket);
  if (!b) {
    b = { tokens: 0, requests: 0, localTokens: 0, localRequests: 0 };
    w.buckets.set(bucket, b);
  }
  b.requests++;
  w.requests++;
  b.tokens += tokens;
  w.tokens += tokens;
  if (local) {
    b.localRequests++;
    b.localTokens += tokens;
  }
}

/** Corrects a reservation in `bucket` by `delta` tokens (never below zero); `local` for one admitted here alone. */
export function correct(
  w: SubjectWindows,
  bucket: number,
  delta: number,
  t: number,
  geo: Geometry,
  local: boolean,
): void {
  if (delta === 0 || bucket < Math.floor(t / geo.bucketMs) - geo.k) return;
  forget(w, t, geo);
  const b = w.first === undefined ? undefined : w.buckets.get(bucket);
  if (!b) return;
  const d = b.tokens + delta < 0 ? -b.tokens : delta;
  b.tokens += d;
  w.tokens += d;
  if (local) b.localTokens = Math.max(0, b.localTokens + d);
}

/** Forgets the buckets that left the counted span (the current one and the K before it). */
export function forget(w: SubjectWindows, t: number, geo: Geometry): void {
  if (w.first === undefined) return;
  const first = Math.floor(t / geo.bucketMs) - geo.k;
  if (w.first >= first) return;
  if (first - w.first > geo.k) {
    w.buckets.clear();
    w.tokens = 0;
    w.requests = 0;
    w.first = undefined;
    return;
  }
  for (let b = w.first; b < first; b++) {
    const v = w.buckets.get(b);
    if (v !== undefined) {
      w.tokens -= v.tokens;
      w.requests -= v.requests;
      w.buckets.delete(b);
    }
  }
  w.first = first;
}

/** When `need` of `what` will have left the span, oldest bucket first (as admit.lua walks it). */
export function waitFor(
  w: SubjectWindows,
  need: number,
  what: 'tokens' | 'requests',
  t: number,
  geo: Geometry,
): number {
  let left = need;
  const cur = Math.floor(t / geo.bucketMs);
  for (let b = cur - geo.k; b <= cur; b++) {
    const v = w.buckets.get(b);
    if (v !== undefined && v[what] > 0) {
      left -= v[what];
      if (left <= 0) return (b + geo.k + 1) * geo.bucketMs - t;
    }
  }
  return geo.windowMs;
}

/** Drops subjects with nothing left to remember, like Redis TTLs do; returns when to sweep next. */
export function sweep(subjects: Map<string, SubjectWindows>, t: number, geo: Geometry): number {
  for (const [id, w] of subjects) {
    forget(w, t, geo);
    const idle =
      w.requests === 0 &&
      w.tokens === 0 &&
      w.leases.size === 0 &&
      w.cooldownUntil <= t &&
      t - w.outcomeMinute * 60_000 > 120_000;
    if (idle) subjects.delete(id);
  }
  return t + geo.windowMs;
}

/** A candidate's score for a usage or in-flight pick rule, as admit.lua's rank() computes it. */
export function stateScore(w: SubjectWindows, s: Subject, rule: PickRule, t: number, geo: Geometry): number {
  if (rule.by === 'in_flight') return limitArg(s.limits.maxParallel) > 0 ? w.leases.size : 0;
  forget(w, t, geo);
  const rpm = limitArg(s.limits.rpm);
  const tpm = limitArg(s.limits.tpm);
  if (rpm === 0 && tpm === 0) return w.outcomeMinute === Math.floor(t / 60_000) ? w.calls / 1e12 : 0;
  return Math.max(rpm > 0 ? w.requests / rpm : 0, tpm > 0 ? w.tokens / tpm : 0);
}
