import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createMemoryFleetView, createRedisFleetView, type FleetView } from './fleet-view.js';
import { createMemoryStore } from './memory-store.js';
import { createRedisStore } from './redis-store.js';
import type { FleetStore, Subject } from './types.js';

const clients: Redis[] = [];
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
});

const geo = { windowMs: 60_000, bucketMs: 500, leaseMs: 30_000 };

const limited: Subject = { id: 'd:limited', limits: { rpm: 100, tpm: 100_000, maxParallel: 10 } };
const unlimited: Subject = { id: 'd:unlimited', limits: {} };

interface Setup {
  store: FleetStore;
  view: FleetView;
}

function redisSetup(): Setup {
  const c = new Redis(inject('redisUrl'), { enableAutoPipelining: true });
  clients.push(c);
  const store = createRedisStore(c, { ...geo, namespace: `test-${randomUUID()}` });
  return { store, view: createRedisFleetView(c, store.keys, geo) };
}

function memorySetup(): Setup {
  const store = createMemoryStore(geo);
  return { store, view: createMemoryFleetView((id, t) => store.inspect(id, t)) };
}

for (const [name, setup] of [
  ['redis', redisSetup],
  ['memory', memorySetup],
] as const) {
  describe(`fleet view (${name})`, () => {
    it('counts what admissions reserved and settlements corrected, and the leases held', async () => {
      const { store, view } = setup();
      const tickets = [];
      for (let i = 0; i < 7; i++) {
        const a = await store.admit({ candidates: [limited], tokens: 1_000, leaseId: `l${i}` });
        if (!a.admitted) throw new Error('not admitted');
        tickets.push(a.ticket);
      }
      // Three settle with 400 real tokens instead of the 1,000 reserved; four stay in flight.
      for (const t of tickets.slice(0, 3)) await store.settle(t, 400, 'success');
      await expect
        .poll(async () => (await view.subjects([limited.id, unlimited.id])).subjects)
        .toEqual([
          { id: limited.id, requests: 7, tokens: 3 * 400 + 4 * 1_000, leases: 4, cooldownMs: 0 },
          { id: unlimited.id, requests: 0, tokens: 0, leases: 0, cooldownMs: 0 },
        ]);
    });

    it('shows a cooldown with its reason and time left; a shorter note does not replace a longer one', async () => {
      const { store, view } = setup();
      await store.coolDown(limited.id, 5_000);
      await view.noteCooldown(limited.id, '429 from upstream', 5_000);
      await view.noteCooldown(limited.id, '503 from upstream', 1_000);
      const [s] = (await view.subjects([limited.id])).subjects;
      expect(s!.cooldownReason).toBe('429 from upstream');
      expect(s!.cooldownMs).toBeGreaterThan(4_000);
      expect(s!.cooldownMs).toBeLessThanOrEqual(5_000);
    });

    it('lists replica reports until they expire', async () => {
      const { view } = setup();
      await view.report('r1', '{"inFlight":3}', 60_000);
      if (name === 'redis') {
        // Redis lists replicas from the heartbeat set: a report alone is not a live replica.
        expect(await view.replicas()).toEqual([]);
      } else {
        expect(await view.replicas()).toEqual([{ id: 'r1', report: '{"inFlight":3}' }]);
      }
    });
  });
}

describe('fleet view (redis) with heartbeats', () => {
  it('lists the replicas alive and their reports', async () => {
    const { store, view } = redisSetup();
    const redisStore = store as ReturnType<typeof createRedisStore>;
    await redisStore.heartbeat('r1', 10_000);
    await redisStore.heartbeat('r2', 10_000);
    await view.report('r1', '{"n":1}', 10_000);
    const replicas = await view.replicas();
    expect(replicas.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: 'r1', report: '{"n":1}' },
      { id: 'r2', report: undefined },
    ]);
  });

  it('fails rather than showing an empty window when a read fails', async () => {
    const c = new Redis(inject('redisUrl'));
    clients.push(c);
    const store = createRedisStore(c, { ...geo, namespace: `test-${randomUUID()}` });
    const view = createRedisFleetView(c, store.keys, geo);
    // A window key of the wrong type makes its HMGET fail inside the pipeline.
    await c.set(store.keys.subject('d:broken').window, 'not a hash');
    await expect(view.subjects(['d:broken'])).rejects.toThrow(/WRONGTYPE/);
  });
});
