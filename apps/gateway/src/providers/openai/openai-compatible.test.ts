import { describe, expect, it } from 'vitest';
import { input, requestOf, testContext } from '../translator.test-support.js';
import { createAzureAdapter, createAzureAiAdapter } from './azure.js';
import { createOpenAiCompatibleAdapter, joinEndpoint } from './openai-compatible.js';

describe('joinEndpoint', () => {
  it('appends the endpoint to a bare base, with or without /v1 and trailing slashes', () => {
    expect(joinEndpoint('http://h:8000/', 'chat')).toEqual({
      origin: 'http://h:8000',
      path: '/chat/completions',
    });
    expect(joinEndpoint('http://h:8000', 'chat').path).toBe('/chat/completions');
    expect(joinEndpoint('http://h:8000/v1', 'embeddings').path).toBe('/v1/embeddings');
    expect(joinEndpoint('https://api.openai.com/v1/', 'completions')).toEqual({
      origin: 'https://api.openai.com',
      path: '/v1/completions',
    });
  });

  it("treats an api_base that is already an endpoint URL as its base (LiteLLM's aiohttp spelling)", () => {
    expect(joinEndpoint('http://h/v1/chat/completions', 'chat').path).toBe('/v1/chat/completions');
    expect(joinEndpoint('http://h/v1/chat/completions', 'embeddings').path).toBe('/v1/embeddings');
    expect(joinEndpoint('http://h/v1/completions/', 'chat').path).toBe('/v1/chat/completions');
  });

  it('keeps a query string on the base', () => {
    expect(joinEndpoint('https://h/openai?api-version=2024-06-01', 'chat').path).toBe(
      '/openai/chat/completions?api-version=2024-06-01',
    );
  });
});

describe('OpenAI-compatible adapter', () => {
  const adapter = createOpenAiCompatibleAdapter(
    testContext('openai', 'gpt-4o', {
      api_key: 'sk-upstream-1234',
      organization: 'org-1',
      extra_headers: { 'X-Team': 'a' },
    }),
    'https://api.openai.com/v1',
  );
  const t = adapter.openai;

  it("sends the deployment's key, organisation and extra headers", () => {
    const call = requestOf(t, input('chat', { model: 'alias', messages: [] }));
    expect(call.headers).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer sk-upstream-1234',
      'openai-organization': 'org-1',
      'x-team': 'a',
    });
    expect(call.target).toEqual({ origin: 'https://api.openai.com', path: '/v1/chat/completions' });
    expect(adapter.apiBase).toBe('https://api.openai.com/v1');
  });

  const encode = (endpoint: 'chat' | 'embeddings', body: Record<string, unknown>, model?: string) =>
    JSON.parse(requestOf(t, input(endpoint, body, model)).body.toString());

  it('rewrites model and asks upstream for usage on streams', () => {
    expect(encode('chat', { model: 'alias', messages: [], stream: true })).toEqual({
      model: 'gpt-4o',
      messages: [],
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(encode('embeddings', { model: 'alias', input: 'x', stream: true })).toEqual({
      model: 'gpt-4o',
      input: 'x',
      stream: true,
    });
    expect(encode('chat', { messages: [{ role: 'user', content: '"model":"x"' }], model: 'alias' })).toEqual({
      messages: [{ role: 'user', content: '"model":"x"' }],
      model: 'gpt-4o',
    });
  });

  it('sends the model of the request when one is given (wildcard deployments)', () => {
    expect(encode('chat', { model: 'gpt-4.1-mini', messages: [] }, 'gpt-4.1-mini').model).toBe(
      'gpt-4.1-mini',
    );
  });

  it("keeps the client's stream options while adding include_usage", () => {
    expect(encode('chat', { model: 'a', messages: [], stream: true, stream_options: { foo: 1 } })).toEqual({
      model: 'gpt-4o',
      messages: [],
      stream: true,
      stream_options: { foo: 1, include_usage: true },
    });
  });

  it('never lets a duplicate model key through, and never changes the shared body', () => {
    const raw = Buffer.from('{"model":"a","messages":[],"model":"gpt-4-expensive"}');
    const body = JSON.parse(raw.toString());
    const call = requestOf(t, { endpoint: 'chat', body, raw, stream: false });
    expect(JSON.parse(call.body.toString()).model).toBe('gpt-4o');
    expect(body.model).toBe('gpt-4-expensive');
  });

  it('scrubs its key out of upstream errors, keeping their status and OpenAI shape', () => {
    const e = t.decodeError(
      401,
      Buffer.from(
        '{"error":{"message":"bad key sk-upstream-1234","type":"invalid_request_error","code":"invalid_api_key"}}',
      ),
      { 'content-type': 'application/json' },
    );
    expect(e.status).toBe(401);
    expect(e.code).toBe('upstream_auth_error');
    expect(e.body.toString()).toContain('bad key [redacted]');
    expect(e.body.toString()).not.toContain('sk-upstream-1234');
  });

  it("wraps a non-JSON error in OpenAI's shape and names a context-length refusal", () => {
    const html = t.decodeError(503, Buffer.from('<html>Service Unavailable</html>'), {
      'content-type': 'text/html',
    });
    expect(html.status).toBe(503);
    expect(JSON.parse(html.body.toString()).error.message).toBe(
      'upstream answered 503: <html>Service Unavailable</html>',
    );
    const long = t.decodeError(
      400,
      Buffer.from(
        '{"error":{"message":"This model\'s maximum context length is 8192 tokens","code":"context_length_exceeded"}}',
      ),
      { 'content-type': 'application/json' },
    );
    expect(long.code).toBe('context_length_exceeded');
  });
});

describe('OpenAI-compatible body encoding', () => {
  const t = createOpenAiCompatibleAdapter(
    testContext('openai', 'gpt-4o'),
    'https://api.openai.com/v1',
  ).openai;

  it("splices into the client's bytes instead of serialising the whole body again", () => {
    const raw = Buffer.from('{"model" : "alias",  "messages":[{"role":"user","content":"hi"}], "x":1.50}');
    const body = JSON.parse(raw.toString());
    const out = requestOf(t, { endpoint: 'chat', body, raw, stream: false }).body;
    // Byte-for-byte the client's body but for the model: 1.50 stays 1.50, spacing stays.
    expect(out.toString()).toBe(
      '{"model" : "gpt-4o",  "messages":[{"role":"user","content":"hi"}], "x":1.50}',
    );
    const stream = Buffer.from('{"model":"alias","stream":true}');
    expect(
      requestOf(t, {
        endpoint: 'chat',
        body: JSON.parse(stream.toString()),
        raw: stream,
        stream: true,
      }).body.toString(),
    ).toBe('{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true}');
  });
});

describe('Azure OpenAI', () => {
  const params = {
    api_base: 'https://acme.openai.azure.com/',
    api_key: 'azure-key-123456',
    api_version: '2024-10-21',
  };

  it('calls the deployment path with the api-version, the key in api-key', () => {
    const a = createAzureAdapter(testContext('azure', 'gpt-4o-prod', params));
    const chat = requestOf(a.openai, input('chat', { model: 'x', messages: [], stream: true }));
    expect(chat.target).toEqual({
      origin: 'https://acme.openai.azure.com',
      path: '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21',
    });
    expect(chat.headers['api-key']).toBe('azure-key-123456');
    expect(chat.headers['authorization']).toBeUndefined();
    expect(JSON.parse(chat.body.toString()).stream_options).toEqual({ include_usage: true });
    const emb = requestOf(a.openai, input('embeddings', { model: 'x', input: 'a' }));
    expect(emb.target.path).toBe('/openai/deployments/gpt-4o-prod/embeddings?api-version=2024-10-21');
    const other = requestOf(a.openai, input('completions', { model: 'x', prompt: 'a' }, 'davinci'));
    expect(other.target.path).toBe('/openai/deployments/davinci/completions?api-version=2024-10-21');
  });

  it("takes LiteLLM's environment defaults, an Entra ID token, and a full deployment URL", () => {
    const env = {
      AZURE_API_BASE: 'https://e.openai.azure.com',
      AZURE_AD_TOKEN: 'eyJ-entra-token',
      AZURE_API_VERSION: '2024-02-01',
    };
    const a = createAzureAdapter(testContext('azure', 'dep', {}, { env }));
    const call = requestOf(a.openai, input('chat', { model: 'x', messages: [], stream: true }));
    expect(call.target.path).toBe('/openai/deployments/dep/chat/completions?api-version=2024-02-01');
    expect(call.headers['authorization']).toBe('Bearer eyJ-entra-token');
    // An api-version before stream_options existed is not sent the field.
    expect(JSON.parse(call.body.toString()).stream_options).toBeUndefined();
    const full = createAzureAdapter(
      testContext('azure', 'ignored', {
        api_base:
          'https://e.openai.azure.com/openai/deployments/real/chat/completions?api-version=2025-01-01',
        api_key: 'k-123456789',
      }),
    );
    expect(requestOf(full.openai, input('embeddings', { model: 'x', input: 'a' })).target.path).toBe(
      '/openai/deployments/real/embeddings?api-version=2025-01-01',
    );
  });

  it('defaults the api-version as LiteLLM does and refuses a deployment without a base or key', () => {
    const a = createAzureAdapter(
      testContext('azure', 'd', { api_base: 'https://x.openai.azure.com', api_key: 'k-123456789' }),
    );
    expect(requestOf(a.openai, input('chat', { messages: [] })).target.path).toContain(
      'api-version=2025-02-01-preview',
    );
    expect(() => createAzureAdapter(testContext('azure', 'd', { api_key: 'k' }))).toThrow(/api_base/);
    expect(() => createAzureAdapter(testContext('azure', 'd', { api_base: 'https://x' }))).toThrow(
      /api_key or azure_ad_token/,
    );
  });

  it('azure_ai: the models path on services.ai.azure.com with api-key, a bearer elsewhere', () => {
    const foundry = createAzureAiAdapter(
      testContext('azure_ai', 'mistral-large', {
        api_base: 'https://r.services.ai.azure.com',
        api_key: 'k-123456789',
        api_version: '2024-05-01-preview',
      }),
    );
    const call = requestOf(foundry.openai, input('chat', { model: 'x', messages: [] }));
    expect(call.target.path).toBe('/models/chat/completions?api-version=2024-05-01-preview');
    expect(call.headers['api-key']).toBe('k-123456789');
    const serverless = createAzureAiAdapter(
      testContext('azure_ai', 'llama', {
        api_base: 'https://llama.eastus.models.ai.azure.com',
        api_key: 'k-123456789',
      }),
    );
    const s = requestOf(serverless.openai, input('chat', { model: 'x', messages: [] }));
    expect(s.target.path).toBe('/chat/completions');
    expect(s.headers['authorization']).toBe('Bearer k-123456789');
  });
});
