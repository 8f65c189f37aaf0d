import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';

/**
 * Anthropic's Messages API (`POST /v1/messages`) through the gateway with the official
 * `@anthropic-ai/sdk` client: passed through to an Anthropic deployment, translated for others,
 * and held to the same admission, limits, retries, spend and logs as every other request.
 */
const MASTER = 'sk-messages-master';
const IN = 0.000003;
const OUT = 0.000015;
let fake: FakeLlmProc;
let gateway: GatewayProc;
let client: Anthropic;

beforeAll(async () => {
  fake = await startFakeLlm(['--completion-tokens', '4', '--chunk-delay-ms', '2']);
  const f = fake.url;
  gateway = await startGateway({
    config: `
model_list:
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: "${f}/anthropic", api_key: sk-ant-deployment, input_cost_per_token: ${IN}, output_cost_per_token: ${OUT} }
  - model_name: gpt-for-claude-clients
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${f}/openai/v1", api_key: sk-openai-deployment }
  - model_name: gemini-for-claude-clients
    litellm_params: { model: gemini/gemini-2.0-flash, api_base: "${f}/studio/v1beta", api_key: AIza-deployment }
  - model_name: claude-limited
    litellm_params: { model: anthropic/claude-haiku, api_base: "${f}/limited", api_key: sk-ant-limited, rpm: 1 }
  - model_name: claude-pair
    litellm_params: { model: anthropic/claude-a, api_base: "${f}/down", api_key: sk-ant-down }
    model_info: { id: pair-down }
  - model_name: claude-pair
    litellm_params: { model: anthropic/claude-b, api_base: "${f}/up", api_key: sk-ant-up }
    model_info: { id: pair-up }
general_settings:
  master_key: ${MASTER}
`,
  });
  client = new Anthropic({ baseURL: gateway.url, apiKey: MASTER, maxRetries: 0 });
});

afterAll(async () => {
  await killAll();
});

beforeEach(async () => {
  await fake.reset();
});

const ask = (model: string, c: Anthropic = client) =>
  c.messages.create({
    model,
    max_tokens: 64,
    system: 'Be brief.',
    messages: [{ role: 'user', content: 'Hello there' }],
  });

describe('POST /v1/messages with the Anthropic SDK', () => {
  it('passes through to an Anthropic deployment, with its model and key', async () => {
    const message = await ask('claude');
    expect(message.type).toBe('message');
    expect(message.content).toEqual([{ type: 'text', text: 'lorem ipsum dolor sit' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 4 });
    const seen = (await fake.stats()).last.at(-1)!;
    expect(seen.path).toBe('/anthropic/v1/messages');
    expect(seen.headers['x-api-key']).toBe('sk-ant-deployment');
    expect(seen.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Hello there' }],
    });
    expect(JSON.stringify(seen)).not.toContain(MASTER);
  });

  it("forwards the SDK's beta header to an Anthropic deployment", async () => {
    await client.beta.messages.create({
      model: 'claude',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
      betas: ['prompt-caching-2024-07-31'],
    });
    const seen = (await fake.stats()).last.at(-1)!;
    expect(seen.headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
  });

  it('streams from an Anthropic deployment, events passed through', async () => {
    const stream = client.messages.stream({
      model: 'claude',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Count' }],
    });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('lorem ipsum dolor sit');
    expect(final.usage.output_tokens).toBe(4);
    expect(final.stop_reason).toBe('end_turn');
  });

  for (const model of ['gpt-for-claude-clients', 'gemini-for-claude-clients']) {
    it(`is translated for ${model}: answer and stream in Anthropic's shapes`, async () => {
      const message = await ask(model);
      expect(message.content).toEqual([{ type: 'text', text: 'lorem ipsum dolor sit' }]);
      expect(message.id).toMatch(/^msg_/);
      expect(message.usage).toMatchObject({ input_tokens: 5, output_tokens: 4 });
      const stream = client.messages.stream({
        model,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'Count' }],
      });
      const final = await stream.finalMessage();
      expect(final.content).toEqual([{ type: 'text', text: 'lorem ipsum dolor sit' }]);
      expect(final.usage.output_tokens).toBe(4);
    });
  }

  it("answers the gateway's own errors in Anthropic's shape: a wrong key, an unknown model", async () => {
    const wrong = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-wrong', maxRetries: 0 });
    const denied = await ask('claude', wrong).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((denied as InstanceType<typeof Anthropic.AuthenticationError>).type).toBe('authentication_error');
    const unknown = await ask('gpt-5').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(Anthropic.BadRequestError);
    expect((unknown as Error).message).toMatch(/gpt-5/);
    const res = await fetch(`${gateway.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': MASTER, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'missing required parameter "max_tokens"',
        param: 'max_tokens',
        code: '400',
      },
    });
  });

  it("holds requests to the deployment's rpm, answering 429 with retry-after", async () => {
    await ask('claude-limited');
    const limited = await ask('claude-limited').catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    const e = limited as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.type).toBe('rate_limit_error');
    expect(Number(e.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect((await fake.stats()).byPath['/limited/v1/messages']).toBe(1);
  });

  it('retries a failing deployment on the other one of its group', async () => {
    await fake.control({ prefix: '/down', failRate: 1, failStatus: 503 });
    try {
      for (let i = 0; i < 4; i++) {
        const { data, response } = await ask('claude-pair').withResponse();
        expect(data.content[0]).toMatchObject({ type: 'text' });
        expect(response.headers.get('x-litellm-model-id')).toBe('pair-up');
      }
    } finally {
      await fake.control({ prefix: '/down', clear: true });
    }
  });

  it("charges a virtual key's spend from the answer's usage, and logs the request as /v1/messages", async () => {
    const generated = await fetch(`${gateway.url}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
      body: JSON.stringify({ models: ['claude'] }),
    });
    const { key, token } = (await generated.json()) as { key: string; token: string };
    const keyed = new Anthropic({ baseURL: gateway.url, apiKey: key, maxRetries: 0 });
    await ask('claude', keyed);
    const spend = async () => {
      const res = await fetch(`${gateway.url}/key/info?key=${token}`, {
        headers: { authorization: `Bearer ${MASTER}` },
      });
      return ((await res.json()) as { info: { spend: number } }).info.spend;
    };
    await expect.poll(spend, { timeout: 3_000 }).toBeCloseTo(5 * IN + 4 * OUT, 12);
    const forbidden = await ask('gpt-for-claude-clients', keyed).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(Anthropic.PermissionDeniedError);
    const logged = gateway.lines
      .map((l) => (l.startsWith('{') ? JSON.parse(l) : {}))
      .filter((l) => l.msg === 'request' && l.route === 'messages');
    expect(logged.some((l) => l.model_group === 'claude' && l.status === 200 && l.prompt_tokens === 5)).toBe(
      true,
    );
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    expect(metrics).toMatch(
      /litellm_proxy_total_requests_metric_total\{[^}]*route="\/v1\/messages"[^}]*\} \d+/,
    );
  });
});
