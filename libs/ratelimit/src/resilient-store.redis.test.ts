import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../../../test/support/redis-server.js';
import { createRedisStore } from './redis-store.js';
import { createResilientStore, shareOf } from './resilient-store.js';
import type { StoreMode } from './types.js';

describe('shareOf', () => {
  it('divides a fleet-wide limit by the live replicas, never below one request', () => {
    expect(shareOf(10_000, 4)).toBe(2_500);
    expect(shareOf(10, 3)).toBe(3);
    expect(shareOf(2, 4)).toBe(1);
    expect(shareOf(undefined, 4)).toBeUndefined();
  });
});

describe('resilient store while Redis goes away and comes back', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves local shares within the command timeout, then returns to shared state', async () => {
    // The gateway's own settings: no offline queue, a short command timeout.
    const options = {
      commandTimeout: 100,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 50,
    };
    const clientA = new Redis(server.url, options);
    const clientB = new Redis(server.url, options);
    clientA.on('error', () => {});
    clientB.on('error', () => {});
    await Promise.all([clientA, clientB].map((c) => new Promise((resolve) => c.once('ready', resolve))));
    const namespace = `test-${randomUUID()}`;
    const changes: StoreMode[] = [];
    const make = (client: Redis, id: string) =>
      createResilientStore({
        redis: createRedisStore(client, { namespace }),
        probe: () => client.ping(),
        replicaId: id,
        heartbeatMs: 200,
        onModeChange: (mode) => changes.push(mode),
      });
    const a = make(clientA, 'a');
    const b = make(clientB, 'b');
    await a.start();
    await b.start();
    await a.start();
    expect(a.liveReplicas()).toBe(2);
    const d = { id: 'd:outage', limits: { rpm: 10 } };
    expect((await a.admit({ candidates: [d], tokens: 0, leaseId: '1' })).admitted).toBe(true);

    await server.stop();
    const started = performance.now();
    const first = await a.admit({ candidates: [d], tokens: 0, leaseId: '2' });
    expect(performance.now() - started).toBeLessThan(400);
    expect(first.admitted).toBe(true);
    expect(a.mode()).toBe('local');
    // Local share: 10 / 2 replicas = 5 in the window, counting the one just admitted locally.
    let local = 1;
    for (let i = 0; i < 10; i++)
      if ((await a.admit({ candidates: [d], tokens: 0, leaseId: `x${i}` })).admitted) local++;
    expect(local).toBe(5);

    await server.start();
    await expect.poll(() => a.mode(), { timeout: 5_000, interval: 100 }).toBe('shared');
    // Shared again: the fleet-wide limit (10) applies, not the local share (5). This Redis keeps
    // nothing on disk, so its restart emptied the window.
    let shared = 0;
    for (let i = 0; i < 12; i++)
      if ((await a.admit({ candidates: [d], tokens: 0, leaseId: `y${i}` })).admitted) shared++;
    expect(shared).toBe(10);
    expect(changes.slice(0, 2)).toEqual(['local', 'shared']);
    await a.close();
    await b.close();
    clientA.disconnect();
    clientB.disconnect();
  });
});
