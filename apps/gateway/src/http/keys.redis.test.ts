import { randomUUID } from 'node:crypto';
import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import {
  type AccountStore,
  createMemoryStore,
  createRedisAccounts,
  createRedisStore,
  type FleetStore,
  MemoryAccounts,
} from '@fleetgate/ratelimit';
import type { Hono } from 'hono';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { GatewayEnv } from '../proxy/context.js';
import { createGatewayApp } from '../server.js';

/**
 * The key admin API and key enforcement, in-process against a real fake upstream, once with the
 * in-memory store and once with Redis (every endpoint and every error on both).
 */
const MASTER = 'sk-admin-master';
let fake: FakeLlm;
let fakeBase = '';
const redis: Redis[] = [];

beforeAll(async () => {
  fake = createFakeLlm();
  fakeBase = (await fake.listen()).url;
});
afterAll(async () => {
  await fake.close();
  await Promise.all(redis.map((r) => r.quit()));
});

const backends: Array<[string, () => { store: FleetStore; accounts: AccountStore }]> = [
  [
    'memory',
    () => {
      const accounts = new MemoryAccounts();
      return { store: createMemoryStore({ accounts }), accounts };
    },
  ],
  [
    'redis',
    () => {
      const client = new Redis(inject('redisUrl'), { enableAutoPipelining: true });
      redis.push(client);
      const namespace = `keys-${randomUUID()}`;
      return {
        store: createRedisStore(client, { namespace }),
        accounts: createRedisAccounts(client, { namespace, pollMs: 50 }),
      };
    },
  ],
];

describe.each(backends)('virtual keys (%s)', (_name, backend) => {
  let app: Hono<GatewayEnv>;
  beforeAll(() => {
    const base = fakeBase;
    const config = parseConfig(
      'keys.yaml',
      `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: "${base}/v1", input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 }
  - model_name: embed
    litellm_params: { model: openai/embed, api_base: "${base}/v1" }
router_settings:
  model_group_alias: { gpt4: gpt-4o }
general_settings:
  master_key: ${MASTER}
`,
      {},
    );
    const { store, accounts } = backend();
    ({ app } = createGatewayApp({
      config,
      logger: createLogger('silent'),
      store,
      accounts,
      replicaId: 'test',
    }));
  });

  const admin = (path: string, body?: unknown, key = MASTER) =>
    app.request(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const generate = async (body: Record<string, unknown> = {}) => {
    const res = await admin('/key/generate', body);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown> & { key: string; token: string };
  };
  const chat = (key: string, model = 'gpt-4o', extra: Record<string, unknown> = {}) =>
    app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra }),
    });
  const errorOf = async (res: Response): Promise<Record<string, unknown> & { status: number }> => {
    const { error } = (await res.json()) as { error: Record<string, unknown> };
    // LiteLLM's shape: the status as a string; Fleetgate's stable name travels in a header.
    expect(error['code']).toBe(String(res.status));
    return { status: res.status, ...error, code: res.headers.get('x-fleetgate-error-code') };
  };

  describe('admin API', () => {
    it('generates a key: plaintext once, its SHA-256 as token, the fields as stored', async () => {
      const k = await generate({
        key_alias: `app-${randomUUID()}`,
        models: ['gpt-4o'],
        rpm_limit: 10,
        max_budget: 5,
        metadata: { team: 'a' },
      });
      expect(k.key).toMatch(/^sk-[\w-]{22}$/);
      expect(k.token).toMatch(/^[0-9a-f]{64}$/);
      expect(k.token_id).toBe(k.token);
      expect(k.key_name).toBe(`sk-...${k.key.slice(-4)}`);
      expect(k).toMatchObject({
        models: ['gpt-4o'],
        rpm_limit: 10,
        max_budget: 5,
        metadata: { team: 'a' },
        expires: null,
        spend: 0,
        blocked: false,
      });
    });

    it('takes a caller-chosen key and a duration', async () => {
      const key = `sk-mine-${randomUUID()}`;
      const k = await generate({ key, duration: '30d' });
      expect(k.key).toBe(key);
      const expires = Date.parse(k['expires'] as string);
      expect(expires - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
      expect(expires - Date.now()).toBeLessThan(30.1 * 86_400_000);
    });

    it('shows a key by key or hash, never the plaintext', async () => {
      const k = await generate({ key_alias: `info-${randomUUID()}` });
      for (const ref of [k.key, k.token]) {
        const body = (await (await admin(`/key/info?key=${ref}`)).json()) as {
          key: string;
          info: Record<string, unknown>;
        };
        expect(body.key).toBe(ref);
        expect(body.info).toMatchObject({ key_alias: k['key_alias'], spend: 0 });
        expect(JSON.stringify(body.info)).not.toContain(k.key);
      }
    });

    it('updates only the fields sent', async () => {
      const k = await generate({ rpm_limit: 5, metadata: { a: 1 }, models: ['gpt-4o'] });
      const res = await admin('/key/update', { key: k.key, tpm_limit: 1000, blocked: false });
      expect(res.status).toBe(200);
      const info = (
        (await (await admin(`/key/info?key=${k.token}`)).json()) as { info: Record<string, unknown> }
      ).info;
      expect(info).toMatchObject({ rpm_limit: 5, tpm_limit: 1000, metadata: { a: 1 }, models: ['gpt-4o'] });
    });

    it('lists hashes, paged, never plaintext; full objects on request', async () => {
      const mine = await Promise.all([generate(), generate(), generate()]);
      const page = (await (await admin('/key/list?page=1&size=2')).json()) as {
        keys: string[];
        total_count: number;
        current_page: number;
        total_pages: number;
      };
      expect(page.keys).toHaveLength(2);
      expect(page.keys.every((k) => /^[0-9a-f]{64}$/.test(k))).toBe(true);
      expect(page.total_count).toBeGreaterThanOrEqual(3);
      expect(page.total_pages).toBe(Math.ceil(page.total_count / 2));
      const full = (await (await admin('/key/list?size=100&return_full_object=true')).json()) as {
        keys: Array<{ token: string }>;
      };
      for (const k of mine) expect(full.keys.some((x) => x.token === k.token)).toBe(true);
      expect(JSON.stringify(full)).not.toContain(mine[0]!.key);
    });

    it('blocks and unblocks a key, and the key follows at once', async () => {
      const k = await generate();
      expect((await chat(k.key)).status).toBe(200);
      expect((await admin('/key/block', { key: k.token })).status).toBe(200);
      expect(await errorOf(await chat(k.key))).toMatchObject({ status: 401, type: 'auth_error' });
      expect((await admin('/key/unblock', { key: k.key })).status).toBe(200);
      expect((await chat(k.key)).status).toBe(200);
    });

    it('regenerates a key: a new secret for the same record, the old one dead at once', async () => {
      const k = await generate({ key_alias: `rot-${randomUUID()}`, max_budget: 7 });
      await chat(k.key);
      const res = await admin(`/key/${k.key}/regenerate`, {});
      const fresh = (await res.json()) as {
        key: string;
        token: string;
        key_alias: string;
        max_budget: number;
        spend: number;
      };
      expect(fresh.key).not.toBe(k.key);
      expect(fresh).toMatchObject({ key_alias: k['key_alias'], max_budget: 7 });
      expect(fresh.spend).toBeGreaterThan(0);
      expect((await chat(k.key)).status).toBe(401);
      expect((await chat(fresh.key)).status).toBe(200);
      const again = await admin('/key/regenerate', {
        key: fresh.token,
        new_key: `sk-chosen-${randomUUID()}`,
      });
      expect(again.status).toBe(200);
    });

    it('deletes keys by key, hash or alias, and they stop working', async () => {
      const a = await generate();
      const b = await generate({ key_alias: `del-${randomUUID()}` });
      const res = await admin('/key/delete', { keys: [a.token], key_aliases: [b['key_alias']] });
      expect(await res.json()).toEqual({ deleted_keys: [a.token, b['key_alias']] });
      expect((await chat(a.key)).status).toBe(401);
      expect((await chat(b.key)).status).toBe(401);
      expect(await errorOf(await admin('/key/delete', { keys: [a.key] }))).toMatchObject({ status: 404 });
    });
  });

  describe('admin API refuses bad input by name', () => {
    it.each([
      [{ surprise: 1 }, 'surprise', /unknown field "surprise"/],
      [{ rpm_limit: 'ten' }, 'rpm_limit', /rpm_limit/],
      [{ rpm_limit: 1.5 }, 'rpm_limit', /whole number/],
      [{ max_budget: -1 }, 'max_budget', /0 or more/],
      [{ models: 'gpt-4o' }, 'models', /list/],
      [{ duration: '1y' }, 'duration', /duration/],
      [{ budget_duration: '30min' }, 'budget_duration', /duration/],
      [{ key: 'no-prefix-key' }, 'key', /sk-/],
      [{ model_rpm_limit: { 'gpt-4o': 'x' } }, 'model_rpm_limit.gpt-4o', /number/],
    ])('%j → 400 naming %s', async (body, param, message) => {
      const error = await errorOf(await admin('/key/generate', body));
      expect(error).toMatchObject({ status: 400, param });
      expect(error['message']).toMatch(message);
    });

    it('refuses a duplicate alias, an unknown key, malformed JSON, and anyone but the master key', async () => {
      const alias = `dup-${randomUUID()}`;
      await generate({ key_alias: alias });
      expect(await errorOf(await admin('/key/generate', { key_alias: alias }))).toMatchObject({
        status: 400,
        param: 'key_alias',
      });
      expect(
        await errorOf(await admin('/key/update', { key: `sk-${'x'.repeat(20)}`, rpm_limit: 1 })),
      ).toMatchObject({ status: 404 });
      expect(await errorOf(await admin('/key/info'))).toMatchObject({ status: 400, param: 'key' });
      expect(await errorOf(await admin('/key/info?key=nonsense'))).toMatchObject({
        status: 400,
        param: 'key',
      });
      expect(await errorOf(await admin('/key/generate', '{bad'))).toMatchObject({
        status: 400,
        code: 'invalid_json',
      });
      expect(await errorOf(await admin('/key/delete', {}))).toMatchObject({ status: 400, param: 'keys' });
      expect(await errorOf(await admin('/key/list?size=1000'))).toMatchObject({ status: 400, param: 'size' });
      expect(await errorOf(await admin('/key/generate', {}, 'sk-not-the-master'))).toMatchObject({
        status: 401,
      });
      const user = await generate();
      expect(await errorOf(await admin('/key/generate', {}, user.key))).toMatchObject({ status: 401 });
    });
  });

  describe('enforcement', () => {
    it('refuses unknown, non-sk and missing keys with 401', async () => {
      expect(await errorOf(await chat(`sk-${randomUUID()}`))).toMatchObject({
        status: 401,
        type: 'auth_error',
      });
      expect(await errorOf(await chat('plain-token'))).toMatchObject({ status: 401 });
    });

    it('refuses a model the key may not use, aliases resolved', async () => {
      const k = await generate({ models: ['gpt-4o'] });
      expect((await chat(k.key, 'gpt4')).status).toBe(200);
      const denied = await errorOf(await chat(k.key, 'embed'));
      // LiteLLM's answer since its model-access rework: 403, type key_model_access_denied, code "403".
      expect(denied).toMatchObject({ status: 403, type: 'key_model_access_denied', param: 'model' });
      expect(denied['message']).toContain('key not allowed to access model');
      const wild = await generate({ models: ['gpt-*'] });
      expect((await chat(wild.key)).status).toBe(200);
      const list = (await (
        await app.request('/v1/models', { headers: { authorization: `Bearer ${k.key}` } })
      ).json()) as { data: Array<{ id: string }> };
      expect(list.data.map((m) => m.id)).toEqual(['gpt-4o', 'gpt4']);
    });

    it('answers an expired key with 400 expired_key', async () => {
      const k = await generate({ duration: '1s' });
      await expect.poll(async () => (await chat(k.key)).status, { timeout: 3_000, interval: 50 }).toBe(400);
      expect(await errorOf(await chat(k.key))).toMatchObject({
        status: 400,
        type: 'expired_key',
        code: 'expired_key',
      });
    });

    it('counts spend from usage and refuses with 400 budget_exceeded once it is used', async () => {
      const k = await generate({ max_budget: 0.00005 });
      const res = await chat(k.key);
      // The fake upstream counts 3 prompt tokens ("hello there") and 16 completion tokens.
      const cost = 3 * 0.000001 + 16 * 0.000002;
      expect(Number(res.headers.get('x-litellm-response-cost'))).toBeCloseTo(cost, 12);
      expect(Number(res.headers.get('x-litellm-key-spend'))).toBeCloseTo(cost, 12);
      expect(res.headers.get('x-litellm-key-max-budget')).toBe('0.00005');
      await chat(k.key);
      // Settlement runs after the response (off the critical path): spend reaches the real cost shortly.
      const spend = async () =>
        ((await (await admin(`/key/info?key=${k.token}`)).json()) as { info: { spend: number } }).info.spend;
      await expect.poll(spend, { timeout: 2_000, interval: 20 }).toBeCloseTo(2 * cost, 12);
      expect(await errorOf(await chat(k.key))).toMatchObject({
        status: 400,
        type: 'budget_exceeded',
        code: 'budget_exceeded',
      });
    });

    it("limits a key's requests with 429 and retry-after, and shows its per-model windows", async () => {
      const k = await generate({ rpm_limit: 2, model_rpm_limit: { 'gpt-4o': 5 } });
      const first = await chat(k.key);
      expect(first.headers.get('x-litellm-key-remaining-requests-gpt-4o')).toBe('4');
      expect(first.headers.get('x-ratelimit-remaining-requests')).toBe('1');
      expect(first.headers.get('x-litellm-key-rpm-limit')).toBe('2');
      expect((await chat(k.key)).status).toBe(200);
      const third = await chat(k.key);
      expect(await errorOf(third.clone())).toMatchObject({ status: 429, code: 'rate_limited' });
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('limits per model: one model full, the key free for others', async () => {
      const k = await generate({ model_rpm_limit: { 'gpt-4o': 1 } });
      expect((await chat(k.key)).status).toBe(200);
      expect((await chat(k.key)).status).toBe(429);
      const embed = await app.request('/v1/embeddings', {
        method: 'POST',
        headers: { authorization: `Bearer ${k.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'embed', input: 'x' }),
      });
      expect(embed.status).toBe(200);
    });

    it("caps a key's requests in flight", async () => {
      const k = await generate({ max_parallel_requests: 1 });
      fake.configure({ latencyMs: 300 });
      try {
        const [a, b] = await Promise.all([chat(k.key), chat(k.key)]);
        expect([a.status, b.status].sort()).toEqual([200, 429]);
      } finally {
        fake.configure({ latencyMs: 0 });
      }
    });
  });
});
