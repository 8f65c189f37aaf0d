import type { KeyLayout } from './keys.js';
import { limitArg } from './options.js';
import { DELTA_OFFSET, hex12 } from './scripts/window.js';
import { createTickQueue } from './tick-queue.js';
import type { Outcome, OutcomeCounts, Ticket } from './types.js';

/** Calls settle.lua: numkeys, keys…, args… */
export type SettleCall = (...args: Array<string | number>) => Promise<unknown>;

interface Pending {
  readonly ticket: Ticket;
  readonly delta: number;
  readonly failed: boolean;
  readonly actualCost: number | undefined;
  readonly resolve: (counts: OutcomeCounts | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/** What one batch does to one subject's window: token corrections per bucket, failures counted. */
interface WindowWork {
  readonly key: string;
  readonly corrections: Map<number, number>;
  failures: number;
}

/**
 * Settlements happen after responses, off the critical path, so they need not travel one by one:
 * those of a tick share one script call (up to 128), and what they do is summed first — the token
 * corrections of one subject's bucket, its failures, its leases, an account's spend per budget
 * period — so Redis pays per subject touched, not per request. A settlement with nothing to do (no
 * tokens to correct, no lease, no failure, no change of cost) is skipped.
 */
export function createSettleBatcher(settle: SettleCall, keys: KeyLayout) {
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
        const count = p.failed && j === 0;
        if (correct || count) {
          let w = windows.get(k.window);
          if (!w) {
            w = { key: k.window, corrections: new Map(), failures: 0 };
            windows.set(k.window, w);
          }
          if (correct) w.corrections.set(t.bucket, (w.corrections.get(t.bucket) ?? 0) + p.delta);
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
    const keyArgs: string[] = [];
    const args: string[] = [hex12(windows.size) + hex12(leases.size) + hex12(spend.size)];
    const order: WindowWork[] = [];
    for (const w of windows.values()) {
      keyArgs.push(w.key);
      order.push(w);
      let numbers = hex12(w.failures) + hex12(w.corrections.size);
      for (const [bucket, delta] of w.corrections) numbers += hex12(bucket) + hex12(delta + DELTA_OFFSET);
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
    return settle(keyArgs.length, ...keyArgs, ...args).then(
      (reply) => {
        const r = reply as number[];
        const counts = new Map<WindowWork, OutcomeCounts>();
        order.forEach((w, i) => {
          if (w.failures > 0) counts.set(w, { failures: r[2 * i] ?? 0, total: r[2 * i + 1] ?? 0 });
        });
        batch.forEach((p, i) => {
          const w = answers[i];
          p.resolve(p.failed && w ? counts.get(w) : undefined);
        });
      },
      (error: unknown) => {
        for (const p of batch) p.reject(error);
      },
    );
  };
  const queue = createTickQueue(flush, 128);
  return {
    add(
      ticket: Ticket,
      delta: number,
      outcome: Outcome,
      actualCost: number | undefined,
    ): Promise<OutcomeCounts | undefined> {
      const failed = outcome === 'failure';
      const work =
        failed ||
        (ticket.accounts !== undefined &&
          actualCost !== undefined &&
          actualCost !== ticket.accounts[0]?.cost) ||
        ticket.subjects.some(
          (s) => limitArg(s.limits.maxParallel) > 0 || (delta !== 0 && limitArg(s.limits.tpm) > 0),
        );
      if (!work) return Promise.resolve(undefined);
      return new Promise((resolve, reject) => {
        queue.push({ ticket, delta, failed, actualCost, resolve, reject });
      });
    },
    flushNow: queue.drain,
  };
}
