import type { ClientGoneSignal } from '../http/client-gone.js';

/** Why a waiter's wait ended. */
export type Turn = 'retry' | 'timeout' | 'gone';

/** A request waiting for room in one model group, in its place in the line. */
export interface Waiter {
  /**
   * Resolves when the waiter should ask for admission again: it is first in its group's line and
   * `hintMs` has passed or a request of the group just ended on this replica — or 'timeout' at its
   * deadline, or 'gone' as soon as its client leaves. Ask again only after it resolves.
   */
  turn(hintMs: number): Promise<Turn>;
  /** Leaves the line (admitted, refused for good, or gone); the next waiter's turn comes at once. */
  leave(): void;
}

interface Entry {
  readonly priority: number;
  readonly deadline: number;
  readonly signal: ClientGoneSignal;
  wake: ((turn: Turn) => void) | undefined;
  timer: NodeJS.Timeout | undefined;
  hintMs: number;
}

/** Re-asks at least this often while first in line: a slot freed on another replica is not announced here. */
const POLL_MS = 50;

/**
 * The per-replica line of requests waiting for room (opt-in, `fleetgate_settings.queue_wait_seconds`):
 * per model group, ordered by LiteLLM's `priority` (lower first), then arrival. Only the first of a
 * group asks the fleet store again, so a long line costs one admission call per poll, not one per
 * waiter. At most `maxWaiting` requests wait on a replica; `now` is injected for tests.
 */
export function createAdmissionQueue(
  maxWaiting: number,
  now: () => number = performance.now.bind(performance),
) {
  const lines = new Map<string, Entry[]>();
  let waiting = 0;

  const schedule = (line: Entry[]) => {
    const head = line[0];
    if (!head?.wake || head.timer) return;
    const ms = Math.max(0, Math.min(head.hintMs, POLL_MS, head.deadline - now()));
    head.timer = setTimeout(() => fire(head, now() >= head.deadline ? 'timeout' : 'retry'), ms);
  };
  const fire = (entry: Entry, turn: Turn) => {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    const wake = entry.wake;
    entry.wake = undefined;
    wake?.(turn);
  };

  return {
    /** Joins the group's line; undefined when the replica's line is full (refuse at once). */
    join(group: string, priority: number, deadline: number, signal: ClientGoneSignal): Waiter | undefined {
      if (waiting >= maxWaiting) return undefined;
      waiting++;
      const entry: Entry = { priority, deadline, signal, wake: undefined, timer: undefined, hintMs: 0 };
      let line = lines.get(group);
      if (!line) {
        line = [];
        lines.set(group, line);
      }
      // Behind everyone of the same or a higher priority (lower number), ahead of the rest.
      let at = line.length;
      while (at > 0 && line[at - 1]!.priority > priority) at--;
      line.splice(at, 0, entry);
      const onGone = () => fire(entry, 'gone');
      if (signal instanceof EventTarget) signal.addEventListener('abort', onGone, { once: true });
      else signal.once('abort', onGone);
      let left = false;
      return {
        turn(hintMs) {
          if (signal.aborted) return Promise.resolve('gone');
          if (now() >= deadline) return Promise.resolve('timeout');
          return new Promise<Turn>((resolve) => {
            entry.wake = resolve;
            entry.hintMs = hintMs;
            if (line[0] === entry) schedule(line);
            else {
              // Not first: wait to become first, or for the deadline.
              entry.timer = setTimeout(() => fire(entry, 'timeout'), Math.max(0, deadline - now()));
            }
          });
        },
        leave() {
          if (left) return;
          left = true;
          waiting--;
          if (signal instanceof EventTarget) signal.removeEventListener('abort', onGone);
          else signal.off('abort', onGone);
          fire(entry, 'gone');
          const i = line.indexOf(entry);
          if (i >= 0) line.splice(i, 1);
          if (line.length === 0) lines.delete(group);
          else if (i === 0) {
            // The next in line asks at once: the slot that let this one in may have room for more.
            const next = line[0]!;
            next.hintMs = 0;
            if (next.timer) clearTimeout(next.timer);
            next.timer = undefined;
            schedule(line);
          }
        },
      };
    },
    /** A request of the group ended on this replica: its first waiter asks now. */
    notify(group: string): void {
      const head = lines.get(group)?.[0];
      if (head?.wake) fire(head, 'retry');
    },
    /** Requests waiting on this replica, for metrics. */
    size: () => waiting,
  };
}

export type AdmissionQueue = ReturnType<typeof createAdmissionQueue>;
