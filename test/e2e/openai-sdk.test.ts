import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';

/**
 * The built gateway process in front of the fake upstream process, driven by the official `openai`
 * SDK and curl, as users drive it.
 */
let fake: FakeLlmProc;
let gateway: GatewayProc;
let client: OpenAI;
const MASTER = 'sk-e2e-master';

beforeAll(async () => {
  fake = await startFakeLlm(['--chunk-delay-ms', '5']);
  gateway = await startGateway({
    config: `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fake.url}/v1", api_key: sk-upstream-e2e }
  - model_name: text-embedding-3-small
    litellm_params: { model: openai/text-embedding-3-small, api_base: "${fake.url}/v1", api_key: sk-upstream-e2e }
  - model_name: slow-stream
    litellm_params: { model: openai/slow, api_base: "${fake.url}/slow/v1" }
general_settings:
  master_key: ${MASTER}
`,
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: MASTER, maxRetries: 0 });
});

afterAll(async () => {
  await killAll();
});

describe('through the openai SDK', () => {
  it('completes a chat', async () => {
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Say hello' }],
      max_tokens: 5,
    });
    expect(completion.choices[0]?.message.content?.split(' ')).toHaveLength(5);
    expect(completion.usage?.completion_tokens).toBe(5);
  });

  it('streams a chat chunk by chunk', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
    });
    const parts: string[] = [];
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      // Every chunk has a choice: the usage chunk the gateway asked for is not passed on.
      parts.push(chunk.choices[0]!.delta.content ?? '');
    }
    expect(chunks).toBeGreaterThan(16);
    expect(parts.join('').trim().split(' ')).toHaveLength(16);
  });

  it('streams with usage when asked', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Count' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.completion_tokens).toBe(16);
  });

  it('embeds', async () => {
    const result = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['one', 'two', 'three'],
    });
    expect(result.data).toHaveLength(3);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(0);
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['gpt-4o-mini', 'text-embedding-3-small', 'slow-stream']);
  });

  it("raises the SDK's typed errors", async () => {
    const wrongKey = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(
      wrongKey.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const unknown = client.chat.completions.create({
      model: 'gpt-5',
      messages: [{ role: 'user', content: 'x' }],
    });
    await expect(unknown).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    await expect(unknown).rejects.toThrow(/model=gpt-5.*gpt-4o-mini/);
  });

  it("never shows the upstream its own key, only the deployment's", async () => {
    await fake.reset();
    await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    const seen = (await fake.stats()).last.at(-1)!;
    expect(seen.headers['authorization']).toBe('Bearer sk-upstream-e2e');
    expect(JSON.stringify(seen)).not.toContain(MASTER);
  });
});

describe("a client written for LiteLLM's proxy", () => {
  it("sends LiteLLM's own fields through extra_body: the gateway acts on them and the provider never sees them", async () => {
    await fake.reset();
    const completion = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      user: 'end-user-1',
      temperature: 0.1,
      // @ts-expect-error LiteLLM's fields are not in OpenAI's types; the SDK sends them as given.
      fallbacks: ['text-embedding-3-small'],
      num_retries: 1,
      metadata: { generation_name: 'checkout' },
      tags: ['billing'],
      caching: false,
      guardrails: ['pii-mask'],
      litellm_metadata: { team: 'payments' },
    });
    expect(completion.object).toBe('chat.completion');
    const seen = (await fake.stats()).last.at(-1)!;
    expect(Object.keys(seen.body as object).sort()).toEqual(['messages', 'model', 'temperature', 'user']);
  });

  it('gets a mocked answer without an upstream call, and LiteLLM-shaped errors with Fleetgate codes in a header', async () => {
    await fake.reset();
    const mocked = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
      // @ts-expect-error LiteLLM's testing switch.
      mock_response: 'a mocked reply',
    });
    expect(mocked.choices[0]?.message.content).toBe('a mocked reply');
    expect((await fake.stats()).requests).toBe(0);
    const error = await client.chat.completions
      .create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'hi' }],
        // @ts-expect-error a malformed LiteLLM field.
        num_retries: -1,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.error).toMatchObject({ code: '400', param: 'num_retries' });
    expect(bad.headers?.get('x-fleetgate-error-code')).toBe('invalid_request');
  });
});

describe('through curl', () => {
  const curl = promisify(execFile);

  it("answers a plain request and an error in OpenAI's shapes", async () => {
    const ok = await curl('curl', [
      '-s',
      `${gateway.url}/chat/completions`,
      '-H',
      `Authorization: Bearer ${MASTER}`,
      '-H',
      'content-type: application/json',
      '-d',
      '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    ]);
    expect(JSON.parse(ok.stdout)).toMatchObject({ object: 'chat.completion' });
    const bad = await curl('curl', [
      '-s',
      '-w',
      '\n%{http_code}',
      `${gateway.url}/chat/completions`,
      '-H',
      `Authorization: Bearer ${MASTER}`,
      '-d',
      '{"model":',
    ]);
    const [body, status] = bad.stdout.split('\n');
    expect(status).toBe('400');
    expect(JSON.parse(body!)).toEqual({
      error: {
        message: 'request body is not valid JSON',
        type: 'invalid_request_error',
        param: null,
        code: '400',
      },
    });
  });
});

describe('clients that go away', () => {
  it('aborts the upstream request when the client disconnects mid-stream', async () => {
    await fake.control({ prefix: '/slow', chunkDelayMs: 200 });
    await fake.reset();
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'slow-stream', messages: [{ role: 'user', content: 'x' }], stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    try {
      for await (const _ of stream) {
        if (++seen === 2) controller.abort();
      }
    } catch {
      // The SDK may end the iteration quietly or with an abort error; either way the client is gone.
    }
    expect(seen).toBeLessThan(5);
    await expect.poll(async () => (await fake.stats()).aborted, { timeout: 5_000 }).toBe(1);
    expect((await fake.stats()).inFlight).toBe(0);
  });

  it('survives hundreds of clients disconnecting mid-stream at once', async () => {
    await fake.control({ prefix: '/slow', chunkDelayMs: 2 });
    await fake.reset();
    const body = JSON.stringify({
      model: 'slow-stream',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
    });
    await Promise.all(
      Array.from({ length: 300 }, async (_, i) => {
        const controller = new AbortController();
        const res = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
          body,
          signal: controller.signal,
        });
        const reader = res.body!.getReader();
        // Read a different number of chunks each, so aborts land at every point of the stream.
        for (let n = 0; n < i % 7; n++) await reader.read();
        controller.abort();
      }),
    ).catch(() => {});
    const health = await fetch(`${gateway.url}/health/liveliness`);
    expect(health.status).toBe(200);
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.lines.join('\n')).not.toMatch(/Controller is already closed|ERR_INVALID_STATE|unhandled/i);
    await expect.poll(async () => (await fake.stats()).inFlight, { timeout: 10_000 }).toBe(0);
    // And it still serves.
    const after = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(after.choices).toHaveLength(1);
  });
});
