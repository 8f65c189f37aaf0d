import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { createMemoryStore } from '@fleetgate/ratelimit';
import type { Hono } from 'hono';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import type { GatewayEnv } from '../proxy/context.js';
import { createGatewayApp } from '../server.js';

/**
 * Fallbacks and retries as LiteLLM configures them, in-process against a real fake upstream that
 * records what it received: context window fallbacks (by max_input_tokens), default fallbacks, and
 * retry_policy per error class.
 */
let fake: FakeLlm;
let app: Hono<GatewayEnv>;

beforeAll(async () => {
  fake = createFakeLlm();
  const { url } = await fake.listen();
  const config = parseConfig(
    'routing.yaml',
    `
model_list:
  - model_name: small
    litellm_params: { model: openai/small, api_base: "${url}/small/v1" }
    model_info: { max_input_tokens: 100 }
  - model_name: large
    litellm_params: { model: openai/large, api_base: "${url}/large/v1" }
  - model_name: flaky
    litellm_params: { model: openai/flaky, api_base: "${url}/flaky/v1" }
  - model_name: lonely
    litellm_params: { model: openai/lonely, api_base: "${url}/lonely/v1" }
router_settings:
  num_retries: 0
  context_window_fallbacks: [{ small: [large] }]
  default_fallbacks: [large]
  retry_policy: { BadRequestErrorRetries: 2, RateLimitErrorRetries: 0 }
`,
    {},
  );
  ({ app } = createGatewayApp({
    config,
    logger: createLogger('silent'),
    store: createMemoryStore(),
    replicaId: 'r',
  }));
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
  for (const prefix of ['/small', '/large', '/flaky', '/lonely']) fake.configure({ prefix, clear: true });
});

const chat = (model: string, content: string, extra: Record<string, unknown> = {}) =>
  app.request('/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content }], ...extra }),
  });
const paths = () => Object.keys(fake.stats().byPath).sort();

describe('context window fallbacks', () => {
  it('send a prompt longer than max_input_tokens to the fallback without calling the small deployment', async () => {
    const res = await chat('small', 'word '.repeat(200));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-model-group')).toBe('large');
    expect(res.headers.get('x-litellm-attempted-fallbacks')).toBe('1');
    expect(paths()).toEqual(['/large/v1/chat/completions']);
    // A prompt that fits stays where it was asked.
    expect((await chat('small', 'hi')).headers.get('x-litellm-model-group')).toBe('small');
  });
});

describe('default_fallbacks', () => {
  it('serve a group that has no fallbacks of its own', async () => {
    fake.configure({ prefix: '/flaky', failRate: 1, failStatus: 503 });
    const res = await chat('flaky', 'hi');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-litellm-model-group')).toBe('large');
  });
});

describe('retry_policy', () => {
  it('retries a 400 as many times as BadRequestErrorRetries says, and a 429 not at all', async () => {
    fake.configure({ prefix: '/lonely', failRate: 1, failStatus: 400 });
    const bad = await chat('lonely', 'hi', { disable_fallbacks: true });
    expect(bad.status).toBe(400);
    expect(fake.stats().byPath['/lonely/v1/chat/completions']).toBe(3);
    fake.reset();
    fake.configure({ prefix: '/lonely', failRate: 1, failStatus: 429 });
    const limited = await chat('lonely', 'hi', { disable_fallbacks: true });
    expect(limited.status).toBe(429);
    expect(fake.stats().byPath['/lonely/v1/chat/completions']).toBe(1);
  });

  it("gives way to the request's own num_retries", async () => {
    fake.configure({ prefix: '/lonely', failRate: 1, failStatus: 400 });
    await chat('lonely', 'hi', { disable_fallbacks: true, num_retries: 0 });
    expect(fake.stats().byPath['/lonely/v1/chat/completions']).toBe(1);
  });
});
