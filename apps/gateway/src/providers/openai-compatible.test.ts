import { describe, expect, it } from 'vitest';
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
  const adapter = createOpenAiCompatibleAdapter('openai', 'https://api.openai.com/v1', {
    upstreamModel: 'gpt-4o',
    apiBase: undefined,
    apiKey: 'sk-upstream-1234',
    organization: 'org-1',
    extraHeaders: { 'X-Team': 'a' },
  });

  it("sends the deployment's key, organisation and extra headers", () => {
    expect(adapter.headers).toEqual({
      'content-type': 'application/json',
      authorization: 'Bearer sk-upstream-1234',
      'openai-organization': 'org-1',
      'x-team': 'a',
    });
    expect(adapter.target('chat')).toEqual({
      origin: 'https://api.openai.com',
      path: '/v1/chat/completions',
    });
  });

  const encode = (endpoint: 'chat' | 'embeddings', body: Record<string, unknown>) => {
    const raw = Buffer.from(JSON.stringify(body));
    return JSON.parse(adapter.encodeBody(endpoint, JSON.parse(raw.toString()), raw).toString());
  };

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

  it("keeps the client's stream options while adding include_usage", () => {
    expect(encode('chat', { model: 'a', messages: [], stream: true, stream_options: { foo: 1 } })).toEqual({
      model: 'gpt-4o',
      messages: [],
      stream: true,
      stream_options: { foo: 1, include_usage: true },
    });
  });

  it('never lets a duplicate model key through', () => {
    const raw = Buffer.from('{"model":"a","messages":[],"model":"gpt-4-expensive"}');
    expect(JSON.parse(adapter.encodeBody('chat', JSON.parse(raw.toString()), raw).toString()).model).toBe(
      'gpt-4o',
    );
  });

  it('scrubs its key out of upstream text', () => {
    expect(adapter.scrub(Buffer.from('{"error":"bad key sk-upstream-1234"}')).toString()).toBe(
      '{"error":"bad key [redacted]"}',
    );
  });
});

describe('OpenAI-compatible body encoding', () => {
  it("splices into the client's bytes instead of serialising the whole body again", () => {
    const adapter = createOpenAiCompatibleAdapter('openai', 'https://api.openai.com/v1', {
      upstreamModel: 'gpt-4o',
      apiBase: undefined,
      apiKey: undefined,
      organization: undefined,
      extraHeaders: undefined,
    });
    const raw = Buffer.from('{"model" : "alias",  "messages":[{"role":"user","content":"hi"}], "x":1.50}');
    const out = adapter.encodeBody('chat', JSON.parse(raw.toString()), raw);
    // Byte-for-byte the client's body but for the model: 1.50 stays 1.50, spacing stays.
    expect(out.toString()).toBe(
      '{"model" : "gpt-4o",  "messages":[{"role":"user","content":"hi"}], "x":1.50}',
    );
    const stream = Buffer.from('{"model":"alias","stream":true}');
    expect(adapter.encodeBody('chat', JSON.parse(stream.toString()), stream).toString()).toBe(
      '{"stream_options":{"include_usage":true},"model":"gpt-4o","stream":true}',
    );
  });
});
