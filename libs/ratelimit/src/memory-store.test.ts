import { describe, expect, it } from 'vitest';
import { describeAccounts } from './accounts.conformance.test-suite.js';
import { describeFleetStore } from './conformance.test-suite.js';
import { MemoryAccounts } from './memory-accounts.js';
import { createMemoryStore } from './memory-store.js';

describeFleetStore('memory store', async () => {
  let now = 1_800_000_000_000;
  const geo = { windowMs: 60_000, bucketMs: 500, leaseMs: 30_000 };
  return {
    store: createMemoryStore({ ...geo, now: () => now }),
    advance: async (ms) => {
      now += ms;
    },
    ...geo,
    exactClock: true,
  };
});

describeAccounts('memory store', async () => {
  const accounts = new MemoryAccounts();
  return { accounts, store: createMemoryStore({ accounts }), now: Date.now };
});

describe('memory store on a fake clock', () => {
  it('holds an exact rolling window: the rpm+1-th request is admitted the millisecond the first leaves', async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now });
    const d = { id: 'd', limits: { rpm: 2 } };
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'a' })).admitted).toBe(true);
    now += 10_000;
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' })).admitted).toBe(true);
    now += 49_999;
    const blocked = await store.admit({ candidates: [d], tokens: 0, leaseId: 'c' });
    expect(blocked).toMatchObject({ admitted: false, retryAfterMs: 1 });
    now += 1;
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'c' })).admitted).toBe(true);
  });

  it('lets in-flight leases expire when nobody settles them', async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now, leaseMs: 1_000 });
    const d = { id: 'd', limits: { maxParallel: 1 } };
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'a' })).admitted).toBe(true);
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' })).admitted).toBe(false);
    now += 1_000;
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' })).admitted).toBe(true);
  });

  it('forgets idle subjects, so memory does not grow with every key ever seen', async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now });
    for (let i = 0; i < 1000; i++)
      await store.admit({ candidates: [{ id: `s${i}`, limits: { rpm: 1 } }], tokens: 0, leaseId: `l${i}` });
    now += 200_000;
    await store.admit({ candidates: [{ id: 'fresh', limits: {} }], tokens: 0, leaseId: 'x' });
    // A subject admitted again after the sweep starts from an empty window.
    const again = await store.admit({
      candidates: [{ id: 's1', limits: { rpm: 1 } }],
      tokens: 0,
      leaseId: 'y',
    });
    expect(again.admitted).toBe(true);
  });
});
