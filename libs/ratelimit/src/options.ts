/** Window geometry shared by both stores; every replica of a fleet must use the same values. */
export interface WindowOptions {
  /** Length of the rolling RPM/TPM window. @default 60000 */
  readonly windowMs?: number;
  /** TPM bucket size; the TPM window never over-admits and wastes at most one bucket. @default 500 */
  readonly bucketMs?: number;
  /** Lifetime of an in-flight lease; a dead replica's slots free after at most this long. @default 30000 */
  readonly leaseMs?: number;
  /**
   * Provider-side margin: every admission stays counted this much longer than the window, so a
   * request that reaches the provider up to this late after its admission (queueing, a cold TLS
   * connect) still lands in a provider window the fleet held to the limit. Costs up to
   * margin ÷ (window + margin) of the throughput under sustained overload (see the README).
   * @default 0
   */
  readonly marginMs?: number;
}

export interface Geometry {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly leaseMs: number;
  readonly marginMs: number;
  /** Buckets before the current one that the windows count: ceil((window + margin) ÷ bucket). */
  readonly k: number;
}

/** Most buckets a window may have (the default has 120). */
export const MAX_BUCKETS = 1_000;

export function geometry(options: WindowOptions): Geometry {
  const windowMs = options.windowMs ?? 60_000;
  const bucketMs = options.bucketMs ?? 500;
  const leaseMs = options.leaseMs ?? 30_000;
  const marginMs = options.marginMs ?? 0;
  for (const [name, v] of [
    ['windowMs', windowMs],
    ['bucketMs', bucketMs],
    ['leaseMs', leaseMs],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (!Number.isInteger(marginMs) || marginMs < 0 || marginMs > windowMs)
    throw new RangeError(`marginMs must be an integer from 0 to windowMs, got ${marginMs}`);
  if (bucketMs > windowMs) throw new RangeError('bucketMs must not exceed windowMs');
  // The scripts name every bucket leaving the span in one call, and Lua's unpack has a limit.
  const k = Math.ceil((windowMs + marginMs) / bucketMs);
  if (k > MAX_BUCKETS) {
    throw new RangeError(`(windowMs + marginMs) / bucketMs must be at most ${MAX_BUCKETS}, got ${k}`);
  }
  return { windowMs, bucketMs, leaseMs, marginMs, k };
}

/** Limit as the scripts take it: 0 means unlimited. */
export function limitArg(v: number | undefined): number {
  return v !== undefined && v > 0 ? Math.floor(v) : 0;
}
