import { createSign, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeLlm, type FakeLlm } from './index.js';

/** The body as JSON; JSON.parse's `any` lets assertions reach into it. */
const json = async (res: Response) => JSON.parse(await res.text());

const { privateKey, publicKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const other = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});

let fake: FakeLlm;
let base: string;

beforeAll(async () => {
  fake = createFakeLlm({ completionTokens: 3, oauthPublicKeys: [publicKey] });
  base = (await fake.listen()).url;
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.configure({ clear: true, quotas: [] });
  for (const prefix of ['/v1/projects', '/v1/messages']) fake.configure({ prefix, clear: true });
});

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

/** A service account's JWT grant, signed with `key`. */
function assertion(key: string, claims: Record<string, unknown> = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({
    iss: 'sa@p.iam.gserviceaccount.com',
    scope: 'https://www.googleapis.com/auth/cloud-platform',
    aud: `${base}/token`,
    iat: now,
    exp: now + 3600,
    ...claims,
  })}`;
  const signature = createSign('RSA-SHA256').update(unsigned).sign(key, 'base64url');
  return `${unsigned}.${signature}`;
}

const grant = (a: string, grantType = 'urn:ietf:params:oauth:grant-type:jwt-bearer') =>
  fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: grantType, assertion: a }).toString(),
  });

const VERTEX = '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.0-flash';
const vertex = (
  method: string,
  token: string | undefined,
  body: unknown = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
) =>
  fetch(`${base}${VERTEX}:${method}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('the OAuth token endpoint', () => {
  it('grants a token for a JWT signed by a known service account, and Vertex routes require it', async () => {
    expect((await vertex('generateContent', undefined)).status).toBe(401);
    const res = await grant(assertion(privateKey));
    expect(res.status).toBe(200);
    const token = await json(res);
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(token.access_token).toMatch(/^ya29\./);
    const ok = await vertex('generateContent', token.access_token);
    expect(ok.status).toBe(200);
    expect((await json(ok)).usageMetadata.candidatesTokenCount).toBe(3);
    expect(fake.stats().oauth).toEqual({ exchanges: 1, issued: 1, refused: 0 });
  });

  it("refuses grants as Google does: another key's signature, a wrong audience, stale times, another grant type", async () => {
    const cases: Array<[string, string]> = [
      [assertion(other.privateKey), 'Invalid JWT Signature.'],
      [assertion(privateKey, { aud: 'https://oauth2.googleapis.com/elsewhere' }), 'Failed audience check'],
      [assertion(privateKey, { iat: 1, exp: 3601 }), 'short-lived token'],
    ];
    for (const [a, description] of cases) {
      const res = await grant(a);
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error).toBe('invalid_grant');
      expect(body.error_description).toContain(description);
    }
    expect((await json(await grant(assertion(privateKey), 'password'))).error).toBe('unsupported_grant_type');
    expect(fake.stats().oauth).toMatchObject({ exchanges: 4, refused: 4, issued: 0 });
  });

  it('forgets tokens on revokeTokens, and issues short-lived ones when told', async () => {
    fake.configure({ tokenTtlS: 1 });
    const { access_token: token, expires_in } = await json(await grant(assertion(privateKey)));
    expect(expires_in).toBe(1);
    expect((await vertex('generateContent', token)).status).toBe(200);
    fake.configure({ revokeTokens: true, tokenTtlS: 3600 });
    const refused = await vertex('generateContent', token);
    expect(refused.status).toBe(401);
    expect((await json(refused)).error.status).toBe('UNAUTHENTICATED');
  });

  it("answers the metadata server's token request only with Metadata-Flavor: Google", async () => {
    const path = `${base}/computeMetadata/v1/instance/service-accounts/default/token`;
    expect((await fetch(path)).status).toBe(403);
    const res = await fetch(path, { headers: { 'metadata-flavor': 'Google' } });
    expect(res.status).toBe(200);
    expect((await vertex('generateContent', (await json(res)).access_token)).status).toBe(200);
  });
});

describe('Vertex AI embeddings and Google errors', () => {
  it(':predict embeds instances with token counts; :batchEmbedContents embeds requests', async () => {
    const { access_token: token } = await json(await grant(assertion(privateKey)));
    const res = await fetch(
      `${base}/v1/projects/p/locations/l/publishers/google/models/text-embedding-005:predict`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({
          instances: [{ content: 'abcdefgh' }, { content: 'x' }],
          parameters: { outputDimensionality: 4 },
        }),
      },
    );
    const body = await json(res);
    expect(body.predictions).toHaveLength(2);
    expect(body.predictions[0].embeddings.values).toHaveLength(4);
    expect(body.predictions[0].embeddings.statistics.token_count).toBe(2);
    const batch = await json(
      await fetch(`${base}/v1beta/models/gemini-embedding-001:batchEmbedContents`, {
        method: 'POST',
        headers: { 'x-goog-api-key': 'AIza-test' },
        body: JSON.stringify({ requests: [{ model: 'models/x', content: { parts: [{ text: 'a' }] } }] }),
      }),
    );
    expect(batch.embeddings[0].values).toHaveLength(8);
  });

  it("answers quota rejections and injected failures in Google's error shape", async () => {
    const { access_token: token } = await json(await grant(assertion(privateKey)));
    fake.configure({ quotas: [{ prefix: '/v1/projects', rpm: 1 }] });
    expect((await vertex('generateContent', token)).status).toBe(200);
    const limited = await vertex('generateContent', token);
    expect(limited.status).toBe(429);
    expect((await json(limited)).error).toMatchObject({ code: 429, status: 'RESOURCE_EXHAUSTED' });
    fake.configure({ quotas: [] });
    fake.configure({ prefix: '/v1/projects', failRate: 1, failStatus: 503 });
    expect((await json(await vertex('generateContent', token))).error).toMatchObject({
      code: 503,
      status: 'UNAVAILABLE',
    });
  });
});

describe('Azure OpenAI paths', () => {
  const azure = (query: string, headers: Record<string, string>) =>
    fetch(`${base}/openai/deployments/gpt-4o-prod/chat/completions${query}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });

  it('need an api-version and an api-key, as Azure does', async () => {
    expect((await azure('', { 'api-key': 'k' })).status).toBe(404);
    const noKey = await azure('?api-version=2024-10-21', {});
    expect(noKey.status).toBe(401);
    expect((await json(noKey)).error.code).toBe('401');
    const ok = await azure('?api-version=2024-10-21', { 'api-key': 'k' });
    expect((await json(ok)).object).toBe('chat.completion');
  });
});

describe('Bedrock Converse', () => {
  const sigv4 = {
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKID/20250102/us-east-1/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=' +
      'a'.repeat(64),
    'x-amz-date': '20250102T030405Z',
  };
  const request = {
    system: [{ text: 'Be brief.' }],
    messages: [{ role: 'user', content: [{ text: 'Hello there' }] }],
    inferenceConfig: { maxTokens: 2 },
  };
  const model = encodeURIComponent('anthropic.claude-3-5-sonnet-20240620-v1:0');
  const converse = (suffix: string, headers: Record<string, string>) =>
    fetch(`${base}/model/${model}/${suffix}`, { method: 'POST', headers, body: JSON.stringify(request) });

  it('answers Converse when SigV4 headers are present, and refuses without them', async () => {
    const refused = await converse('converse', {});
    expect(refused.status).toBe(403);
    expect(refused.headers.get('x-amzn-errortype')).toMatch(/^MissingAuthenticationTokenException/);
    const res = await converse('converse', sigv4);
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      output: { message: { role: 'assistant', content: [{ text: 'lorem ipsum' }] } },
      stopReason: 'max_tokens',
      usage: { inputTokens: 5, outputTokens: 2, totalTokens: 7 },
    });
    expect(fake.stats().models).toEqual({ 'anthropic.claude-3-5-sonnet-20240620-v1:0': 1 });
  });

  it('streams ConverseStream as AWS event-stream frames with valid checksums', async () => {
    const res = await converse('converse-stream', sigv4);
    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    const buf = Buffer.from(await res.arrayBuffer());
    const { crc32 } = await import('node:zlib');
    const events: Array<{ type: string; payload: Record<string, unknown> }> = [];
    for (let i = 0; i < buf.length; ) {
      const total = buf.readUInt32BE(i);
      const headers = buf.readUInt32BE(i + 4);
      expect(crc32(buf.subarray(i, i + 8))).toBe(buf.readUInt32BE(i + 8));
      expect(crc32(buf.subarray(i, i + total - 4))).toBe(buf.readUInt32BE(i + total - 4));
      // The first header is :event-type: name length, name, type 7 (string), value length, value.
      const nameLength = buf.readUInt8(i + 12);
      expect(buf.toString('utf8', i + 13, i + 13 + nameLength)).toBe(':event-type');
      expect(buf.readUInt8(i + 13 + nameLength)).toBe(7);
      const valueAt = i + 14 + nameLength;
      const type = buf.toString('utf8', valueAt + 2, valueAt + 2 + buf.readUInt16BE(valueAt));
      events.push({ type, payload: JSON.parse(buf.subarray(i + 12 + headers, i + total - 4).toString()) });
      i += total;
    }
    expect(events.map((e) => e.type)).toEqual([
      'messageStart',
      'contentBlockDelta',
      'contentBlockDelta',
      'contentBlockStop',
      'messageStop',
      'metadata',
    ]);
    expect(events[4]!.payload).toEqual({ stopReason: 'max_tokens' });
    expect(events[5]!.payload['usage']).toEqual({ inputTokens: 5, outputTokens: 2, totalTokens: 7 });
  });

  it('throttles with ThrottlingException in x-amzn-errortype', async () => {
    fake.configure({ quotas: [{ prefix: '/model/', rpm: 1 }] });
    await converse('converse', sigv4);
    const res = await converse('converse', sigv4);
    expect(res.status).toBe(429);
    expect(res.headers.get('x-amzn-errortype')).toMatch(/^ThrottlingException:/);
    expect(await json(res)).toEqual({ message: 'Too many requests, please wait before trying again.' });
  });
});

describe('Anthropic errors', () => {
  it('refuses a call without a key, and fails in Anthropic’s shape', async () => {
    const body = JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    const noKey = await fetch(`${base}/v1/messages`, { method: 'POST', body });
    expect(noKey.status).toBe(401);
    expect(await json(noKey)).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'x-api-key header is required' },
    });
    fake.configure({ prefix: '/v1/messages', failRate: 1, failStatus: 529 });
    const overloaded = await fetch(`${base}/v1/messages`, {
      method: 'POST',
      body,
      headers: { 'x-api-key': 'k' },
    });
    expect(overloaded.status).toBe(529);
    expect((await json(overloaded)).error.type).toBe('overloaded_error');
  });
});
