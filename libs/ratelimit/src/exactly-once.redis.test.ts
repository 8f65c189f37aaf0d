import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type RedisRelay, startRedisRelay } from '../../../test/support/redis-relay.js';
import { admissionHeader } from './admit-batcher.js';
import { StoreCallError } from './call-outcome.js';
import { createKeyLayout } from './keys.js';
import { geometry } from './options.js';
import { createRedisAccounts } from './redis-accounts.js';
import { createRedisStore, type StoreEvent } from './redis-store.js';
import { admitScript } from './scripts/admit.js';
import { RESOLVE_LUA } from './scripts/small.js';
import { hex12 } from './scripts/window.js';

/**
 * Every admission and settlement is applied once, whatever the connection does: the Redis store
 * against a relay that holds replies back and cuts connections (test/support/redis-relay.ts).
 */
const CLIENT: RedisOptions = {
  commandTimeout: 1_000,
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
  retryStrategy: () => 50,
};

let relay: RedisRelay;
const clients: Redis[] = [];
beforeAll(async () => {
  const url = new URL(inject('redisUrl'));
  relay = await startRedisRelay({ host: url.hostname, port: Number(url.port) });
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await relay.close();
});

async function connect(url: string, options: RedisOptions = CLIENT): Promise<Redis> {
  const c = new Redis(url, options);
  c.on('error', () => {});
  clients.push(c);
  await new Promise((resolve) => c.once('ready', resolve));
  return c;
}

function setup() {
  const events: Partial<Record<StoreEvent, number>> = {};
  const onEvent = (e: StoreEvent, n: number) => {
    events[e] = (events[e] ?? 0) + n;
  };
  return { events, onEvent };
}

/** What a subject's window holds, read by admitting nothing-sized probes through a direct client. */
async function remaining(namespace: string, d: { id: string; limits: { rpm: number; tpm: number } }) {
  const store = createRedisStore(await connect(inject('redisUrl'), {}), { namespace });
  const a = await store.admit({ candidates: [d], tokens: 0, leaseId: randomUUID() });
  if (!a.admitted) throw new Error(a.reason);
  // Give the probe back: it must not count in what the next read sees.
  const tokens = a.states[0]?.tokens?.remaining ?? 0;
  const requests = (a.states[0]?.requests?.remaining ?? 0) + 1;
  return { requests, tokens };
}

describe('exactly once against a misbehaving connection', () => {
  it('an admission whose reply comes too late is refused to its caller and given back in Redis', async () => {
    const namespace = `test-${randomUUID()}`;
    const { events, onEvent } = setup();
    const c = await connect(relay.url);
    const accounts = createRedisAccounts(c, { namespace });
    await accounts.create({ id: 'key', blocked: false, createdAt: Date.now(), doc: '{}' }, 0);
    const store = createRedisStore(c, { namespace, replyTimeoutMs: 50, onEvent });
    const d = { id: 'd:late', limits: { rpm: 100, tpm: 10_000 } };
    relay.stall(300);
    const late = store.admit({
      candidates: [d],
      tokens: 500,
      leaseId: 'l',
      accounts: [{ id: 'key', cost: 1.5 }],
    });
    await expect(late).rejects.toBeInstanceOf(StoreCallError);
    await expect(late).rejects.toMatchObject({ outcome: 'unknown' });
    await expect.poll(() => events.admission_given_back ?? 0, { timeout: 3_000, interval: 25 }).toBe(1);
    await expect
      .poll(() => remaining(namespace, d), { timeout: 2_000, interval: 50 })
      .toEqual({
        requests: 100,
        tokens: 10_000,
      });
    expect((await accounts.get('key'))?.spend).toBe(0);
  });

  it('an admission on a connection cut before its reply is resolved through its record and given back', async () => {
    const namespace = `test-${randomUUID()}`;
    const { events, onEvent } = setup();
    const store = createRedisStore(await connect(relay.url), { namespace, replyTimeoutMs: 50, onEvent });
    const d = { id: 'd:cut', limits: { rpm: 100, tpm: 10_000 } };
    relay.stall(200);
    const cut = store.admit({ candidates: [d], tokens: 500, leaseId: 'l' });
    await expect(cut).rejects.toMatchObject({ outcome: 'unknown' });
    relay.dropAll(); // the held reply is lost with the connection
    await expect.poll(() => events.admission_given_back ?? 0, { timeout: 5_000, interval: 25 }).toBe(1);
    expect(await remaining(namespace, d)).toEqual({ requests: 100, tokens: 10_000 });
  });

  it('a settlement sent again after its connection was cut is applied once', async () => {
    const namespace = `test-${randomUUID()}`;
    const { events, onEvent } = setup();
    const store = createRedisStore(await connect(relay.url), { namespace, onEvent });
    const d = { id: 'd:settle', limits: { rpm: 100, tpm: 10_000 } };
    const first = await store.admit({ candidates: [d], tokens: 100, leaseId: 'a' });
    const second = await store.admit({ candidates: [d], tokens: 100, leaseId: 'b' });
    if (!first.admitted || !second.admitted) throw new Error('not admitted');
    relay.stall(1_000);
    // Redis runs it (seen from a direct connection); its reply is held, then lost with the connection.
    const settled = store.settle(second.ticket, 10, 'success');
    await expect
      .poll(async () => (await remaining(namespace, d)).tokens, { timeout: 2_000, interval: 20 })
      .toBe(10_000 - 110);
    relay.dropAll();
    await settled;
    expect(events.settlement_resent ?? 0).toBeGreaterThanOrEqual(1);
    // 100 + 10 used: the correction of -90 applied once, not twice (which would leave 20).
    expect((await remaining(namespace, d)).tokens).toBe(10_000 - 110);
  });

  it('an admission resolved as never run, then arriving after all, changes nothing', async () => {
    // The race the record's tombstone is for: a call still on a dead connection's way to Redis
    // when the replica, reconnected, asks what became of it.
    const namespace = `test-${randomUUID()}`;
    const c = await connect(inject('redisUrl'), {});
    c.defineCommand('resolveTest', { lua: RESOLVE_LUA });
    c.defineCommand('admitTest', { lua: admitScript(geometry({}), 15_000) });
    const call = c as unknown as Record<string, (...a: Array<string | number>) => Promise<unknown>>;
    const keys = createKeyLayout(namespace);
    const records = keys.records('replica', 1);
    const window = keys.subject('d:race').window;
    const numbers = admissionHeader(1, 1, 0, 0) + hex12(10) + hex12(0) + hex12(0);
    // admit.lua's first argument (and the call's field): one admission, ':', the call's id.
    expect(await call['resolveTest']!(1, records, '0001:call-1', 15_000)).toBeNull();
    const late = await call['admitTest']!(2, records, window, '0001:call-1', numbers, '', '');
    expect(late).toBe('');
    expect(await c.exists(window)).toBe(0);
    // The same admission under a fresh id is made.
    await call['admitTest']!(2, records, window, '0001:call-2', numbers, '', '');
    expect(await c.exists(window)).toBe(1);
  });
});
