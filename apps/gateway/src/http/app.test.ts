import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { createMemoryStore } from '@fleetgate/ratelimit';
import type { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { GatewayEnv } from '../proxy/context.js';
import { createGatewayApp } from '../server.js';

/**
 * The app in-process (`app.request()`), in front of a real fake upstream on a loopback port, so
 * every assertion about forwarding is an assertion about what the upstream received.
 */
let fake: FakeLlm;
let app: Hono<GatewayEnv>;
const MASTER = 'sk-test-master';

beforeAll(async () => {
  fake = createFakeLlm();
  const { url } = await fake.listen();
  const config = parseConfig(
    'app-test.yaml',
    `
model_list:
  - model_name: chat
    litellm_params: { model: openai/upstream-chat, api_base: "${url}/v1", api_key: sk-upstream-chat }
  - model_name: pair
    litellm_params: { model: openai/pair-model, api_base: "${url}/a/v1", api_key: sk-a }
    model_info: { id: pair-a }
  - model_name: pair
    litellm_params: { model: openai/pair-model, api_base: "${url}/b/v1", api_key: sk-b }
    model_info: { id: pair-b }
  - model_name: limited
    litellm_params: { model: openai/lim, api_base: "${url}/lim/v1", rpm: 2 }
  - model_name: slow
    litellm_params: { model: openai/slow, api_base: "${url}/slow/v1", timeout: 0.2 }
  - model_name: dead
    litellm_params: { model: openai/dead, api_base: "http://127.0.0.1:1/v1" }
  - model_name: primary
    litellm_params: { model: openai/primary, api_base: "${url}/down/v1" }
router_settings:
  model_group_alias: { chat-alias: chat }
  fallbacks: [{ primary: [chat] }]
general_settings:
  master_key: ${MASTER}
  max_request_size_mb: 0.01
`,
    {},
  );
  ({ app } = createGatewayApp({
    config,
    logger: createLogger('silent'),
    store: createMemoryStore(),
    replicaId: 'test',
  }));
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  fake.configure({ clear: true });
  for (const prefix of ['/a', '/b', '/down', '/slow']) fake.configure({ prefix, clear: true });
});

const chat = (model: string, extra: Record<string, unknown> = {}) => ({
  model,
  messages: [{ role: 'user', content: 'hello there' }],
  ...extra,
});

function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${MASTER}` },
) {
  return app.request(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function errorOf(res: Response) {
  const body = (await res.json()) as {
    error: { message: string; type: string; param: string | null; code: string };
  };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  // LiteLLM's shape: the status as a string; Fleetgate's stable name travels in a header.
  expect(body.error.code).toBe(String(res.status));
  return { status: res.status, ...body.error, code: res.headers.get('x-fleetgate-error-code') };
}

describe('forwarding', () => {
  it('forwards chat with the upstream model and key, never the client key, and says who served it', async () => {
    const res = await post('/v1/chat/completions', chat('chat'), {
      authorization: `Bearer ${MASTER}`,
      'x-litellm-call-id': 'call-123',
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; usage: { prompt_tokens: number } };
    expect(body.object).toBe('chat.completion');
    expect(res.headers.get('x-litellm-call-id')).toBe('call-123');
    expect(res.headers.get('x-litellm-model-group')).toBe('chat');
    expect(res.headers.get('x-litellm-model-id')).toMatch(/^[0-9a-f]{24}$/);
    expect(Number(res.headers.get('x-litellm-overhead-duration-ms'))).toBeGreaterThanOrEqual(0);
    const seen = fake.stats().last.at(-1)!;
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers['authorization']).toBe('Bearer sk-upstream-chat');
    expect(JSON.stringify(seen.headers)).not.toContain(MASTER);
    expect(seen.body).toMatchObject({
      model: 'upstream-chat',
      messages: [{ role: 'user', content: 'hello there' }],
    });
  });

  it('serves every route with and without /v1, and aliases', async () => {
    expect((await post('/chat/completions', chat('chat-alias'))).status).toBe(200);
    const completion = await post('/v1/completions', { model: 'chat', prompt: 'say hi' });
    expect(((await completion.json()) as { object: string }).object).toBe('text_completion');
    const embeddings = await post('/embeddings', { model: 'chat', input: ['a', 'b'] });
    expect(((await embeddings.json()) as { data: unknown[] }).data).toHaveLength(2);
    expect(fake.stats().byPath).toMatchObject({
      '/v1/chat/completions': 1,
      '/v1/completions': 1,
      '/v1/embeddings': 1,
    });
  });

  it('relays a stream chunk by chunk to [DONE], without the usage chunk the client did not ask for', async () => {
    const res = await post('/v1/chat/completions', chat('chat', { stream: true }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n').filter((l) => l.startsWith('data: '));
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.length).toBeGreaterThan(10);
    expect(text).not.toContain('"usage"');
    // The gateway asked upstream for usage, to settle token windows.
    expect(fake.stats().last.at(-1)!.body).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('keeps the usage chunk when the client asked for it', async () => {
    const res = await post(
      '/v1/chat/completions',
      chat('chat', { stream: true, stream_options: { include_usage: true } }),
    );
    expect(await res.text()).toMatch(/"choices":\[\],"usage":\{"prompt_tokens":\d+/);
  });

  it('passes an upstream error back as it came', async () => {
    fake.configure({ failRate: 1, failStatus: 400 });
    const res = await post('/v1/chat/completions', chat('chat'));
    expect(res.status).toBe(400);
    // The upstream's own error object, its code included, reaches the client untouched.
    const { error } = (await res.json()) as { error: { code: string } };
    expect(error.code).toBe('injected_failure');
    expect(res.headers.get('x-fleetgate-error-code')).toBe('upstream_error');
    expect(fake.stats().requests).toBe(1);
  });
});

describe('bad input and failures get OpenAI-shaped errors', () => {
  it('401 without a key or with a wrong one, in every header LiteLLM reads', async () => {
    expect(await errorOf(await post('/v1/chat/completions', chat('chat'), {}))).toMatchObject({
      status: 401,
      type: 'auth_error',
    });
    const wrong = await errorOf(
      await post('/v1/chat/completions', chat('chat'), { authorization: 'Bearer sk-wrong' }),
    );
    expect(wrong).toMatchObject({ status: 401, code: 'auth_error' });
    expect(wrong.message).not.toContain('sk-wrong');
    for (const header of ['x-litellm-api-key', 'api-key', 'x-api-key']) {
      expect((await post('/v1/chat/completions', chat('chat'), { [header]: MASTER })).status).toBe(200);
    }
    expect(fake.stats().requests).toBe(3);
  });

  it('400 for malformed JSON, missing fields and unknown models (naming the available ones)', async () => {
    expect(await errorOf(await post('/v1/chat/completions', '{"model":'))).toMatchObject({
      status: 400,
      code: 'invalid_json',
    });
    expect(await errorOf(await post('/v1/chat/completions', '[1,2]'))).toMatchObject({
      status: 400,
      code: 'invalid_json',
    });
    expect(await errorOf(await post('/v1/chat/completions', { messages: [{ role: 'user' }] }))).toMatchObject(
      { status: 400, param: 'model' },
    );
    const unknown = await errorOf(await post('/v1/chat/completions', chat('gpt-5')));
    expect(unknown).toMatchObject({ status: 400, code: 'model_not_found', param: 'model' });
    expect(unknown.message).toContain('model=gpt-5');
    expect(unknown.message).toContain('chat, pair, limited');
    expect(fake.stats().requests).toBe(0);
  });

  it('400 for fields that would make the gateway an open relay', async () => {
    const res = await post('/v1/chat/completions', chat('chat', { api_base: 'http://attacker.example' }));
    expect(await errorOf(res)).toMatchObject({ status: 400, code: 'forbidden_parameter', param: 'api_base' });
    expect(fake.stats().requests).toBe(0);
  });

  it('413 for a body over the limit', async () => {
    const res = await post('/v1/chat/completions', chat('chat', { pad: 'x'.repeat(20_000) }));
    expect(await errorOf(res)).toMatchObject({ status: 413, code: 'request_too_large' });
  });

  it('502 when the upstream is unreachable, 504 when it is too slow', async () => {
    expect(await errorOf(await post('/v1/chat/completions', chat('dead', { num_retries: 0 })))).toMatchObject(
      {
        status: 502,
        code: 'upstream_unreachable',
      },
    );
    fake.configure({ prefix: '/slow', latencyMs: 2_000 });
    const started = Date.now();
    const slow = await post('/v1/chat/completions', chat('slow', { num_retries: 0 }));
    expect(slow.headers.get('x-litellm-timeout')).toBe('0.2');
    expect(await errorOf(slow)).toMatchObject({ status: 504, code: 'upstream_timeout' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('400 naming a client fallback that no group serves, before anything is sent', async () => {
    const res = await post(
      '/v1/chat/completions',
      chat('chat', { fallbacks: ['chat-alias', 'gpt-nowhere'] }),
    );
    expect(await errorOf(res)).toMatchObject({ status: 400, code: 'model_not_found', param: 'fallbacks[1]' });
    expect(fake.stats().requests).toBe(0);
  });

  it('404 in the same shape for unknown routes', async () => {
    expect(await errorOf(await app.request('/v1/nothing'))).toMatchObject({ status: 404, code: 'not_found' });
  });
});

describe('limits, retries, cooldowns, fallbacks', () => {
  it("answers 429 with retry-after once a deployment's rpm is used, without calling the upstream", async () => {
    const fresh = async () => post('/v1/chat/completions', chat('limited'));
    expect((await fresh()).status).toBe(200);
    const second = await fresh();
    expect(second.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(second.headers.get('x-ratelimit-limit-requests')).toBe('2');
    const third = await fresh();
    expect(await errorOf(third.clone())).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
    expect(third.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(fake.stats().byPath['/lim/v1/chat/completions']).toBe(2);
  });

  it("retries a failed deployment's request on the other one and says so", async () => {
    fake.configure({ prefix: '/a', failRate: 1, failStatus: 503 });
    for (let i = 0; i < 6; i++) {
      const res = await post('/v1/chat/completions', chat('pair'));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-litellm-model-id')).toBe('pair-b');
      expect(['0', '1']).toContain(res.headers.get('x-litellm-attempted-retries'));
    }
  });

  it('cools a deployment that answers 429 down at once, so the next requests skip it', async () => {
    fake.configure({ prefix: '/a', failRate: 1, failStatus: 429 });
    for (let i = 0; i < 8; i++) expect((await post('/v1/chat/completions', chat('pair'))).status).toBe(200);
    // At most one request reached /a before its cooldown: the rest went straight to /b.
    expect(fake.stats().byPath['/a/v1/chat/completions'] ?? 0).toBeLessThanOrEqual(1);
  });

  it('falls back to another group once the group has failed', async () => {
    fake.configure({ prefix: '/down', failRate: 1, failStatus: 500 });
    const res = await post('/v1/chat/completions', chat('primary'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-model-group')).toBe('chat');
    expect(res.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
  });
});

describe('models, health, metrics', () => {
  const get = (path: string, key = MASTER) =>
    app.request(path, { headers: { authorization: `Bearer ${key}` } });

  it("lists model groups and aliases in OpenAI's shape", async () => {
    const body = (await (await get('/v1/models')).json()) as {
      object: string;
      data: Array<{ id: string; object: string }>;
    };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual([
      'chat',
      'pair',
      'limited',
      'slow',
      'dead',
      'primary',
      'chat-alias',
    ]);
    expect((await get('/models', 'sk-nope')).status).toBe(401);
  });

  it('describes deployments without their keys', async () => {
    const text = await (await get('/model/info')).text();
    expect(text).toContain('"model_name":"pair"');
    expect(text).not.toContain('sk-upstream-chat');
    expect(text).not.toContain('sk-a');
  });

  it("answers liveliness and readiness in LiteLLM's shapes", async () => {
    expect(await (await app.request('/health/liveliness')).json()).toBe("I'm alive!");
    // No Redis: the replica limits alone, as configured — healthy, and "local", not "shared".
    expect(await (await app.request('/health/readiness')).json()).toMatchObject({
      status: 'healthy',
      cache: 'memory',
      fleet_state: 'local',
    });
  });

  it("exposes LiteLLM's metric names", async () => {
    fake.configure({ prefix: '/a', failRate: 1, failStatus: 429 });
    // Random order may skip /a a few times; twenty requests reach it (and cool it) all but surely.
    for (let i = 0; i < 20; i++) await post('/v1/chat/completions', chat('pair'));
    const text = await (await app.request('/metrics')).text();
    for (const name of [
      'litellm_proxy_total_requests_metric_total',
      'litellm_deployment_success_responses_total',
      'litellm_deployment_failure_responses_total',
      'litellm_deployment_total_requests_total',
      'litellm_deployment_cooled_down_total',
      'litellm_request_total_latency_metric_bucket',
      'litellm_overhead_latency_metric_bucket',
      'litellm_input_tokens_metric_total',
    ]) {
      expect(text).toContain(name);
    }
    // The app (and its counters) is shared by this file's tests: an earlier test may have cooled
    // pair-a already (with a 503 or a 429), and a cooldown still running keeps these requests off it.
    const cooled = text.match(
      /litellm_deployment_cooled_down_total\{[^}]*model_id="pair-a"[^}]*exception_status="(?:429|503)"\} (\d+)/,
    );
    expect(Number(cooled?.[1])).toBeGreaterThanOrEqual(1);
  });
});
