/**
 * Redis's clock (`TIME`), as this process can read it without asking: every heartbeat's reply
 * carries Redis's time, a sample of the offset between the two clocks taken at the middle of the
 * call. The sample from the fastest recent call wins (its midpoint is the least uncertain), so a
 * reply delayed by a busy event loop or a stalled network does not drag the clock.
 *
 * Everything that expires is timed by Redis: windows, leases and cooldowns inside the scripts, and
 * through this clock what a replica computes itself — a local window while Redis is away, a key's
 * expiry or a budget's next reset written by the admin API.
 */
export interface RedisClock {
  /** Redis's time now, in ms, as well as the last good sample tells it. */
  now(): number;
  /** A sample: Redis said `redisMs` in a call sent at `sentAt` and answered at `receivedAt` (local ms). */
  sample(redisMs: number, sentAt: number, receivedAt: number): void;
}

/** A sample is replaced by a slower call's only once it is this old. */
const KEEP_BEST_MS = 30_000;

export function createRedisClock(local: () => number = Date.now): RedisClock {
  let offset = 0;
  let bestRtt = Number.POSITIVE_INFINITY;
  let bestAt = 0;
  return {
    now: () => local() + offset,
    sample(redisMs, sentAt, receivedAt) {
      if (!Number.isFinite(redisMs) || redisMs <= 0) return;
      const rtt = Math.max(0, receivedAt - sentAt);
      if (rtt > bestRtt && receivedAt - bestAt < KEEP_BEST_MS) return;
      offset = redisMs - (sentAt + receivedAt) / 2;
      bestRtt = rtt;
      bestAt = receivedAt;
    },
  };
}
