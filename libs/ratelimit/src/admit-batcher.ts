import { describeError, outcomeOf, StoreCallError } from './call-outcome.js';
import type { CallRecord } from './call-records.js';
import { hex12 } from './scripts/window.js';
import { createTickQueue, type TickGroup } from './tick-queue.js';

/** Calls admit.lua and hands its reply over as bytes: numkeys, keys…, args… */
export type AdmitCall = (...args: string[]) => Promise<unknown>;
/** Calls resolve.lua on a call's record: its reply if it ran, else null (and it never will). */
export type ResolveCall = (record: CallRecord) => Promise<unknown>;

/** One admission as admit.lua takes it: its keys and its three arguments (see the script's header). */
export interface AdmissionArgs<C> {
  readonly keys: readonly string[];
  readonly numbers: string;
  readonly lease: string;
  readonly cost: string;
  /** The caller's own data, handed back with a reply that came after the caller was refused. */
  readonly context: C;
}

export interface AdmitBatcherOptions<C> {
  readonly admit: AdmitCall;
  readonly resolve: ResolveCall;
  /** Where the next script call leaves its record; told when a call failed (it may not have run). */
  readonly records: { next(): CallRecord; failed(): void };
  /** One admission per script call instead of one call per tick. @default true */
  readonly batched?: boolean | undefined;
  /** Flushed with other queues at the end of a tick (the settlements'), in one write. */
  readonly tickGroup?: TickGroup | undefined;
  /** How long a caller waits for the reply before its admission's outcome is unknown. @default no limit */
  readonly replyTimeoutMs?: number | undefined;
  /** How long a call's record lives in Redis: an unknown outcome is resolved within it or not at all. */
  readonly recordTtlMs: number;
  /**
   * The outcome of an admission whose caller was told it was unknown, once it is known: Redis's
   * reply (an admission to give back when it admitted), or undefined when it never ran.
   */
  readonly onOrphan: (context: C, reply: number[] | undefined) => void;
  /** A call whose outcome stayed unknown (no record of it could be read before its record expired). */
  readonly onUnresolved?: ((admissions: number) => void) | undefined;
}

interface Pending<C> extends AdmissionArgs<C> {
  readonly resolve: (reply: number[]) => void;
  readonly reject: (error: unknown) => void;
  /** The caller has its answer (a reply, or an error): anything later is an orphan. */
  done: boolean;
}

/** Admissions per script call at most: each costs Redis ~20 µs, so a call stays around a millisecond. */
const MAX_BATCH = 64;
/** How often an unknown outcome is asked for again while Redis does not answer. */
const RESOLVE_EVERY_MS = 250;

/**
 * The admissions asked for in one event-loop tick travel in one script call: ioredis builds one
 * command and Redis sets up one script run for all of them, where each used to pay its own (those
 * costs were most of a request's Redis overhead in the gateway). Each admission stays atomic and
 * sees the ones before it, exactly as separate calls in that order would.
 *
 * A call that outlives `replyTimeoutMs` fails its callers with an unknown outcome (StoreCallError):
 * Redis may have run it. Its reply is still awaited, and each admission it made is handed to
 * `onOrphan` to be given back. A call whose reply will never come (its connection closed) is
 * resolved through its record: resolve.lua returns what it did, or makes sure it never will.
 */
export function createAdmitBatcher<C>(options: AdmitBatcherOptions<C>) {
  const deliver = (batch: Pending<C>[], bytes: Buffer) => {
    let at = 0;
    for (const p of batch) {
      const doubles = readReply(bytes, at);
      at += 8 * (doubles.length + 1);
      if (!p.done) {
        p.done = true;
        if (doubles.length > 0) p.resolve(doubles);
        else p.reject(new Error('admission batch: short reply'));
      } else options.onOrphan(p.context, doubles.length > 0 ? doubles : undefined);
    }
  };
  const fail = (batch: Pending<C>[], error: StoreCallError) => {
    for (const p of batch) {
      if (p.done) continue;
      p.done = true;
      p.reject(error);
    }
  };
  const resolveLater = (batch: Pending<C>[], record: CallRecord, sentAt: number) => {
    const attempt = () => {
      options.resolve(record).then(
        (reply) => {
          if (Buffer.isBuffer(reply) && reply.length > 0) deliver(batch, reply);
          else for (const p of batch) options.onOrphan(p.context, undefined);
        },
        () => {
          // The record lives at least the TTL less the second its hash was opened in.
          if (Date.now() - sentAt < options.recordTtlMs - 1_000 - 2 * RESOLVE_EVERY_MS)
            setTimeout(attempt, RESOLVE_EVERY_MS).unref();
          else options.onUnresolved?.(batch.length);
        },
      );
    };
    attempt();
  };
  const late = `no reply from Redis within ${options.replyTimeoutMs} ms`;
  const flush = (batch: Pending<C>[]): void => {
    // admit.lua's first argument: the batch's size (4 hex digits), then the record's field.
    const next = options.records.next();
    const record = { key: next.key, field: batch.length.toString(16).padStart(4, '0') + next.field };
    const keys: string[] = [record.key];
    const args: string[] = [record.field];
    for (const p of batch) {
      for (const k of p.keys) keys.push(k);
      args.push(p.numbers, p.lease, p.cost);
    }
    const sentAt = Date.now();
    // At the deadline, a reply that has arrived while the event loop was busy is read first (I/O is
    // polled before setImmediate callbacks run): only a reply that is really late is unknown.
    const timer =
      options.replyTimeoutMs === undefined
        ? undefined
        : setTimeout(
            () => setImmediate(() => fail(batch, new StoreCallError(late, 'unknown'))),
            options.replyTimeoutMs,
          );
    options.admit(String(keys.length), ...keys, ...args).then(
      (reply) => {
        if (timer) clearTimeout(timer);
        deliver(batch, reply as Buffer);
      },
      (error: unknown) => {
        if (timer) clearTimeout(timer);
        options.records.failed();
        const outcome = outcomeOf(error);
        fail(batch, new StoreCallError(describeError(error), outcome, { cause: error }));
        // It may have run: find out, so that what it admitted is given back.
        if (outcome === 'unknown') resolveLater(batch, record, sentAt);
      },
    );
  };
  const push =
    options.batched === false
      ? (p: Pending<C>) => flush([p])
      : (
          (q) => (p: Pending<C>) =>
            q.push(p)
        )(createTickQueue(flush, MAX_BATCH, { group: options.tickGroup }));
  return (args: AdmissionArgs<C>): Promise<number[]> =>
    new Promise((resolve, reject) => {
      push({
        keys: args.keys,
        numbers: args.numbers,
        lease: args.lease,
        cost: args.cost,
        context: args.context,
        resolve,
        reject,
        done: false,
      });
    });
}

/** One admission's reply at byte `at`: its count of doubles, then the doubles. */
function readReply(bytes: Buffer, at: number): number[] {
  const n = at + 8 <= bytes.length ? bytes.readDoubleLE(at) : 0;
  if (!(n > 0) || at + 8 * (n + 1) > bytes.length) return [];
  const doubles: number[] = new Array(n);
  for (let i = 0; i < n; i++) doubles[i] = bytes.readDoubleLE(at + 8 + 8 * i);
  return doubles;
}

/** An admission's numbers (admit.lua): its key count, C, G and tokens; the subjects' limits follow. */
export function admissionHeader(keyCount: number, candidates: number, gates: number, tokens: number): string {
  return hex12(keyCount) + hex12(candidates) + hex12(gates) + hex12(tokens);
}
