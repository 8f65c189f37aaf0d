import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';
import { seedVertexConfig, writeServiceAccount } from '../support/service-account.js';

/**
 * The LiteLLM load-test document's second scenario (two Vertex AI Gemini deployments of one group),
 * its config unchanged but for api_base pointed at the fake, the credentials file pointed at a test
 * service account whose token_uri is the fake's, and `rpm: 10000` per deployment; driven by the
 * `openai` SDK.
 */
const MODEL_PATH =
  '/v1/projects/bad-adroit-crow-413218/locations/us-central1/publishers/google/models/gemini-1.0-pro-vision-001';
let fake: FakeLlmProc;
let gateway: GatewayProc;
let client: OpenAI;
let config: string;

beforeAll(async () => {
  // The fake's port is needed in the credentials, and the credentials in the fake's flags: a free port first.
  const { freePort } = await import('../support/ports.js');
  const port = await freePort();
  const credentials = writeServiceAccount(`http://127.0.0.1:${port}/token`);
  fake = await startFakeLlm(['--port', String(port), '--oauth-key', credentials, '--chunk-delay-ms', '2']);
  const fixture = readFileSync(
    fileURLToPath(new URL('../fixtures/seed-gemini-vision.yaml', import.meta.url)),
    'utf8',
  );
  config = `${seedVertexConfig(fixture, fake.url, credentials, 10_000)}general_settings:\n  master_key: sk-seed\n`;
  gateway = await startGateway({ config });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-seed', maxRetries: 0 });
});

afterAll(async () => {
  await killAll();
});

beforeEach(async () => {
  await fake.control({ clear: true, quotas: [] });
});

describe("the seed's Vertex AI scenario", () => {
  it("answers in OpenAI's shape with Gemini's text and usage, after one token exchange for both deployments", async () => {
    const first = await client.chat.completions.create({
      model: 'gemini-vision',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'This is a test there will be no cache hits' },
      ],
    });
    expect(first.object).toBe('chat.completion');
    expect(first.choices[0]?.message.content).toBe(
      'lorem ipsum dolor sit amet consectetur adipiscing elit lorem ipsum dolor sit amet consectetur adipiscing elit',
    );
    expect(first.choices[0]?.finish_reason).toBe('stop');
    // Gemini counts the system instruction and the turn: ceil((9 + 43) / 4) prompt tokens in the fake.
    expect(first.usage).toMatchObject({ prompt_tokens: 13, completion_tokens: 16, total_tokens: 29 });
    // simple-shuffle picks at random between two equal weights: 7 requests all went to one of them in
    // 1 run of 64 (CI saw it); 24 requests leave one out in 1 of ~8 million.
    for (let i = 0; i < 23; i++) {
      await client.chat.completions.create({
        model: 'gemini-vision',
        messages: [{ role: 'user', content: 'again' }],
      });
    }
    const stats = await fake.stats();
    expect(stats.oauth.exchanges).toBe(1);
    const calls = stats.last.filter((r) => r.path.endsWith(':generateContent'));
    expect(new Set(calls.map((r) => r.path.split('/v1/')[0]))).toEqual(new Set(['/dep-a', '/dep-b']));
    for (const call of calls) {
      expect(call.path.endsWith(`${MODEL_PATH}:generateContent`)).toBe(true);
      expect(call.headers['authorization']).toMatch(/^Bearer ya29\./);
    }
    expect(calls[0]!.body).toMatchObject({
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      contents: [{ role: 'user', parts: [{ text: 'This is a test there will be no cache hits' }] }],
    });
  });

  it("streams in OpenAI's chunks, with usage when asked", async () => {
    const stream = await client.chat.completions.create({
      model: 'gemini-vision',
      messages: [{ role: 'user', content: 'Count' }],
      max_tokens: 5,
      stream: true,
      stream_options: { include_usage: true },
    });
    const parts: string[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice?.delta.content) parts.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(parts.join('')).toBe('lorem ipsum dolor sit amet');
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 5 });
    const last = (await fake.stats()).last.at(-1)!;
    expect(last.path.endsWith(':streamGenerateContent')).toBe(true);
    expect(last.query).toBe('alt=sse');
  });

  it('takes a quota-exhausted deployment out and serves from the other', async () => {
    await fake.control({ quotas: [{ prefix: '/dep-a', rpm: 1 }] });
    for (let i = 0; i < 6; i++) {
      const r = await client.chat.completions.create({
        model: 'gemini-vision',
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(r.choices[0]?.message.content).toBeTruthy();
    }
    const stats = await fake.stats();
    // dep-a answered RESOURCE_EXHAUSTED at most once before its cooldown; every client request succeeded.
    expect(stats.byPrefix['/dep-a']?.rejected429 ?? 0).toBeLessThanOrEqual(1);
  });

  it('renews a token the upstream no longer accepts, once, and answers', async () => {
    const before = (await fake.stats()).oauth.exchanges;
    await fake.control({ revokeTokens: true });
    const r = await client.chat.completions.create({
      model: 'gemini-vision',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(r.choices[0]?.message.content).toBeTruthy();
    expect((await fake.stats()).oauth.exchanges).toBe(before + 1);
  });
});

describe('when the token endpoint refuses the grant', () => {
  it('answers 401 naming the deployment, after trying the other, and cools both down', async () => {
    // A gateway of its own: no cooldown or cached token left by the tests above.
    const fresh = await startGateway({ config });
    const client = new OpenAI({ baseURL: `${fresh.url}/v1`, apiKey: 'sk-seed', maxRetries: 0 });
    // The fake now trusts another key: the gateway's grants are refused (invalid_grant).
    const { generateKeyPairSync } = await import('node:crypto');
    const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    });
    await fake.control({ oauthPublicKeys: [String(stranger)], revokeTokens: true });
    await fake.reset();
    const error = await client.chat.completions
      .create({ model: 'gemini-vision', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    const e = error as InstanceType<typeof OpenAI.AuthenticationError>;
    expect(e.message).toMatch(
      /vertex_ai deployment "[0-9a-f]+" of model group gemini-vision: its credentials were refused/,
    );
    expect(e.message).toContain('invalid_grant');
    expect(e.headers.get('x-fleetgate-error-code')).toBe('upstream_auth_error');
    // One refused exchange per deployment: the first deployment's refusal sent the request to the other.
    expect((await fake.stats()).oauth.refused).toBe(2);
    // Both are cooled down: the next request is refused at once, nothing reaches the token endpoint.
    const next = await client.chat.completions
      .create({ model: 'gemini-vision', messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x as { status: number });
    expect([429, 503]).toContain((next as { status: number }).status);
    expect((await fake.stats()).oauth.exchanges).toBe(2);
    // Nothing secret in what the client saw, nor in any log line (tokens, keys, signed grants).
    expect(e.message).not.toMatch(/PRIVATE KEY|ya29\.|assertion/);
    // Log lines are written in batches: wait for the request's.
    await expect.poll(() => fresh.lines.some((l) => l.includes('"error":"upstream_auth_error"'))).toBe(true);
    expect([...gateway.lines, ...fresh.lines].join('\n')).not.toMatch(/PRIVATE KEY|ya29\.|eyJhbGciOi/);
  });
});
