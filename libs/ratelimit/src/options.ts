/** Window geometry shared by both stores; every replica of a fleet must use the same values. */
export interface WindowOptions {
  /** Length of the rolling RPM/TPM window. @default 60000 */
  readonly windowMs?: number;
  /** TPM bucket size; the TPM window never over-admits and wastes at most one bucket. @default 500 */
  readonly bucketMs?: number;
  /** Lifetime of an in-flight lease; a dead replica's slots free after at most this long. @default 30000 */
  readonly leaseMs?: number;
}

export interface Geometry {
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly leaseMs: number;
  /** Buckets before the current one that the TPM window counts. */
  readonly k: number;
}

/** Most buckets a window may have (the default has 120). */
export const MAX_BUCKETS = 1_000;

export function geometry(options: WindowOptions): Geometry {
  const windowMs = options.windowMs ?? 60_000;
  const bucketMs = options.bucketMs ?? 500;
  const leaseMs = options.leaseMs ?? 30_000;
  for (const [name, v] of [
    ['windowMs', windowMs],
    ['bucketMs', bucketMs],
    ['leaseMs', leaseMs],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  }
  if (bucketMs > windowMs) throw new RangeError('bucketMs must not exceed windowMs');
  // The scripts name every bucket leaving the span in one call, and Lua's unpack has a limit.
  if (Math.ceil(windowMs / bucketMs) > MAX_BUCKETS) {
    throw new RangeError(
      `windowMs / bucketMs must be at most ${MAX_BUCKETS}, got ${Math.ceil(windowMs / bucketMs)}`,
    );
  }
  return { windowMs, bucketMs, leaseMs, k: Math.ceil(windowMs / bucketMs) };
}

/** Limit as the scripts take it: 0 means unlimited. */
export function limitArg(v: number | undefined): number {
  return v !== undefined && v > 0 ? Math.floor(v) : 0;
}
