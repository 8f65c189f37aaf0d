import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { describeAccounts } from './accounts.conformance.test-suite.js';
import { describeFleetStore } from './conformance.test-suite.js';
import { createRedisAccounts } from './redis-accounts.js';
import { createRedisStore } from './redis-store.js';

const clients: Redis[] = [];
const client = () => {
  const c = new Redis(inject('redisUrl'), { enableAutoPipelining: true });
  clients.push(c);
  return c;
};
afterAll(async () => {
  await Promise.all(clients.map((c) => c.quit()));
});

const geo = { windowMs: 1_000, bucketMs: 100, leaseMs: 500 };

describeFleetStore('redis store', async () => ({
  store: createRedisStore(client(), { ...geo, namespace: `test-${randomUUID()}` }),
  advance: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ...geo,
  exactClock: false,
}));

describeAccounts('redis store', async () => {
  const namespace = `test-${randomUUID()}`;
  const c = client();
  return {
    accounts: createRedisAccounts(c, { namespace }),
    store: createRedisStore(c, { namespace }),
    now: Date.now,
  };
});

describe('redis store', () => {
  it('admits exactly rpm requests when many replicas race for the last slots', async () => {
    const namespace = `test-${randomUUID()}`;
    // Eight clients stand for eight replicas: separate connections, one shared namespace.
    const stores = Array.from({ length: 8 }, () => createRedisStore(client(), { namespace }));
    const d = { id: 'd:contended', limits: { rpm: 50 } };
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        stores[i % 8]!.admit({ candidates: [d], tokens: 0, leaseId: `l${i}` }),
      ),
    );
    expect(results.filter((r) => r.admitted)).toHaveLength(50);
  });

  it('gives every key it writes a TTL', async () => {
    const namespace = `test-${randomUUID()}`;
    const c = client();
    const store = createRedisStore(c, { namespace, ...geo });
    const d = { id: 'd:ttl', limits: { rpm: 10, tpm: 1000, maxParallel: 5 } };
    const gate = { id: 'k:ttl', limits: { rpm: 10, tpm: 1000, maxParallel: 5 } };
    const a = await store.admit({ candidates: [d], gates: [gate], tokens: 10, leaseId: 'l' });
    if (!a.admitted) throw new Error('not admitted');
    await store.settle(a.ticket, 40, 'failure');
    await store.coolDown(d.id, 5_000);
    await store.heartbeat('replica-1', 3_000);
    const keys = (await c.keys(`fleetgate:v1:{${namespace}}:*`)).sort();
    // Both subjects' windows (d's holding its outcomes and cooldown too), the replica set, the
    // records of the admission and settlement calls, and the epoch. The in-flight sets emptied
    // when the request settled, and Redis deletes empty sets.
    const names = keys.map((k) => k.split('}:')[1]!);
    expect(names.filter((n) => !n.startsWith('rec:'))).toEqual(['epoch', 'replicas', 'w:d:ttl', 'w:k:ttl']);
    // The calls' records: one hash per second of calls (the admission's and settlement's second).
    expect(names.filter((n) => n.startsWith('rec:')).length).toBeGreaterThanOrEqual(1);
    const ttls = await Promise.all(keys.map(async (k) => [k, await c.pttl(k)] as const));
    // The epoch is the one key kept for good: it stands for this Redis's data (one per namespace).
    for (const [key, ttl] of ttls)
      expect({ key, hasTtl: ttl > 0 }).toEqual({ key, hasTtl: !key.endsWith('}:epoch') });
    await store.close();
  });

  it('keeps a busy subject to one small hash: closed buckets are forgotten once they leave the span', async () => {
    const namespace = `test-${randomUUID()}`;
    const c = client();
    // Window 1 s in 100 ms buckets: the span is the open bucket and the 10 before it.
    const store = createRedisStore(c, { namespace, ...geo });
    const d = { id: 'd:busy', limits: { rpm: 1_000, tpm: 1_000_000 } };
    const key = store.keys.subject(d.id).window;
    let most = 0;
    const sent: number[] = [];
    for (let i = 0; i < 50; i++) {
      sent.push(Date.now());
      const a = await store.admit({ candidates: [d], tokens: 10, leaseId: `l${i}` });
      if (!a.admitted) throw new Error('not admitted');
      most = Math.max(most, await c.hlen(key));
      await new Promise((r) => setTimeout(r, 40));
    }
    // 50 admissions over ~2 s: the state plus at most 10 closed buckets at any time.
    expect(most).toBeGreaterThan(5);
    expect(most).toBeLessThanOrEqual(11);
    expect(await c.object('ENCODING', key)).toBe('listpack');
    // What is counted is what the span holds: at least the last window's admissions, at most the
    // last window and a bucket's (Redis's clock is this machine's; 50 ms of slack for scheduling).
    const now = Date.now();
    const a = await store.admit({ candidates: [d], tokens: 10, leaseId: 'last' });
    if (!a.admitted) throw new Error('not admitted');
    const counted = 1_000 - (a.states[0]?.requests?.remaining ?? 0) - 1;
    const within = (ms: number) => sent.filter((t) => t > now - ms).length;
    expect(counted).toBeGreaterThanOrEqual(within(1_000 - 50));
    expect(counted).toBeLessThanOrEqual(within(1_100 + 50));
    await store.close();
  });

  it('admits a tick of differently shaped requests in one call, each answered as if alone', async () => {
    const namespace = `test-${randomUUID()}`;
    const c = client();
    const store = createRedisStore(c, { namespace });
    const accounts = createRedisAccounts(c, { namespace });
    await accounts.create({ id: 'rich', blocked: false, createdAt: Date.now(), doc: '{}' }, 0);
    const plain = { id: 'd:plain', limits: { rpm: 100 } };
    const parallel = { id: 'd:parallel', limits: { maxParallel: 1 } };
    const full = { id: 'd:full', limits: { rpm: 1 } };
    const key = { id: 'k:gate', limits: { rpm: 2 } };
    await store.admit({ candidates: [full], tokens: 0, leaseId: 'fill' });
    // Same tick: one script call carrying different key counts (accounts, gates, lease sets).
    const [a, b, c2, d, e, f] = await Promise.all([
      store.admit({
        candidates: [plain],
        gates: [key],
        tokens: 0,
        leaseId: 'a',
        accounts: [{ id: 'rich', cost: 1 }],
      }),
      store.admit({ candidates: [parallel], tokens: 0, leaseId: 'b' }),
      store.admit({ candidates: [parallel], tokens: 0, leaseId: 'c' }),
      store.admit({ candidates: [full, plain], gates: [key], tokens: 0, leaseId: 'd' }),
      store.admit({ candidates: [plain], gates: [key], tokens: 0, leaseId: 'e' }),
      store.admit({ candidates: [plain], tokens: 0, leaseId: 'f', accounts: [{ id: 'nobody', cost: 1 }] }),
    ]);
    expect(a).toMatchObject({ admitted: true, index: 0, spend: 1 });
    expect(b).toMatchObject({ admitted: true, index: 0 });
    expect(c2).toMatchObject({ admitted: false, reason: 'no_capacity' });
    expect(d).toMatchObject({ admitted: true, index: 1 });
    expect(d.admitted && d.states.map((x) => x.requests?.remaining)).toEqual([98, 0]);
    expect(e).toMatchObject({ admitted: false, reason: 'gate_rpm', gateIndex: 0 });
    expect(f).toMatchObject({ admitted: false, reason: 'account_missing' });
    await store.close();
  });

  it('counts every admission of a tick that shares windows and accounts, reads them once and leaves them counted', async () => {
    const namespace = `test-${randomUUID()}`;
    const c = client();
    const store = createRedisStore(c, { namespace });
    const accounts = createRedisAccounts(c, { namespace });
    await accounts.create({ id: 'team', blocked: false, createdAt: Date.now(), doc: '{}' }, 0);
    await accounts.create(
      { id: 'capped', blocked: false, createdAt: Date.now(), maxBudget: 3, doc: '{}' },
      0,
    );
    const a = { id: 'd:a', limits: { rpm: 10, tpm: 1_000 } };
    const b = { id: 'd:b', limits: { rpm: 10 } };
    const gate = { id: 'k:shared', limits: { rpm: 15 } };
    const pick = { by: 'usage', tiers: [0, 0] } as const;
    // One tick, one script call: each admission ranks by the windows as the ones before it left them,
    // and is charged to the account the ones before it charged.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        store.admit({
          candidates: [a, b],
          gates: [gate],
          tokens: 10,
          leaseId: `l${i}`,
          pick,
          accounts: [{ id: 'team', cost: 2 }],
        }),
      ),
    );
    const served = results.flatMap((r) => (r.admitted ? [r] : []));
    expect(served).toHaveLength(15);
    expect(served.filter((r) => r.index === 0)).toHaveLength(8);
    expect(results.slice(15).every((r) => !r.admitted && r.reason === 'gate_rpm')).toBe(true);
    // Remaining counts fall by one with each admission: the gate's from 14 to 0; the spend climbs.
    expect(served.map((r) => r.states[1]?.requests?.remaining)).toEqual(
      Array.from({ length: 15 }, (_, i) => 14 - i),
    );
    expect(served.map((r) => r.spend)).toEqual(Array.from({ length: 15 }, (_, i) => 2 * (i + 1)));
    expect((await accounts.get('team'))?.spend).toBe(30);
    // A budget that binds inside the tick: spend 0, 1, 2 may spend; the fourth finds 3 ≥ 3.
    const capped = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        store.admit({
          candidates: [{ id: 'd:c', limits: {} }],
          tokens: 0,
          leaseId: `c${i}`,
          accounts: [{ id: 'capped', cost: 1 }],
        }),
      ),
    );
    expect(capped.map((r) => (r.admitted ? 'ok' : r.reason))).toEqual([
      'ok',
      'ok',
      'ok',
      'account_budget',
      'account_budget',
    ]);
    expect((await accounts.get('capped'))?.spend).toBe(3);
    // What the call left in Redis, seen by a later call from another replica: a holds 8 requests and
    // 80 tokens, b 7 requests; the gate is full.
    const other = createRedisStore(client(), { namespace });
    const later = await other.admit({ candidates: [a], tokens: 10, leaseId: 'later' });
    expect(later).toMatchObject({ admitted: true });
    expect(later.admitted && later.states[0]).toMatchObject({
      requests: { remaining: 1 },
      tokens: { remaining: 910 },
    });
    const onB = await other.admit({ candidates: [b], tokens: 0, leaseId: 'onB' });
    expect(onB.admitted && onB.states[0]?.requests?.remaining).toBe(2);
    expect(await other.admit({ candidates: [b], gates: [gate], tokens: 0, leaseId: 'g' })).toMatchObject({
      admitted: false,
      reason: 'gate_rpm',
    });
    await Promise.all([store.close(), other.close()]);
  });

  it('counts the leases a tick adds to an in-flight set, ranks least-busy by them and leaves them held', async () => {
    const namespace = `test-${randomUUID()}`;
    const store = createRedisStore(client(), { namespace });
    const a = { id: 'd:busy-a', limits: { maxParallel: 5 } };
    const b = { id: 'd:busy-b', limits: { maxParallel: 5 } };
    const pick = { by: 'in_flight', tiers: [0, 0] } as const;
    // One call: each admission sees the leases the ones before it took, so they alternate, and the
    // eleventh finds both sets full.
    const results = await Promise.all(
      Array.from({ length: 11 }, (_, i) =>
        store.admit({ candidates: [a, b], tokens: 0, leaseId: `l${i}`, pick }),
      ),
    );
    const served = results.flatMap((r) => (r.admitted ? [r] : []));
    expect(served).toHaveLength(10);
    expect(served.filter((r) => r.index === 0)).toHaveLength(5);
    expect(results[10]).toMatchObject({ admitted: false, reason: 'no_capacity' });
    // Held in Redis after the call: another replica finds both full, until two are settled.
    const other = createRedisStore(client(), { namespace });
    expect(await other.admit({ candidates: [a, b], tokens: 0, leaseId: 'x', pick })).toMatchObject({
      admitted: false,
    });
    const onA = served.find((r) => r.index === 0)!;
    const onB = served.find((r) => r.index === 1)!;
    await Promise.all([store.settle(onA.ticket, 0, 'success'), store.settle(onB.ticket, 0, 'success')]);
    const next = await Promise.all(
      ['y', 'z', 'w'].map((leaseId) => other.admit({ candidates: [a, b], tokens: 0, leaseId, pick })),
    );
    expect(next.map((r) => (r.admitted ? r.index : r.reason))).toEqual([0, 1, 'no_capacity']);
    await Promise.all([store.close(), other.close()]);
  });

  it('sums the settlements of one tick: tokens, failures, leases and spend come out as if settled one by one', async () => {
    const namespace = `test-${randomUUID()}`;
    const c = client();
    const store = createRedisStore(c, { namespace });
    const accounts = createRedisAccounts(c, { namespace });
    await accounts.create({ id: 'acct', blocked: false, createdAt: Date.now(), doc: '{}' }, 0);
    const d = { id: 'd:batch', limits: { tpm: 100_000, maxParallel: 10 } };
    const k = { id: 'k:batch', limits: { tpm: 100_000 } };
    const tickets = [];
    for (let i = 0; i < 10; i++) {
      const a = await store.admit({
        candidates: [d],
        gates: [k],
        tokens: 1_000,
        leaseId: `l${i}`,
        accounts: [{ id: 'acct', cost: 0.5 }],
      });
      if (!a.admitted) throw new Error(a.reason);
      tickets.push(a.ticket);
    }
    expect((await accounts.get('acct'))?.spend).toBeCloseTo(5);
    // All ten in one tick: one script call. Seven used 400 tokens and cost 0.2; three failed.
    const results = await Promise.all(
      tickets.map((t, i) => store.settle(t, 400, i < 7 ? 'success' : 'failure', 0.2)),
    );
    expect(results.slice(0, 7)).toEqual(Array(7).fill(undefined));
    // Each failure answers with the minute's counts after the batch: 3 failures of 10 calls.
    for (const r of results.slice(7)) expect(r).toEqual({ failures: 3, total: 10 });
    expect((await accounts.get('acct'))?.spend).toBeCloseTo(2);
    const next = await store.admit({ candidates: [d], gates: [k], tokens: 0, leaseId: 'after' });
    if (!next.admitted) throw new Error(next.reason);
    // 10 × 400 tokens remain counted in both windows, and every lease was released.
    expect(next.states[0]?.tokens?.remaining).toBe(100_000 - 4_000);
    expect(next.states[1]?.tokens?.remaining).toBe(100_000 - 4_000);
    expect(await c.zcard(store.keys.subject(d.id).inflight)).toBe(1);
    await store.close();
  });

  it('keeps failures for their minute in a hash about to expire, and shrugs off usage that is not a number', async () => {
    const namespace = `test-${randomUUID()}`;
    const c = client();
    const store = createRedisStore(c, { namespace });
    const d = { id: 'd:idle', limits: { tpm: 10_000 } };
    const key = store.keys.subject(d.id).window;
    const first = await store.admit({ candidates: [d], tokens: 100, leaseId: 'a' });
    const second = await store.admit({ candidates: [d], tokens: 100, leaseId: 'b' });
    if (!first.admitted || !second.admitted) throw new Error('not admitted');
    // The last admission was long ago: the hash has a moment left to live.
    await c.pexpire(key, 1_500);
    expect(await store.settle(first.ticket, 100, 'failure')).toMatchObject({ failures: 1 });
    expect(await c.pttl(key)).toBeGreaterThan(60_000);
    // NaN usage and cost leave the reservation as it was instead of failing the batch.
    expect(await store.settle(second.ticket, Number.NaN, 'failure', Number.NaN)).toMatchObject({
      failures: 2,
    });
    const next = await store.admit({ candidates: [d], tokens: 0, leaseId: 'c' });
    if (!next.admitted) throw new Error(next.reason);
    expect(next.states[0]?.tokens?.remaining).toBe(10_000 - 200);
    await store.close();
  });

  it("releases a dead replica's in-flight slots when its lease runs out, and renews live ones", async () => {
    const namespace = `test-${randomUUID()}`;
    const alive = createRedisStore(client(), { namespace, leaseMs: 600 });
    const dead = createRedisStore(client(), { namespace, leaseMs: 600 });
    const d = { id: 'd:lease', limits: { maxParallel: 2 } };
    expect((await alive.admit({ candidates: [d], tokens: 0, leaseId: 'live' })).admitted).toBe(true);
    expect((await dead.admit({ candidates: [d], tokens: 0, leaseId: 'dead' })).admitted).toBe(true);
    await dead.close(); // stops renewing, as a killed process would
    const closedAt = Date.now();
    expect((await alive.admit({ candidates: [d], tokens: 0, leaseId: 'x' })).admitted).toBe(false);
    let n = 0;
    await expect
      .poll(async () => (await alive.admit({ candidates: [d], tokens: 0, leaseId: `y${n++}` })).admitted, {
        timeout: 3_000,
        interval: 50,
      })
      .toBe(true);
    // The dead lease expired (not before its 600 ms); the live one was renewed and still holds its slot.
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(400);
    expect((await alive.admit({ candidates: [d], tokens: 0, leaseId: 'z' })).admitted).toBe(false);
    await alive.close();
  });

  it('renews a lease only while its request shows progress within its hold time', async () => {
    const namespace = `test-${randomUUID()}`;
    const store = createRedisStore(client(), { namespace, leaseMs: 600 });
    const d = { id: 'd:hold', limits: { maxParallel: 2 } };
    const stuck = await store.admit({ candidates: [d], tokens: 0, leaseId: 'stuck', holdMs: 300 });
    const streaming = await store.admit({ candidates: [d], tokens: 0, leaseId: 'streaming', holdMs: 300 });
    if (!stuck.admitted || !streaming.admitted) throw new Error('not admitted');
    // The stream makes progress every 100 ms; the stuck request never does and never settles.
    const chunks = setInterval(() => store.touch(streaming.ticket), 100);
    const started = Date.now();
    let n = 0;
    await expect
      .poll(async () => (await store.admit({ candidates: [d], tokens: 0, leaseId: `p${n++}` })).admitted, {
        timeout: 3_000,
        interval: 50,
      })
      .toBe(true);
    // The stuck one's slot came back one lease after its hold time ran out; the stream kept its slot.
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'q' })).admitted).toBe(false);
    clearInterval(chunks);
    await store.close();
  });

  it('counts live replicas from heartbeats', async () => {
    const store = createRedisStore(client(), { namespace: `test-${randomUUID()}` });
    const live = async (id: string) => (await store.heartbeat(id, 300)).replicas;
    expect(await live('a')).toBe(1);
    expect(await live('b')).toBe(2);
    expect(await live('a')).toBe(2);
    await store.leave('b');
    expect(await live('a')).toBe(1);
    // 'a' stops beating: it drops out once its 300 ms run out.
    await expect.poll(() => live('c'), { timeout: 2_000, interval: 50 }).toBe(1);
  });

  it('survives SCRIPT FLUSH (EVALSHA falls back to EVAL)', async () => {
    const c = client();
    const store = createRedisStore(c, { namespace: `test-${randomUUID()}` });
    const d = { id: 'd:flush', limits: { rpm: 5 } };
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'a' })).admitted).toBe(true);
    await c.script('FLUSH');
    expect((await store.admit({ candidates: [d], tokens: 0, leaseId: 'b' })).admitted).toBe(true);
  });

  it('keeps every key of a namespace in one cluster slot', () => {
    const store = createRedisStore(client(), { namespace: 'fleet-a' });
    const keys = [
      ...Object.values(store.keys.subject('d:x')),
      ...Object.values(store.keys.subject('k:y')),
      store.keys.replicas,
    ];
    expect(new Set(keys.map((k) => k.match(/\{[^}]+\}/)?.[0]))).toEqual(new Set(['{fleet-a}']));
  });
});

describe('redis accounts written before the packed state', () => {
  it('are read, admitted, charged and settled as before, converted on first touch', async () => {
    const c = client();
    const namespace = `test-${randomUUID()}`;
    const accounts = createRedisAccounts(c, { namespace });
    const store = createRedisStore(c, { namespace });
    const key = `fleetgate:v1:{${namespace}}:account:old`;
    // A record as the previous build wrote it: every enforced number a text field.
    await c.hset(key, {
      id: 'old',
      spend: '0.25',
      blocked: '0',
      max_budget: '1',
      reset_at: String(Date.now() + 86_400_000),
      every_ms: '86400000',
      created: '1',
      doc: '{}',
    });
    await c.zadd(`fleetgate:v1:{${namespace}}:accounts`, 1, 'old');
    expect(await accounts.get('old')).toMatchObject({ spend: 0.25, maxBudget: 1, blocked: false });
    const admitted = await store.admit({
      candidates: [{ id: 'd:x', limits: {} }],
      tokens: 0,
      leaseId: 'l1',
      accounts: [{ id: 'old', cost: 0.5 }],
    });
    if (!admitted.admitted) throw new Error(admitted.reason);
    expect(admitted.spend).toBeCloseTo(0.75);
    expect(await c.hget(key, 'spend')).toBeNull();
    expect(await c.hexists(key, 'a')).toBe(1);
    await store.settle(admitted.ticket, 0, 'success', 0.1);
    await expect.poll(async () => (await accounts.get('old'))?.spend).toBeCloseTo(0.35);
    expect(await accounts.get('old')).toMatchObject({ maxBudget: 1, budget: { every: { ms: 86_400_000 } } });
    await store.close();
  });
});

describe('redis accounts watchers', () => {
  it('hear of a change made through this process when the write returns, not a poll later', async () => {
    const c = client();
    const accounts = createRedisAccounts(c, { namespace: `test-${randomUUID()}`, pollMs: 60_000 });
    const heard: string[] = [];
    const stop = accounts.collection('teams').watch((id) => heard.push(id));
    await accounts.create({ id: 'k', blocked: false, createdAt: 1, doc: '{}' }, 0);
    expect(heard).toEqual(['*']);
    await accounts.update({ id: 'k', blocked: true, createdAt: 1, doc: '{}' });
    await accounts.delete(['k']);
    expect(heard).toHaveLength(3);
    stop();
    await accounts.create({ id: 'k2', blocked: false, createdAt: 1, doc: '{}' }, 0);
    expect(heard).toHaveLength(3);
  });
});
