/**
 * What a failed Redis call tells about the work it carried. A call that never left this process
 * (the connection was down: ioredis refuses it at once when its offline queue is off) certainly did
 * not run. Any other failure — no reply in time, the connection closing with the call on the wire —
 * leaves its outcome unknown: Redis may have run it. The stores treat the two apart: work that never
 * ran may be done elsewhere, work that may have run must be resolved before it is done again.
 */
export type CallOutcome = 'not_sent' | 'unknown';

/** A store call that failed, with what is known of its outcome. */
export class StoreCallError extends Error {
  override readonly name = 'StoreCallError';
  constructor(
    message: string,
    readonly outcome: CallOutcome,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * ioredis's words for a command it refused to write because the connection is not up (with the
 * offline queue off). Not "Connection is closed": ioredis also fails commands already on the wire
 * with it when it gives a connection up.
 */
const NOT_SENT = /isn't writeable/;

/** Classifies an ioredis failure. */
export function outcomeOf(error: unknown): CallOutcome {
  if (error instanceof StoreCallError) return error.outcome;
  const message = error instanceof Error ? error.message : String(error);
  return NOT_SENT.test(message) ? 'not_sent' : 'unknown';
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
