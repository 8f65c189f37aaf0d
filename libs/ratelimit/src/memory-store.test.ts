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
  it('counts in buckets: a slot frees the moment its bucket leaves the counted span, never earlier', async () => {
    // Window 60 s, bucket 500 ms: the span is the current bucket and the 120 before it.
    let now = 1_000_000; // a bucket boundary
    const store = createMemoryStore({ now: () => now });
    const d = { id: 'd', limits: { rpm: 2 } };
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'a' })).admitted).toBe(true);
    now += 10_000;
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' })).admitted).toBe(true);
    // The first admission's bucket [1,000,000, 1,000,500) is counted until 1,060,500.
    now = 1_060_499;
    const blocked = await store.admit({ candidates: [d], tokens: 0, leaseId: 'c' });
    expect(blocked).toMatchObject({ admitted: false, retryAfterMs: 1 });
    now += 1;
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'c' })).admitted).toBe(true);
    // Two admissions 60.5 s apart at most 2 in any 60 s: the window holds b (at 1,010,000) and c.
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'e' })).admitted).toBe(false);
  });

  it('counts failures that arrive in a new minute as calls of that minute too', async () => {
    let now = 1_800_000_000_000; // a minute boundary
    const store = createMemoryStore({ now: () => now });
    const d = { id: 'd', limits: {} };
    const a = await store.admit({ candidates: [d], tokens: 0, leaseId: 'a' });
    const b = await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' });
    if (!a.admitted || !b.admitted) throw new Error('not admitted');
    now += 61_000;
    // As settle.lua: never more failures than calls in a minute.
    expect(await store.settle(a.ticket, 0, 'failure')).toEqual({ failures: 1, total: 1 });
    expect(await store.settle(b.ticket, 0, 'failure')).toEqual({ failures: 2, total: 2 });
  });

  it('keeps a long request in its parallel slot until it settles, however long it runs', async () => {
    let now = 1_000_000;
    const store = createMemoryStore({ now: () => now, leaseMs: 1_000 });
    const d = { id: 'd', limits: { maxParallel: 1 } };
    const a = await store.admit({ candidates: [d], tokens: 0, leaseId: 'a' });
    if (!a.admitted) throw new Error('not admitted');
    now += 600_000; // a ten-minute stream: far past the lease, which guards only dead replicas
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' })).admitted).toBe(false);
    await store.settle(a.ticket, 0, 'success');
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
