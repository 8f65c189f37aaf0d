/**
 * Collects what is asked for in one event-loop tick and hands it to `flush` together: when the tick
 * ends (setImmediate), or at once when `max` items are waiting. `flush` settles its items' promises
 * itself and never rejects. `drain` flushes now (a store closing).
 */
export function createTickQueue<T>(flush: (batch: T[]) => Promise<void> | void, max: number) {
  let queue: T[] = [];
  let scheduled = false;
  const drain = async (): Promise<void> => {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length > 0) await flush(batch);
  };
  return {
    push(item: T): void {
      queue.push(item);
      if (queue.length >= max) void drain();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
    },
    drain,
  };
}
