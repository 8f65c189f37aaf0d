import type { MemoryFleetStore } from './memory-store.js';
import { limitArg } from './options.js';
import type { RedisFleetStore, WriteBack } from './redis-store.js';
import type { Ticket } from './types.js';

/** A ticket of a local admission that is now counted in Redis, and the estimate it was charged. */
interface Adopted {
  readonly ticket: Ticket;
  readonly estimate: number;
}

/**
 * What this replica admitted on its own while Redis was away, until Redis counts it too. The local
 * store's windows know the requests and tokens (their local part); this journal knows the spend of
 * the local requests that settled, and the local requests still in flight. `writeBack` hands all of
 * it to Redis in one call that is applied once however often it is sent, then the requests still in
 * flight are *adopted*: their leases are renewed through Redis, and their settlement goes there —
 * tokens corrected from the reservation that was written back, spend charged in full (their
 * estimate was not written back, so a budget period turning in between cannot miscount it).
 */
export function createEpisodeJournal(redis: RedisFleetStore, local: MemoryFleetStore, idPrefix: string) {
  const inFlight = new Map<string, Ticket>();
  const spend = new Map<string, number>();
  const adopted = new Map<string, Adopted>();
  let pending: { readonly id: string; readonly work: WriteBack } | undefined;
  /** Local admissions since the last freeze (their window counts are in the local store). */
  let unwritten = false;
  let seq = 0;
  return {
    /** A local admission: charged to its accounts when it settles. */
    admitted(ticket: Ticket): void {
      inFlight.set(ticket.leaseId, ticket);
      unwritten = true;
    },
    /**
     * A local ticket settles. Returns the ticket as Redis now knows it (adopted) with the cost to
     * charge there, or undefined when it is still this replica's own (settle it locally).
     */
    settled(ticket: Ticket, actualCost: number | undefined): { ticket: Ticket; cost: number } | undefined {
      const a = adopted.get(ticket.leaseId);
      if (a) {
        adopted.delete(ticket.leaseId);
        return { ticket: a.ticket, cost: actualCost ?? a.estimate };
      }
      if (!inFlight.delete(ticket.leaseId)) return undefined;
      for (const c of ticket.accounts ?? [])
        spend.set(
          c.id,
          (spend.get(c.id) ?? 0) +
            (actualCost !== undefined && Number.isFinite(actualCost) ? actualCost : c.cost),
        );
      return undefined;
    },
    /**
     * Whether anything admitted here alone is not in Redis yet: a write-back failed, or local
     * requests came after the last one froze its work (while it was on the wire, or in the moment
     * before the replica went back to Redis).
     */
    dirty(): boolean {
      return pending !== undefined || unwritten || spend.size > 0;
    },
    /**
     * Writes back into Redis what it has not counted: this replica's own admissions (`all`: every
     * admission of the window, for a Redis that lost its data). What is handed over is frozen
     * first, so that a write-back whose reply was lost is sent again unchanged, under its id; what
     * was admitted meanwhile follows in a second write-back right after it.
     */
    async writeBack(all: boolean): Promise<boolean> {
      if (all && pending) {
        // Meant for the Redis that lost its data (each write-back follows a heartbeat that read the
        // epoch): its windows and leases are in the whole window written now, its spend is nowhere
        // else, so it goes with it. (Had it reached the new Redis between its heartbeat and its
        // call, that spend would count twice — on accounts a Redis that lost its data no longer has.)
        for (const { accountId, amount } of pending.work.spend)
          spend.set(accountId, (spend.get(accountId) ?? 0) + amount);
        pending = undefined;
      }
      let wrote = false;
      for (let round = 0; round < 2; round++) {
        if (!pending) {
          const work = freeze(all);
          all = false;
          if (!work) break;
          pending = { id: `${idPrefix}:wb${++seq}`, work };
        }
        await redis.writeBack(pending.id, pending.work);
        pending = undefined;
        wrote = true;
      }
      return wrote;
    },
  };

  /** Takes what is not in Redis out of the journal (the in-flight requests are adopted). */
  function freeze(all: boolean): WriteBack | undefined {
    const journal = local.journal(all);
    const flying = [...inFlight.values()];
    const work: WriteBack = {
      windows: journal.windows,
      leases: all ? journal.leases : leasesOf(flying),
      spend: [...spend]
        .filter(([, amount]) => amount !== 0)
        .map(([accountId, amount]) => ({ accountId, amount })),
    };
    local.clearLocal();
    spend.clear();
    inFlight.clear();
    unwritten = false;
    for (const t of flying) adopt(t);
    if (work.windows.length === 0 && work.leases.length === 0 && work.spend.length === 0) return undefined;
    return work;
  }

  function adopt(t: Ticket): void {
    const ticket: Ticket = {
      ...t,
      mode: 'shared',
      accounts: t.accounts?.map((c) => ({ id: c.id, cost: 0, period: -1 })),
    };
    adopted.set(t.leaseId, { ticket, estimate: t.accounts?.[0]?.cost ?? 0 });
    redis.adopt(ticket);
  }
}

/** The leases of local requests still in flight, per subject with a parallel limit. */
function leasesOf(tickets: readonly Ticket[]): WriteBack['leases'] {
  const bySubject = new Map<string, string[]>();
  for (const t of tickets) {
    for (const s of t.subjects) {
      if (limitArg(s.limits.maxParallel) === 0) continue;
      const ids = bySubject.get(s.id);
      if (ids) ids.push(t.leaseId);
      else bySubject.set(s.id, [t.leaseId]);
    }
  }
  return [...bySubject].map(([subjectId, leaseIds]) => ({ subjectId, leaseIds }));
}
