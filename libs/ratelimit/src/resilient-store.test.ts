import { describe, expect, it } from 'vitest';
import { StoreCallError } from './call-outcome.js';
import type { KeyLayout } from './keys.js';
import { createMemoryStore } from './memory-store.js';
import type { RedisFleetStore, WriteBack } from './redis-store.js';
import { createResilientStore } from './resilient-store.js';
import type { StoreMode } from './types.js';

/**
 * A Redis store stand-in that fails on demand (the real one is exercised in *.redis.test.ts), and
 * records what is written back to it.
 */
function flakyRedis(fail: () => Error | undefined, writes: WriteBack[] = []): RedisFleetStore {
  const inner = createMemoryStore();
  const guard = <T>(fn: () => Promise<T>) => {
    const error = fail();
    return error ? Promise.reject(error) : fn();
  };
  return {
    admit: (r) => guard(() => inner.admit(r)),
    settle: (t, n, o, c) => inner.settle(t, n, o, c),
    touch: () => {},
    coolDown: (id, ms) => guard(() => inner.coolDown(id, ms)),
    cooldowns: (ids) => guard(() => inner.cooldowns(ids)),
    heartbeat: () => guard(() => Promise.resolve({ replicas: 2, epoch: 'e1' })),
    leave: () => guard(() => Promise.resolve()),
    writeBack: (_id, work) =>
      guard(() => {
        writes.push(work);
        return Promise.resolve(work.spend.map(() => 0));
      }),
    adopt: () => {},
    dropResends: () => {},
    now: Date.now,
    mode: () => 'shared',
    close: () => Promise.resolve(),
    keys: {} as KeyLayout,
  };
}

const d = { id: 'd', limits: { rpm: 100 } };
const late = () => new StoreCallError('no reply from Redis within 100 ms', 'unknown');
const down = () => new Error("Stream isn't writeable and enableOfflineQueue options is false");

describe('resilient store', () => {
  it('refuses an admission whose outcome is unknown, without serving it locally or flipping the replica', async () => {
    let error: Error | undefined;
    const changes: StoreMode[] = [];
    const store = createResilientStore({
      redis: flakyRedis(() => error),
      replicaId: 'r',
      onModeChange: (mode) => changes.push(mode),
    });
    error = late();
    expect(await store.admit({ candidates: [d], tokens: 0, leaseId: '1' })).toMatchObject({
      admitted: false,
      reason: 'unknown',
    });
    expect(store.mode()).toBe('shared');
    error = undefined;
    expect(await store.admit({ candidates: [d], tokens: 0, leaseId: '2' })).toMatchObject({
      ticket: { mode: 'shared' },
    });
    expect(changes).toEqual([]);
    await store.close();
  });

  it('declares a local episode once Redis has failed every call for localAfterMs', async () => {
    let error: Error | undefined = late();
    const store = createResilientStore({
      redis: flakyRedis(() => error),
      replicaId: 'r',
      localAfterMs: 200,
    });
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: '1' })).admitted).toBe(false);
    await expect
      .poll(async () => (await store.admit({ candidates: [d], tokens: 0, leaseId: 'x' })).admitted, {
        timeout: 2_000,
        interval: 50,
      })
      .toBe(true);
    expect(store.mode()).toBe('local');
    expect(store.episode()?.reason).toMatch(/no reply from redis for \d+ ms/);
    error = undefined;
    await expect.poll(() => store.mode(), { timeout: 2_000, interval: 50 }).toBe('shared');
    expect(store.episode()).toBeUndefined();
    await store.close();
  });

  it('declares it at once when a call could not be sent, and serves that call locally', async () => {
    const store = createResilientStore({
      redis: flakyRedis(down),
      replicaId: 'r',
    });
    const a = await store.admit({ candidates: [d], tokens: 0, leaseId: '1' });
    expect(a).toMatchObject({ admitted: true, ticket: { mode: 'local' } });
    expect(store.episode()?.reason).toMatch(/connection down/);
    await store.close();
  });

  it("limits locally on the replica's share minus what it admitted through Redis in the window", async () => {
    let error: Error | undefined;
    const store = createResilientStore({ redis: flakyRedis(() => error), replicaId: 'r' });
    const limited = { id: 'd:share', limits: { rpm: 10 } };
    await store.start(); // two live replicas: a share of 5
    for (let i = 0; i < 3; i++)
      expect((await store.admit({ candidates: [limited], tokens: 0, leaseId: `s${i}` })).admitted).toBe(true);
    error = down();
    let local = 0;
    for (let i = 0; i < 6; i++)
      if ((await store.admit({ candidates: [limited], tokens: 0, leaseId: `l${i}` })).admitted) local++;
    expect(local).toBe(2);
    await store.close();
  });

  it('writes back the requests, tokens, leases and spend it admitted on its own when Redis answers again', async () => {
    let error: Error | undefined = down();
    const writes: WriteBack[] = [];
    const store = createResilientStore({ redis: flakyRedis(() => error, writes), replicaId: 'r' });
    const subject = { id: 'd:wb', limits: { rpm: 100, tpm: 10_000, maxParallel: 10 } };
    const admit = (leaseId: string) =>
      store.admit({ candidates: [subject], tokens: 50, leaseId, accounts: [{ id: 'key', cost: 0.5 }] });
    const settled = await admit('a');
    const flying = await admit('b');
    if (!settled.admitted || !flying.admitted) throw new Error('not admitted');
    await store.settle(settled.ticket, 20, 'success', 0.2);
    error = undefined;
    await expect.poll(() => store.mode(), { timeout: 2_000, interval: 50 }).toBe('shared');
    expect(writes).toHaveLength(1);
    const [work] = writes;
    // Two requests; 20 tokens used by the one that ended, 50 reserved by the one still running.
    expect(work?.windows).toEqual([
      { subjectId: 'd:wb', buckets: [{ bucket: expect.any(Number), requests: 2, tokens: 70 }] },
    ]);
    expect(work?.leases).toEqual([{ subjectId: 'd:wb', leaseIds: ['b'] }]);
    // Spend of the settled one; the one still running is charged when it settles (through Redis).
    expect(work?.spend).toEqual([{ accountId: 'key', amount: 0.2 }]);
    await store.close();
  });
});

describe('resilient store passes everything through', () => {
  it('hands settle its actual cost (spend settles to usage, not the estimate)', async () => {
    const seen: Array<number | undefined> = [];
    const redis = flakyRedis(() => undefined);
    const spy: RedisFleetStore = {
      ...redis,
      settle: (t, n, o, cost) => {
        seen.push(cost);
        return redis.settle(t, n, o, cost);
      },
    };
    const store = createResilientStore({ redis: spy, replicaId: 'r' });
    const a = await store.admit({ candidates: [d], tokens: 0, leaseId: '1' });
    if (!a.admitted) throw new Error(a.reason);
    await store.settle(a.ticket, 10, 'success', 0.25);
    expect(seen).toEqual([0.25]);
    await store.close();
  });
});
