import type { KeyLayout } from './keys.js';
import { limitArg } from './options.js';
import type { Ticket } from './types.js';

/** Calls renew.lua: numkeys, keys…, lease ms, lease ids… */
export type RenewCall = (...args: Array<string | number>) => Promise<unknown>;

interface Held {
  readonly keys: readonly string[];
  /** How long the lease is kept alive after its holder last showed progress; 0 = until released. */
  readonly holdMs: number;
  /** Renewed until then (local ms). */
  until: number;
}

/**
 * Renews the leases of this replica's requests still in flight every third of a lease, so a long
 * stream keeps its slot while a crashed replica's slots expire within one lease. A lease given a
 * hold time (the request's own timeout) is renewed only while its request shows progress within
 * that time (`touch`): a request stuck on a path that forgot to settle cannot hold a slot for ever,
 * it loses it one lease after its timeout.
 */
export function createLeaseKeeper(renewCall: RenewCall, leaseMs: number, keys: KeyLayout) {
  const held = new Map<string, Held>();
  let timer: NodeJS.Timeout | undefined;
  const renew = () => {
    if (held.size === 0) return;
    const now = Date.now();
    const keyArgs: string[] = [];
    const ids: string[] = [];
    for (const [leaseId, h] of held) {
      if (h.holdMs > 0 && now > h.until) {
        held.delete(leaseId);
        continue;
      }
      for (const k of h.keys) {
        keyArgs.push(k);
        ids.push(leaseId);
      }
    }
    if (keyArgs.length === 0) return;
    renewCall(keyArgs.length, ...keyArgs, leaseMs, ...ids).catch(() => {
      // A failed renewal is retried on the next tick; the lease outlives two missed ticks.
    });
  };
  return {
    hold(ticket: Ticket, holdMs = 0): void {
      const inflightKeys: string[] = [];
      for (const s of ticket.subjects) {
        if (limitArg(s.limits.maxParallel) > 0) inflightKeys.push(keys.subject(s.id).inflight);
      }
      if (inflightKeys.length === 0) return;
      held.set(ticket.leaseId, { keys: inflightKeys, holdMs, until: Date.now() + holdMs });
      if (!timer) {
        timer = setInterval(renew, Math.max(1, Math.floor(leaseMs / 3)));
        timer.unref();
      }
    },
    /** The request made progress (a streamed chunk): its lease is kept for another hold time. */
    touch(leaseId: string): void {
      const h = held.get(leaseId);
      if (h && h.holdMs > 0) h.until = Date.now() + h.holdMs;
    },
    release(leaseId: string): void {
      held.delete(leaseId);
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
      held.clear();
    },
  };
}
