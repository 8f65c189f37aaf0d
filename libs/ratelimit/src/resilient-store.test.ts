import { describe, expect, it } from 'vitest';
import type { KeyLayout } from './keys.js';
import { createMemoryStore } from './memory-store.js';
import type { RedisFleetStore } from './redis-store.js';
import { createResilientStore } from './resilient-store.js';
import type { StoreMode } from './types.js';

/** A Redis store stand-in that fails on demand (the real one is exercised in *.redis.test.ts). */
function flakyRedis(fail: () => Error | undefined): RedisFleetStore {
  const inner = createMemoryStore();
  const guard = <T>(fn: () => Promise<T>) => {
    const error = fail();
    return error ? Promise.reject(error) : fn();
  };
  return {
    admit: (r) => guard(() => inner.admit(r)),
    settle: (t, n, o) => guard(() => inner.settle(t, n, o)),
    coolDown: (id, ms) => guard(() => inner.coolDown(id, ms)),
    cooldowns: (ids) => guard(() => inner.cooldowns(ids)),
    heartbeat: () => guard(() => Promise.resolve(1)),
    leave: () => guard(() => Promise.resolve()),
    mode: () => 'shared',
    close: () => Promise.resolve(),
    keys: {} as KeyLayout,
  };
}

const d = { id: 'd', limits: { rpm: 100 } };

describe('resilient store', () => {
  it('serves a timed-out call locally without flipping the replica; three in a row flip it', async () => {
    let error: Error | undefined;
    const changes: StoreMode[] = [];
    const store = createResilientStore({
      redis: flakyRedis(() => error),
      probe: () => (error ? Promise.reject(error) : Promise.resolve()),
      replicaId: 'r',
      onModeChange: (mode) => changes.push(mode),
    });
    error = new Error('Command timed out');
    const a = await store.admit({ candidates: [d], tokens: 0, leaseId: '1' });
    expect(a).toMatchObject({ admitted: true, ticket: { mode: 'local' } });
    expect(store.mode()).toBe('shared');
    error = undefined;
    expect(await store.admit({ candidates: [d], tokens: 0, leaseId: '2' })).toMatchObject({
      ticket: { mode: 'shared' },
    });
    error = new Error('Command timed out');
    for (let i = 0; i < 3; i++) await store.admit({ candidates: [d], tokens: 0, leaseId: `x${i}` });
    expect(store.mode()).toBe('local');
    expect(changes).toEqual(['local']);
    await store.close();
  });

  it('switches at once when the connection is gone', async () => {
    const store = createResilientStore({
      redis: flakyRedis(() => new Error("Stream isn't writeable and enableOfflineQueue options is false")),
      probe: () => Promise.reject(new Error('down')),
      replicaId: 'r',
    });
    await store.admit({ candidates: [d], tokens: 0, leaseId: '1' });
    expect(store.mode()).toBe('local');
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
    const store = createResilientStore({ redis: spy, probe: () => Promise.resolve(), replicaId: 'r' });
    const a = await store.admit({ candidates: [d], tokens: 0, leaseId: '1' });
    if (!a.admitted) throw new Error(a.reason);
    await store.settle(a.ticket, 10, 'success', 0.25);
    expect(seen).toEqual([0.25]);
    await store.close();
  });
});
