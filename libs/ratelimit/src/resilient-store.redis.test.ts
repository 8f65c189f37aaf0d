import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisRelay, startRedisRelay } from '../../../test/support/redis-relay.js';
import { type RedisServer, startRedisServer } from '../../../test/support/redis-server.js';
import { StoreCallError } from './call-outcome.js';
import { createRedisAccounts } from './redis-accounts.js';
import { createRedisStore, type RedisFleetStore } from './redis-store.js';
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

/** The gateway's client settings: no offline queue, no blind resends, a late-reply horizon of 1 s. */
const CLIENT: RedisOptions = {
  commandTimeout: 1_000,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
  retryStrategy: () => 50,
};

describe('resilient store while Redis goes away and comes back', () => {
  let server: RedisServer;
  let relay: RedisRelay;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    relay = await startRedisRelay({ port: server.port });
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await relay.close();
    await server.close();
  });

  const connect = async (url: string, options: RedisOptions = CLIENT) => {
    const client = new Redis(url, options);
    clients.push(client);
    client.on('error', () => {});
    await new Promise((resolve) => client.once('ready', resolve));
    return client;
  };
  const replica = async (
    url: string,
    namespace: string,
    id: string,
    changes: StoreMode[] = [],
    events: Record<string, number> = {},
  ) => {
    const client = await connect(url);
    const store = createResilientStore({
      redis: createRedisStore(client, {
        namespace,
        replyTimeoutMs: 100,
        replicaId: id,
        onEvent: (e, n) => {
          events[e] = (events[e] ?? 0) + n;
        },
      }),
      replicaId: id,
      heartbeatMs: 200,
      onModeChange: (mode) => changes.push(mode),
    });
    await store.start();
    return store;
  };
  const admitted = async (
    store: { admit: ReturnType<typeof createResilientStore>['admit'] },
    d: object,
    n: number,
    tag: string,
  ) => {
    let count = 0;
    for (let i = 0; i < n; i++)
      if ((await store.admit({ candidates: [d as never], tokens: 0, leaseId: `${tag}${i}` })).admitted)
        count++;
    return count;
  };

  it('serves local shares within the command timeout, and a Redis restarted empty gets the window back', async () => {
    const namespace = `test-${randomUUID()}`;
    const changes: StoreMode[] = [];
    const a = await replica(server.url, namespace, 'a', changes);
    const b = await replica(server.url, namespace, 'b');
    await a.start();
    expect(a.liveReplicas()).toBe(2);
    const d = { id: 'd:outage', limits: { rpm: 10 } };
    expect(await admitted(a, d, 1, 's')).toBe(1);

    await server.stop();
    const started = performance.now();
    const first = await a.admit({ candidates: [d], tokens: 0, leaseId: 'first' });
    expect(performance.now() - started).toBeLessThan(400);
    expect(first.admitted).toBe(true);
    expect(a.mode()).toBe('local');
    // A share of 10 / 2 replicas = 5, of which one went through Redis and one just now.
    expect(1 + (await admitted(a, d, 10, 'x'))).toBe(4);

    await server.start();
    await expect.poll(() => a.mode(), { timeout: 5_000, interval: 50 }).toBe('shared');
    // Redis came back without its data: the replica wrote back all it admitted in the window (5),
    // so the fleet-wide limit of 10 has 5 left.
    expect(await admitted(a, d, 12, 'y')).toBe(5);
    expect(changes.slice(0, 2)).toEqual(['local', 'shared']);
    await a.close();
    await b.close();
  });

  it('refuses what Redis does not answer in time, gives it back, and writes back only what it admitted alone', async () => {
    const namespace = `test-${randomUUID()}`;
    const events: Record<string, number> = {};
    const a = await replica(relay.url, namespace, 'a', [], events);
    const d = { id: 'd:stall', limits: { rpm: 20 } };
    expect(await admitted(a, d, 2, 's')).toBe(2);
    relay.stall(1_600);
    // No reply within 100 ms: refused ('unknown') while the failure is not sustained (1 s)...
    const refused = await a.admit({ candidates: [d], tokens: 0, leaseId: 'late' });
    expect(refused).toMatchObject({ admitted: false, reason: 'unknown' });
    // ...then a declared local episode: served on the replica's share.
    await expect
      .poll(async () => (await a.admit({ candidates: [d], tokens: 0, leaseId: randomUUID() })).admitted, {
        timeout: 3_000,
        interval: 50,
      })
      .toBe(true);
    expect(a.mode()).toBe('local');
    const local = 1 + (await admitted(a, d, 3, 'l'));
    expect(local).toBe(4);
    await expect.poll(() => a.mode(), { timeout: 5_000, interval: 50 }).toBe('shared');
    // Redis had run every refused admission (it had room): each was given back when its late reply came.
    expect(events['admission_unknown']).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => events['admission_given_back'] ?? 0, { timeout: 3_000, interval: 50 })
      .toBe(events['admission_unknown']);
    // So the shared window holds the 2 from before and the 4 admitted locally, each once.
    const direct = createRedisStore(await connect(server.url, {}), { namespace });
    expect(await admitted(direct, d, 30, 'z')).toBe(20 - 2 - local);
    await a.close();
  });

  it('writes back what it admitted while an earlier write-back was failing, and charges what was in flight in full', async () => {
    const namespace = `test-${randomUUID()}`;
    const client = await connect(server.url);
    const accounts = createRedisAccounts(client, { namespace });
    await accounts.create({ id: 'key', blocked: false, createdAt: Date.now(), doc: '{}' }, 0);
    // The real store, with Redis made unreachable on demand for admissions and write-backs (the
    // heartbeat answers, so the replica tries to come back while its write-back still fails).
    const real = createRedisStore(client, { namespace, replyTimeoutMs: 100, replicaId: 'a' });
    const down = new StoreCallError("Stream isn't writeable", 'not_sent');
    let admitDown = true;
    let writeBackDown = true;
    let writeBacksTried = 0;
    const redis: RedisFleetStore = {
      ...real,
      admit: (request) => (admitDown ? Promise.reject(down) : real.admit(request)),
      writeBack: (id, work) => {
        writeBacksTried++;
        return writeBackDown ? Promise.reject(down) : real.writeBack(id, work);
      },
    };
    const a = createResilientStore({ redis, replicaId: 'a', heartbeatMs: 50 });
    await a.start();
    const d = { id: 'd:rewrite', limits: { rpm: 20 } };
    const serve = async (leaseId: string) => {
      const admission = await a.admit({
        candidates: [d],
        tokens: 0,
        leaseId,
        accounts: [{ id: 'key', cost: 0.5 }],
      });
      expect(admission.admitted).toBe(true);
      if (admission.admitted) await a.settle(admission.ticket, 0, 'success', 1);
    };
    await serve('before');
    expect(a.mode()).toBe('local');
    // One local request stays in flight across the write-backs: adopted, it settles through Redis.
    const flying = await a.admit({
      candidates: [d],
      tokens: 0,
      leaseId: 'flying',
      accounts: [{ id: 'key', cost: 0.5 }],
    });
    expect(flying.admitted).toBe(true);
    // The first write-back fails; two more requests are served locally before the next one works.
    await expect.poll(() => writeBacksTried, { timeout: 3_000, interval: 10 }).toBeGreaterThan(0);
    expect(a.mode()).toBe('local');
    await serve('between-1');
    await serve('between-2');
    admitDown = false;
    writeBackDown = false;
    await expect.poll(() => a.mode(), { timeout: 3_000, interval: 10 }).toBe('shared');
    if (flying.admitted) await a.settle(flying.ticket, 0, 'success', 2);
    // All four local requests are in Redis: their spend (the one in flight charged in full), and
    // their place in the window.
    await expect
      .poll(async () => (await accounts.get('key'))?.spend, { timeout: 3_000, interval: 50 })
      .toBe(5);
    expect(await admitted(real, d, 30, 'z')).toBe(20 - 4);
    await a.close();
  });
});
