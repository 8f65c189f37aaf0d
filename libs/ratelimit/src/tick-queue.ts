/**
 * Collects what is asked for in one event-loop tick and hands it to `flush` together: when the tick
 * ends (setImmediate), or at once when `max` items are waiting. `flush` settles its items' promises
 * itself and never rejects. `drain` flushes now (a store closing). Queues that share a `group` are
 * flushed by it, together (see createTickGroup). An item pushed as `lazy` may wait up to `lazyMs`
 * for the next tick that flushes something anyway.
 */
export function createTickQueue<T>(
  flush: (batch: T[]) => Promise<void> | void,
  max: number,
  options: { readonly group?: TickGroup | undefined; readonly lazyMs?: number | undefined } = {},
) {
  let queue: T[] = [];
  const drain = async (): Promise<void> => {
    const batch = queue;
    queue = [];
    if (batch.length > 0) await flush(batch);
  };
  const due = (options.group ?? createTickGroup()).join(drain);
  const lazyMs = options.lazyMs ?? 0;
  return {
    push(item: T, lazy = false): void {
      queue.push(item);
      if (queue.length >= max) void drain();
      else due(lazy ? lazyMs : 0);
    },
    drain,
  };
}

export interface TickGroup {
  /**
   * Adds a queue's drain; returns what the queue calls when it has something: the drain runs at the
   * end of this tick, or — given `waitMs` — with the group's next end-of-tick flush, at the latest
   * `waitMs` from now.
   */
  join(drain: () => Promise<void>): (waitMs: number) => void;
}

/**
 * One end-of-tick flush for several queues: when any of them has something, all that have are
 * drained in one setImmediate, in the order they joined, inside `around` — which for Redis corks
 * the connection, so a tick's settlements and admissions leave in one write and Redis wakes up,
 * reads and answers once for both (settlements first: what they free is free for the admissions).
 */
export function createTickGroup(around: (run: () => void) => void = (run) => run()): TickGroup {
  const members: Array<{ due: boolean; drain: () => Promise<void> }> = [];
  let immediate = false;
  let timer: NodeJS.Timeout | undefined;
  const runDue = () => {
    for (const m of members) {
      if (!m.due) continue;
      m.due = false;
      void m.drain();
    }
  };
  const fire = () => {
    immediate = false;
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    around(runDue);
  };
  const fireLate = () => {
    timer = undefined;
    if (!immediate) around(runDue);
  };
  return {
    join(drain) {
      const member = { due: false, drain };
      members.push(member);
      return (waitMs) => {
        member.due = true;
        if (immediate) return;
        if (waitMs <= 0) {
          immediate = true;
          setImmediate(fire);
        } else timer ??= setTimeout(fireLate, waitMs);
      };
    },
  };
}
