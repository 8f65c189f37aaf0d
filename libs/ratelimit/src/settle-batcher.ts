import type { CallRecord } from './call-records.js';
import type { KeyLayout } from './keys.js';
import { limitArg } from './options.js';
import { DELTA_OFFSET, hex12 } from './scripts/window.js';
import { createTickQueue, type TickGroup } from './tick-queue.js';
import type { LatencySample, Outcome, OutcomeCounts, Ticket } from './types.js';

/** Calls settle.lua: numkeys, keys…, args… */
export type SettleCall = (...args: Array<string | number>) => Promise<unknown>;

export interface SettleBatcherOptions {
  readonly settle: SettleCall;
  readonly keys: KeyLayout;
  /** Where the next script call leaves its record; told when a call failed (it may not have run). */
  readonly records: { next(): CallRecord; failed(): void };
  /** How long a call's record lives: a call is sent again only within it (after that, once could be twice). */
  readonly recordTtlMs: number;
  /** A call sent again because its first send failed or went unanswered. */
  readonly onResend?: (() => void) | undefined;
  /** A call given up on: no send was known to arrive before its record would have expired. */
  readonly onLost?: ((settlements: number) => void) | undefined;
  /** Flushed with other queues at the end of a tick (the admissions'), in one write. */
  readonly tickGroup?: TickGroup | undefined;
  /**
   * How long a settlement with nothing urgent in it (no failure to count, no admission to give
   * back) may wait to leave with the next admission's write instead of a write of its own. @default 0
   */
  readonly lazyMs?: number | undefined;
}

interface Pending {
  readonly ticket: Ticket;
  readonly delta: number;
  readonly failed: boolean;
  /** The admission was never used (its reply came too late): its request is given back too. */
  readonly unused: boolean;
  readonly actualCost: number | undefined;
  readonly sample: LatencySample | undefined;
  readonly resolve: (counts: OutcomeCounts | undefined) => void;
}

/** What one batch does to one subject's window: token corrections and requests given back per bucket, failures counted. */
interface WindowWork {
  readonly key: string;
  readonly corrections: Map<number, number>;
  readonly givenBack: Map<number, number>;
  failures: number;
  /** Latency samples of the chosen candidate: counts and sums (µs), and the average's alpha. */
  latency: { nl: number; sl: number; nt: number; st: number; alpha: number } | undefined;
}

/** How often a settlement whose first send failed is sent again while Redis does not answer. */
const RESEND_EVERY_MS = 250;

/**
 * Settlements happen after responses, off the critical path, so they need not travel one by one:
 * those of a tick share one script call (up to 128), and what they do is summed first — the token
 * corrections of one subject's bucket, its failures, its leases, an account's spend per budget
 * period — so Redis pays per subject touched, not per request. A settlement with nothing to do (no
 * tokens to correct, no lease, no failure, no change of cost) is skipped.
 *
 * Exactly once: each call carries an id whose record settle.lua sets before it changes anything, so
 * a call whose outcome is unknown (no reply; the connection closed under it) is sent again, with the
 * same id and arguments, until Redis answers — the copy that finds the record changes nothing. Sends
 * stop before the record could have expired; what is still unsent then is reported lost (its leases
 * expire, its reservation stays counted: never twice).
 */
export function createSettleBatcher(options: SettleBatcherOptions) {
  const { keys } = options;
  /** Bumped by `dropResends`: a call waiting to be sent again from an older generation is dropped. */
  let generation = 0;
  const send = (
    batch: Pending[],
    keyArgs: string[],
    args: string[],
    order: WindowWork[],
    answers: Array<WindowWork | undefined>,
    firstSentAt: number,
    sentIn: number,
  ): Promise<void> =>
    options.settle(keyArgs.length, ...keyArgs, ...args).then(
      (reply) => {
        const r = reply as number[];
        const counts = new Map<WindowWork, OutcomeCounts>();
        order.forEach((w, i) => {
          if (w.failures > 0 && r.length > 2 * i)
            counts.set(w, { failures: r[2 * i] ?? 0, total: r[2 * i + 1] ?? 0 });
        });
        batch.forEach((p, i) => {
          const w = answers[i];
          p.resolve(p.failed && w ? counts.get(w) : undefined);
        });
      },
      () => {
        options.records.failed();
        // The record lives at least the TTL less the second its hash was opened in.
        if (Date.now() - firstSentAt >= options.recordTtlMs - 1_000 - 4 * RESEND_EVERY_MS) {
          options.onLost?.(batch.length);
          for (const p of batch) p.resolve(undefined);
          return;
        }
        setTimeout(() => {
          if (sentIn !== generation) {
            for (const p of batch) p.resolve(undefined);
            return;
          }
          options.onResend?.();
          void send(batch, keyArgs, args, order, answers, firstSentAt, sentIn);
        }, RESEND_EVERY_MS).unref();
      },
    );
  const flush = (batch: Pending[]): Promise<void> => {
    const windows = new Map<string, WindowWork>();
    const leases = new Map<string, string[]>();
    const spend = new Map<string, Map<number, { reserved: number; actual: number }>>();
    /** For each failed ticket, the window whose counts answer it. */
    const answers: Array<WindowWork | undefined> = [];
    for (const p of batch) {
      const t = p.ticket;
      let answer: WindowWork | undefined;
      t.subjects.forEach((s, j) => {
        const k = keys.subject(s.id);
        const correct = p.delta !== 0 && limitArg(s.limits.tpm) > 0;
        const giveBack = p.unused && (limitArg(s.limits.rpm) > 0 || limitArg(s.limits.tpm) > 0);
        const count = p.failed && j === 0;
        const sample = j === 0 ? p.sample : undefined;
        if (correct || count || giveBack || sample) {
          let w = windows.get(k.window);
          if (!w) {
            w = {
              key: k.window,
              corrections: new Map(),
              givenBack: new Map(),
              failures: 0,
              latency: undefined,
            };
            windows.set(k.window, w);
          }
          if (sample) addSample(w, sample);
          if (correct) w.corrections.set(t.bucket, (w.corrections.get(t.bucket) ?? 0) + p.delta);
          if (giveBack) w.givenBack.set(t.bucket, (w.givenBack.get(t.bucket) ?? 0) + 1);
          if (count) {
            w.failures++;
            answer = w;
          }
        }
        if (limitArg(s.limits.maxParallel) > 0) {
          const held = leases.get(k.inflight);
          if (held) held.push(t.leaseId);
          else leases.set(k.inflight, [t.leaseId]);
        }
      });
      answers.push(answer);
      for (const a of t.accounts ?? []) {
        const id = keys.account(a.id);
        let periods = spend.get(id);
        if (!periods) {
          periods = new Map();
          spend.set(id, periods);
        }
        const sum = periods.get(a.period) ?? { reserved: 0, actual: 0 };
        sum.reserved += a.cost;
        // A cost that is not a finite number (a pricing bug) keeps the estimate rather than failing
        // the whole batch in Redis.
        sum.actual += p.actualCost !== undefined && Number.isFinite(p.actualCost) ? p.actualCost : a.cost;
        periods.set(a.period, sum);
      }
    }
    // settle.lua's arguments: see its header.
    const record = options.records.next();
    const keyArgs: string[] = [record.key];
    const args: string[] = [record.field, hex12(windows.size) + hex12(leases.size) + hex12(spend.size)];
    const order: WindowWork[] = [];
    for (const w of windows.values()) {
      keyArgs.push(w.key);
      order.push(w);
      let numbers = hex12(w.failures) + hex12(w.corrections.size) + hex12(w.givenBack.size);
      for (const [bucket, delta] of w.corrections) numbers += hex12(bucket) + hex12(delta + DELTA_OFFSET);
      for (const [bucket, n] of w.givenBack) numbers += hex12(bucket) + hex12(n);
      const l = w.latency;
      if (l) numbers += hex12(l.nl) + hex12(l.sl) + hex12(l.nt) + hex12(l.st) + hex12(l.alpha * 1e6);
      args.push(numbers);
    }
    for (const [key, ids] of leases) {
      keyArgs.push(key);
      args.push(String(ids.length), ...ids);
    }
    for (const [key, periods] of spend) {
      keyArgs.push(key);
      let groups = '';
      for (const [period, sum] of periods) groups += `${sum.reserved}:${sum.actual}:${period};`;
      args.push(groups);
    }
    return send(batch, keyArgs, args, order, answers, Date.now(), generation);
  };
  const queue = createTickQueue(flush, 128, { group: options.tickGroup, lazyMs: options.lazyMs });
  return {
    /**
     * Queues one settlement; resolves with the minute's counts for a failure once it is applied
     * (undefined for other outcomes, or when it was given up on). Never rejects.
     */
    add(
      ticket: Ticket,
      delta: number,
      outcome: Outcome,
      actualCost: number | undefined,
      unused = false,
      sample?: LatencySample,
    ): Promise<OutcomeCounts | undefined> {
      const failed = outcome === 'failure';
      const work =
        failed ||
        unused ||
        sample !== undefined ||
        (ticket.accounts !== undefined &&
          actualCost !== undefined &&
          actualCost !== ticket.accounts[0]?.cost) ||
        ticket.subjects.some(
          (s) => limitArg(s.limits.maxParallel) > 0 || (delta !== 0 && limitArg(s.limits.tpm) > 0),
        );
      if (!work) return Promise.resolve(undefined);
      return new Promise((resolve) => {
        queue.push({ ticket, delta, failed, unused, actualCost, sample, resolve }, !failed && !unused);
      });
    },
    flushNow: queue.drain,
    /**
     * Drops the settlements waiting to be sent again: Redis lost the state they would correct (the
     * replica writes back its own record of the window instead, corrections included).
     */
    dropResends(): void {
      generation++;
    },
  };
}

/** Folds a sample into a window's batch sums (times in µs: the script's arguments are integers). */
function addSample(w: WindowWork, sample: LatencySample): void {
  w.latency ??= { nl: 0, sl: 0, nt: 0, st: 0, alpha: sample.alpha };
  const l = w.latency;
  if (sample.msPerToken !== undefined && Number.isFinite(sample.msPerToken) && sample.msPerToken >= 0) {
    l.nl++;
    l.sl += Math.round(sample.msPerToken * 1000);
  }
  if (sample.ttftMs !== undefined && Number.isFinite(sample.ttftMs) && sample.ttftMs >= 0) {
    l.nt++;
    l.st += Math.round(sample.ttftMs * 1000);
  }
}
