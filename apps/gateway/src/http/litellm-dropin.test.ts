import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { createMemoryStore, MemoryAccounts } from '@fleetgate/ratelimit';
import type { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { GatewayEnv } from '../proxy/context.js';
import { createGatewayApp } from '../server.js';

/**
 * What a LiteLLM client relies on beyond OpenAI's API, in-process against a real fake upstream that
 * records what it received: LiteLLM's request fields consumed (never forwarded), client-side
 * fallbacks, retries, timeouts, mocks, wildcard groups and what a key sees of the model list.
 */
let fake: FakeLlm;
let app: Hono<GatewayEnv>;
const MASTER = 'sk-dropin-master';

beforeAll(async () => {
  fake = createFakeLlm();
  const { url } = await fake.listen();
  // A cost map in LiteLLM's format prices the one deployment whose config names no prices.
  const costMap = join(mkdtempSync(join(tmpdir(), 'dropin-')), 'prices.json');
  writeFileSync(
    costMap,
    JSON.stringify({ 'gpt-35': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 } }),
  );
  const config = parseConfig(
    'dropin.yaml',
    `
model_list:
  - model_name: gpt-4
    litellm_params: { model: openai/gpt-4-upstream, api_base: "${url}/v1" }
    model_info: { id: gpt-4-a, access_groups: [beta] }
  - model_name: gpt-3.5-turbo
    litellm_params: { model: openai/gpt-35, api_base: "${url}/v1" }
    model_info: { id: gpt-35-a, max_input_tokens: 4096 }
  - model_name: solo
    litellm_params: { model: openai/solo, api_base: "${url}/solo/v1", timeout: 1, num_retries: 1 }
    model_info: { id: solo-a }
  - model_name: dead
    litellm_params: { model: openai/dead, api_base: "http://127.0.0.1:1/v1" }
  - model_name: embedder
    litellm_params: { model: openai/embed-small, api_base: "${url}/v1", rpm: 1 }
    model_info: { id: embedder-a, mode: embedding }
  - model_name: "vendor/*"
    litellm_params: { model: "openai/*", api_base: "${url}/vendor/v1", rpm: 1000 }
    model_info: { id: vendor-wild }
  - model_name: "*"
    litellm_params: { model: "openai/*", api_base: "${url}/any/v1" }
    model_info: { id: catch-all }
router_settings:
  fallbacks: [{ dead: [gpt-4] }]
general_settings:
  master_key: ${MASTER}
fleetgate_settings:
  model_cost_map: ${costMap}
default_team_settings:
  - team_id: team-1
    langfuse_secret: os.environ/LANGFUSE_SECRET_NOT_SET
`,
    {},
  );
  const accounts = new MemoryAccounts();
  ({ app } = createGatewayApp({
    config,
    logger: createLogger('silent'),
    store: createMemoryStore({ accounts }),
    accounts,
    replicaId: 'dropin',
  }));
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  fake.configure({ clear: true });
  for (const prefix of ['/solo', '/vendor', '/any']) fake.configure({ prefix, clear: true });
});

const request = (path: string, body?: unknown, headers: Record<string, string> = {}, key = MASTER) =>
  app.request(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const chat = (
  model: string,
  extra: Record<string, unknown> = {},
  headers?: Record<string, string>,
  key?: string,
) =>
  request(
    '/v1/chat/completions',
    { model, messages: [{ role: 'user', content: 'hello there' }], ...extra },
    headers,
    key,
  );
const lastBody = () => fake.stats().last.at(-1)?.body as Record<string, unknown>;
const generateKey = async (body: Record<string, unknown>) => {
  const res = await request('/key/generate', body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { key: string }).key;
};

describe("LiteLLM's request fields", () => {
  const openAiFields = {
    user: 'end-user-7',
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 12,
    seed: 4,
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }],
    tool_choice: 'auto',
    response_format: { type: 'json_object' },
    top_k: 40,
  };
  const litellmFields = {
    fallbacks: ['gpt-3.5-turbo'],
    num_retries: 1,
    mock_testing_fallbacks: false,
    mock_timeout: false,
    caching: true,
    cache: { 'no-cache': true },
    tags: ['billing'],
    context_window_fallbacks: [{ 'gpt-4': ['gpt-3.5-turbo'] }],
    guardrails: ['pii'],
    litellm_metadata: { team: 'a' },
    metadata: { generation_name: 'x' },
    timeout: 30,
    stream_timeout: 30,
    priority: 3,
    prompt_id: 'p',
    litellm_session_id: 's',
    'no-log': true,
  };

  it('never reach the upstream; OpenAI fields and provider fields always do, untouched', async () => {
    const res = await chat('gpt-4', { ...openAiFields, ...litellmFields });
    expect(res.status).toBe(200);
    expect(lastBody()).toEqual({
      model: 'gpt-4-upstream',
      messages: [{ role: 'user', content: 'hello there' }],
      ...openAiFields,
    });
  });

  it('never reach the upstream of a stream either, and the client still gets its usage chunk', async () => {
    const res = await chat('gpt-4', {
      ...openAiFields,
      ...litellmFields,
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/"usage":\{"prompt_tokens":\d+/);
    expect(lastBody()).toEqual({
      model: 'gpt-4-upstream',
      messages: [{ role: 'user', content: 'hello there' }],
      ...openAiFields,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('get a 400 naming the field when malformed, before anything is sent', async () => {
    for (const [extra, param] of [
      [{ fallbacks: 3 }, 'fallbacks'],
      [{ num_retries: -1 }, 'num_retries'],
      [{ fallbacks: [{ model: 'gpt-4', api_key: 'sk-mine' }] }, 'api_key'],
    ] as const) {
      const res = await request('/v1/chat/completions', {
        model: 'gpt-4',
        messages: [{ role: 'user', content: 'x' }],
        ...extra,
      });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: { param: string; code: string } };
      expect(error).toMatchObject({ param, code: '400' });
    }
    expect(fake.stats().requests).toBe(0);
  });
});

describe('fallbacks and retries', () => {
  it("answers from the client's fallbacks when the requested group fails", async () => {
    const res = await chat('solo', { fallbacks: ['gpt-3.5-turbo'], num_retries: 0 }, undefined);
    // solo answers; now make it fail and check the fallback serves.
    expect(res.status).toBe(200);
    fake.configure({ prefix: '/solo', failRate: 1, failStatus: 503 });
    const failed = await chat('solo', { fallbacks: ['gpt-3.5-turbo'], num_retries: 0 });
    expect(failed.status).toBe(200);
    expect(failed.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(failed.headers.get('x-litellm-model-group')).toBe('gpt-3.5-turbo');
    expect(lastBody()['model']).toBe('gpt-35');
  });

  it('sends a fallback given as an object with its own fields', async () => {
    fake.configure({ prefix: '/solo', failRate: 1, failStatus: 503 });
    const custom = [{ role: 'assistant', content: 'This is a custom message' }];
    const res = await chat('solo', {
      fallbacks: [{ model: 'gpt-3.5-turbo', messages: custom }],
      num_retries: 0,
    });
    expect(res.status).toBe(200);
    expect(lastBody()).toMatchObject({ model: 'gpt-35', messages: custom });
  });

  it("uses the config's fallbacks unless disable_fallbacks is set", async () => {
    const served = await chat('dead', { num_retries: 0 });
    expect(served.status).toBe(200);
    expect(served.headers.get('x-litellm-model-group')).toBe('gpt-4');
    const refused = await chat('dead', { num_retries: 0, disable_fallbacks: true });
    expect(refused.status).toBe(502);
  });

  it('retries a group of one deployment on that deployment, after a backoff', async () => {
    fake.configure({ prefix: '/solo', failRate: 1, failStatus: 500 });
    const started = performance.now();
    const res = await chat('solo', { num_retries: 2 });
    expect(res.status).toBe(500);
    expect(fake.stats().byPath['/solo/v1/chat/completions']).toBe(3);
    // Backoff of 0.5 s then 1 s, each shortened by up to a quarter.
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_100);
  });
});

describe('timeouts', () => {
  it('takes x-litellm-timeout over the deployment timeout and says which one fired', async () => {
    fake.configure({ prefix: '/solo', latencyMs: 600 });
    const started = performance.now();
    const res = await chat('solo', { num_retries: 0 }, { 'x-litellm-timeout': '0.1' });
    expect(res.status).toBe(504);
    expect(res.headers.get('x-litellm-timeout')).toBe('0.1');
    expect(res.headers.get('x-fleetgate-error-code')).toBe('upstream_timeout');
    expect(performance.now() - started).toBeLessThan(550);
  });

  it('takes the body timeout, and reports the deployment timeout when that fired', async () => {
    fake.configure({ prefix: '/solo', latencyMs: 1_500 });
    const byBody = await chat('solo', { num_retries: 0, timeout: 0.1 });
    expect(byBody.status).toBe(504);
    expect(byBody.headers.get('x-litellm-timeout')).toBe('0.1');
    const byDeployment = await chat('solo', { num_retries: 0 });
    expect(byDeployment.headers.get('x-litellm-timeout')).toBe('1.0');
  });
});

describe('mocks', () => {
  it('mock_response answers without calling the upstream, as chat, completion and stream', async () => {
    const res = await chat('gpt-4', { mock_response: 'mocked hello' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      choices: Array<{ message: { content: string } }>;
      usage: unknown;
      model: string;
    };
    expect(body.choices[0]!.message.content).toBe('mocked hello');
    expect(body).toMatchObject({ model: 'gpt-4', usage: { prompt_tokens: 10, completion_tokens: 20 } });
    const text = await request('/v1/completions', { model: 'gpt-4', prompt: 'x', mock_response: 'done' });
    expect(((await text.json()) as { choices: Array<{ text: string }> }).choices[0]!.text).toBe('done');
    const stream = await chat('gpt-4', {
      mock_response: 'streamed',
      stream: true,
      stream_options: { include_usage: true },
    });
    const events = await stream.text();
    expect(events).toContain('"content":"streamed"');
    expect(events).toContain('"usage":{"prompt_tokens":10');
    expect(events.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(fake.stats().requests).toBe(0);
  });

  it('is honoured for keys whose metadata allows it, and dropped (never forwarded) for the others', async () => {
    const allowed = await generateKey({ metadata: { allow_client_mock_response: true } });
    const plain = await generateKey({});
    const mocked = await chat('gpt-4', { mock_response: 'from mock' }, undefined, allowed);
    expect(
      ((await mocked.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message
        .content,
    ).toBe('from mock');
    expect(fake.stats().requests).toBe(0);
    const real = await chat('gpt-4', { mock_response: 'from mock' }, undefined, plain);
    expect(real.status).toBe(200);
    expect(fake.stats().requests).toBe(1);
    expect(lastBody()).not.toHaveProperty('mock_response');
  });

  it('mock_testing_fallbacks fails the requested group so its fallbacks answer, where the key may use them', async () => {
    const res = await chat('gpt-4', { mock_testing_fallbacks: true, fallbacks: ['gpt-3.5-turbo'] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    const narrow = await generateKey({ models: ['gpt-4'] });
    const denied = await chat(
      'gpt-4',
      { mock_testing_fallbacks: true, fallbacks: ['gpt-3.5-turbo'] },
      undefined,
      narrow,
    );
    expect(denied.status).toBe(500);
  });

  it('mock_testing_rate_limit_error makes the first attempt a 429 and a retry answer', async () => {
    const res = await chat('gpt-4', { mock_testing_rate_limit_error: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-attempted-retries')).toBe('1');
    expect(res.headers.get('x-litellm-max-retries')).toBe('2');
    // A deployment's own num_retries sets its group's.
    const solo = await chat('solo', { mock_testing_rate_limit_error: true });
    expect(solo.headers.get('x-litellm-max-retries')).toBe('1');
  });

  it('mock_timeout times out after the timeout without calling the upstream', async () => {
    const res = await chat('solo', { mock_timeout: true, num_retries: 0 }, { 'x-litellm-timeout': '0.05' });
    expect(res.status).toBe(504);
    expect(res.headers.get('x-litellm-timeout')).toBe('0.05');
    expect(fake.stats().requests).toBe(0);
  });
});

describe('wildcard groups', () => {
  it('route any requested model through the most specific wildcard, passing its name upstream', async () => {
    const vendor = await chat('vendor/model-x');
    expect(vendor.status).toBe(200);
    expect(vendor.headers.get('x-litellm-model-id')).toBe('vendor-wild');
    expect(fake.stats().last.at(-1)).toMatchObject({
      path: '/vendor/v1/chat/completions',
      body: { model: 'model-x' },
    });
    const any = await chat('bedrock/anthropic.claude-3');
    expect(any.headers.get('x-litellm-model-id')).toBe('catch-all');
    expect(lastBody()['model']).toBe('bedrock/anthropic.claude-3');
    // An exact group still wins over every wildcard.
    await chat('gpt-4');
    expect(lastBody()['model']).toBe('gpt-4-upstream');
  });

  it("hold keys to their model patterns, with LiteLLM's 403", async () => {
    const key = await generateKey({ models: ['bedrock/anthropic.*'] });
    expect((await chat('bedrock/anthropic.claude-3', {}, undefined, key)).status).toBe(200);
    const denied = await chat('bedrock/amazon.titan', {}, undefined, key);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: unknown }).error).toMatchObject({
      type: 'key_model_access_denied',
      param: 'model',
      code: '403',
    });
  });
});

describe('what a key sees of the models', () => {
  it('/model/info and /model_group/info list only what the key may use', async () => {
    const key = await generateKey({ models: ['gpt-4'] });
    const info = (await (await request('/model/info', undefined, {}, key)).json()) as {
      data: Array<{ model_name: string; litellm_params: Record<string, unknown> }>;
    };
    expect(info.data.map((d) => d.model_name)).toEqual(['gpt-4']);
    const groups = (await (await request('/model_group/info', undefined, {}, key)).json()) as {
      data: Array<{ model_group: string }>;
    };
    expect(groups.data.map((g) => g.model_group)).toEqual(['gpt-4']);
    const all = (await (await request('/model/info')).json()) as { data: unknown[] };
    expect(all.data).toHaveLength(7);
    const one = (await (await request('/model/info?litellm_model_id=gpt-35-a')).json()) as {
      data: Array<{ model_info: { id: string; max_input_tokens: number } }>;
    };
    expect(one.data).toEqual([
      expect.objectContaining({ model_info: expect.objectContaining({ id: 'gpt-35-a' }) }),
    ]);
    const summary = (await (await request('/model_group/info?model_group=gpt-3.5-turbo')).json()) as {
      data: unknown[];
    };
    expect(summary.data).toEqual([
      expect.objectContaining({
        model_group: 'gpt-3.5-turbo',
        providers: ['openai'],
        max_input_tokens: 4096,
        mode: 'chat',
      }),
    ]);
  });

  it('access groups grant their groups, and ?only_model_access_groups lists them', async () => {
    const key = await generateKey({ models: ['beta'] });
    expect((await chat('gpt-4', {}, undefined, key)).status).toBe(200);
    expect((await chat('gpt-3.5-turbo', {}, undefined, key)).status).toBe(403);
    const list = async (query: string, k?: string) =>
      (
        (await (await request(`/v1/models${query}`, undefined, {}, k)).json()) as {
          data: Array<{ id: string }>;
        }
      ).data.map((m) => m.id);
    expect(await list('', key)).toEqual(['gpt-4']);
    expect(await list('?only_model_access_groups=True', key)).toEqual(['beta']);
    expect(await list('?only_model_access_groups=True')).toEqual(['beta']);
    // Wildcard groups are routes, not names a client picks from the list.
    expect(await list('')).toEqual(['gpt-4', 'gpt-3.5-turbo', 'solo', 'dead', 'embedder']);
  });
});

describe('/health', () => {
  it("checks each deployment with a minimal real call, as LiteLLM's /health does, and reuses the report", async () => {
    const res = await request('/health');
    expect(res.status).toBe(200);
    const report = (await res.json()) as {
      healthy_endpoints: Array<Record<string, unknown>>;
      unhealthy_endpoints: Array<Record<string, unknown>>;
      skipped_endpoints: Array<Record<string, unknown>>;
      healthy_count: number;
      unhealthy_count: number;
    };
    const ids = (list: Array<Record<string, unknown>>) => list.map((e) => e['model_id']).sort();
    expect(ids(report.healthy_endpoints)).toEqual(['embedder-a', 'gpt-35-a', 'gpt-4-a', 'solo-a']);
    expect(report.unhealthy_endpoints).toHaveLength(1);
    expect(report.unhealthy_endpoints[0]).toMatchObject({ model_name: 'dead', model: 'openai/dead' });
    expect(String(report.unhealthy_endpoints[0]!['error'])).toMatch(/unreachable/);
    expect(ids(report.skipped_endpoints)).toEqual(['catch-all', 'vendor-wild']);
    expect(report).toMatchObject({ healthy_count: 4, unhealthy_count: 1 });
    expect(JSON.stringify(report)).not.toContain('api_key');
    const paths = fake
      .stats()
      .last.map((r) => `${r.path} ${(r.body as { model: string }).model}`)
      .sort();
    expect(paths).toEqual([
      '/solo/v1/chat/completions solo',
      '/v1/chat/completions gpt-35',
      '/v1/chat/completions gpt-4-upstream',
      '/v1/embeddings embed-small',
    ]);
    // Scraping again, even many at once, calls nobody until the report is a minute old.
    await Promise.all([1, 2, 3, 4, 5].map(() => request('/health')));
    expect(fake.stats().requests).toBe(4);
  });

  it('is admitted like any request: a deployment at its limit is not called; a key sees only its models', async () => {
    const key = await generateKey({ models: ['embedder', 'solo'] });
    // The embedder's rpm of 1 went to the previous test's check, so now it is at its limit.
    const res = await request('/health', undefined, {}, key);
    const report = (await res.json()) as {
      healthy_endpoints: Array<{ model_id: string }>;
      skipped_endpoints: Array<{ model_id: string }>;
    };
    expect(report.healthy_endpoints.map((e) => e.model_id)).toEqual(['solo-a']);
    expect(report.skipped_endpoints.map((e) => e.model_id)).toEqual(['embedder-a']);
    expect(fake.stats().byPath['/v1/embeddings']).toBeUndefined();
    const one = (await (await request('/health?model=gpt-3.5-turbo')).json()) as { healthy_count: number };
    expect(one.healthy_count).toBe(1);
  });
});

describe("LiteLLM's discovery routes", () => {
  it('/routes lists what the gateway serves; /health/readiness/details needs a key', async () => {
    const list = (await (await app.request('/routes')).json()) as {
      routes: Array<{ path: string; methods: string[] }>;
    };
    const paths = list.routes.map((r) => r.path);
    for (const p of ['/v1/chat/completions', '/key/generate', '/model_group/info', '/health', '/routes'])
      expect(paths).toContain(p);
    expect(list.routes.find((r) => r.path === '/v1/chat/completions')?.methods).toEqual(['POST']);
    expect((await app.request('/health/readiness/details')).status).toBe(401);
    const details = await request('/health/readiness/details');
    expect(details.status).toBe(200);
    expect(await details.json()).toMatchObject({ status: 'healthy', litellm_version: expect.any(String) });
  });
});

describe("budgets priced from LiteLLM's cost map", () => {
  it('charge a key by the map when the config names no prices, so its budget trips', async () => {
    const key = await generateKey({ models: ['gpt-3.5-turbo'], max_budget: 1e-9 });
    const first = await chat('gpt-3.5-turbo', {}, undefined, key);
    expect(first.status).toBe(200);
    expect(Number(first.headers.get('x-litellm-response-cost'))).toBeGreaterThan(0);
    const second = await chat('gpt-3.5-turbo', {}, undefined, key);
    expect(second.status).toBe(400);
    expect(((await second.json()) as { error: { type: string } }).error.type).toBe('budget_exceeded');
  });
});
