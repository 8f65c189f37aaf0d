import type { Geometry } from '../options.js';

/**
 * A subject's windows: one HASH per subject (keys.ts), read and written only by the scripts.
 *
 * Field 's', the state, packed with Lua's `struct` library as STATE_FMT (52 bytes):
 *   tc    double  tokens in the closed buckets still counted
 *   cb    double  the open bucket (index = ms ÷ bucket size on Redis's clock)
 *   cv    double  tokens in the open bucket
 *   cool  double  when the cooldown ends (ms, Redis clock; 0 = none)
 *   nc    uint32  requests in the closed buckets still counted
 *   cn    uint32  requests in the open bucket
 *   m     uint32  the minute of the outcome counts (ms ÷ 60,000)
 *   calls uint32  admissions as the chosen candidate in minute m
 *   fail  uint32  failures settled in minute m
 * One field per closed bucket still counted, named by the bucket index as a uint32 (BUCKET_FMT),
 * valued RING_FMT: tokens (double), requests (uint32).
 *
 * Why binary: a script pays for every number it turns from text (strtod) or into text (printf) —
 * measured with callgrind, those conversions cost more than the Redis commands themselves. Packed
 * fields come and go with `struct.unpack`/`struct.pack`, copies of bytes.
 *
 * Invariant after every admission: the closed buckets held are exactly those in [cb − K, cb − 1]
 * with anything in them, and tc/nc are their sums. Counting the open bucket plus the K before it
 * spans window..window + bucket, so a window never holds more than its limit.
 */
export const STATE_FMT = '<ddddI4I4I4I4I4';
/**
 * Field 'q' of a subject with a slice limit (smoothing): the open sub-bucket's index (a tenth of
 * the slice, on Redis's clock), then the requests in the 11 sub-buckets ending with it, sub-bucket b
 * at position b mod 11.
 */
export const SLICE_FMT = '<dI4I4I4I4I4I4I4I4I4I4I4';
export const RING_FMT = '<dI4';
export const BUCKET_FMT = '<I4';
/** Added to a settlement's token delta (which may be negative) so it travels as 12 hex digits. */
export const DELTA_OFFSET = 2 ** 47;

const HEX12_MAX = 2 ** 48 - 1;

/**
 * A non-negative integer as 12 hex digits, the scripts' number format for arguments: Lua parses it
 * with strtoul (tonumber(s, 16)), far cheaper than the strtod decimal text costs. Larger values
 * saturate (2^48 - 1 ≈ 2.8e14, beyond any limit or token count); NaN becomes 0.
 */
export function hex12(n: number): string {
  // NaN and infinities would reach Lua as nil (a script error failing a whole batch): 0 instead.
  const v = Number.isFinite(n) ? Math.min(Math.max(0, Math.floor(n)), HEX12_MAX) : 0;
  return v.toString(16).padStart(12, '0');
}

/** Byte offset of `cool` (a little-endian double) in the packed state, for reading it from Node. */
export const STATE_COOL_OFFSET = 24;

/**
 * The window hash's TTL, renewed whenever its open bucket changes: long enough for a reservation
 * made in that bucket to stay counted for a whole window, plus this minute's outcome counts and a
 * margin; stretched further to outlive a cooldown.
 */
export function windowTtl(geo: Geometry): number {
  return (geo.k + 2) * geo.bucketMs + 120_000;
}

/**
 * Lua (admit.lua): sets `into` to the state of the window hash `key` as this call knows it — from
 * the call's table `states` (key → the nine STATE_FMT fields, then whether the hash exists, then
 * whether the call changed it), or read with one HGET and kept there. Every admission of a batch
 * that looks at a subject after the first finds it in the table: one read per subject per call.
 */
export function stateLua(key: string, into: string): string {
  return `${into} = states[${key}]
if not ${into} then
  local blob = call('HGET', ${key}, 's')
  ${into} = { 0, 0, 0, 0, 0, 0, 0, 0, 0, false, false }
  if blob then
    ${into}[1], ${into}[2], ${into}[3], ${into}[4], ${into}[5], ${into}[6], ${into}[7], ${into}[8], ${into}[9] = sunpack(SF, blob)
    ${into}[10] = true
  end
  states[${key}] = ${into}
end`;
}

/**
 * Lua (admit.lua): makes sure `flights[key]` holds how many leases the in-flight set `key` has —
 * counted once per call, after removing the expired ones; admissions after that add theirs to the
 * count (and to `added`, written at the end of the call). The three tables are made the first
 * time a call meets an in-flight set, so calls without one pay nothing for them.
 */
export function flightsLua(key: string): string {
  return `if not flights then flights, added, addedKeys = {}, {}, {} end
if not flights[${key}] then
  call('ZREMRANGEBYSCORE', ${key}, '-inf', now)
  flights[${key}] = call('ZCARD', ${key})
end`;
}

/** Lua prelude shared by the scripts: clock, geometry and the packing helpers. */
export function windowPrelude(geo: Geometry): string {
  return `
local W, B, K, L = ${geo.windowMs}, ${geo.bucketMs}, ${geo.k}, ${geo.leaseMs}
local TTL, TTLS, LEASES = ${windowTtl(geo)}, '${windowTtl(geo)}', '${geo.leaseMs}'
local SF, RF, BF = '${STATE_FMT}', '${RING_FMT}', '${BUCKET_FMT}'
local call, floor, spack, sunpack, tunpack = redis.call, math.floor, struct.pack, struct.unpack, unpack
local time = call('TIME')
local now = time[1] * 1000 + floor(time[2] / 1000)
local cur = floor(now / B)
local first = cur - K
local minute = floor(now / 60000)
`;
}
