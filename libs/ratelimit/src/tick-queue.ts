/**
 * Collects what is asked for in one event-loop tick and hands it to `flush` together: when the tick
 * ends (setImmediate), or at once when `max` items are waiting. `flush` settles its items' promises
 * itself and never rejects. `drain` flushes now (a store closing). Queues that join a `group` are
 * flushed by the group, together (see createTickGroup).
 */
export function createTickQueue<T>(
  flush: (batch: T[]) => Promise<void> | void,
  max: number,
  group?: TickGroup,
) {
  let queue: T[] = [];
  let scheduled = false;
  const drain = async (): Promise<void> => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length > 0) await flush(batch);
  };
  const schedule = group ? group.join(drain) : () => setImmediate(drain);
  return {
    push(item: T): void {
      queue.push(item);
      if (queue.length >= max) void drain();
      else if (!scheduled) {
        scheduled = true;
        schedule();
      }
    },
    drain,
  };
}

export interface TickGroup {
  /** Adds a queue's drain; returns what the queue calls to have it run at the end of this tick. */
  join(drain: () => Promise<void>): () => void;
}

/**
 * One end-of-tick flush for several queues: when any of them has something, all that have are
 * drained in one setImmediate, in the order they joined, inside `around` — which for Redis corks
 * the connection, so a tick's settlements and admissions leave in one write and Redis wakes up,
 * reads and answers once for both (settlements first: what they free is free for the admissions).
 */
export function createTickGroup(around: (run: () => void) => void = (run) => run()): TickGroup {
  const members: Array<{ due: boolean; drain: () => Promise<void> }> = [];
  let scheduled = false;
  const runDue = () => {
    for (const m of members) {
      if (!m.due) continue;
      m.due = false;
      void m.drain();
    }
  };
  const fire = () => {
    scheduled = false;
    around(runDue);
  };
  return {
    join(drain) {
      const member = { due: false, drain };
      members.push(member);
      return () => {
        member.due = true;
        if (!scheduled) {
          scheduled = true;
          setImmediate(fire);
        }
      };
    },
  };
}
