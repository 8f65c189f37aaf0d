import { describe, expect, it } from 'vitest';
import {
  type ChunkJson,
  choiceChunks,
  input,
  requestOf,
  runStream,
  sseData,
  testContext,
} from '../translator.test-support.js';
import { createGeminiAdapter, createVertexAdapter, vertexUrls } from './google-adapter.js';

const gemini = createGeminiAdapter(
  testContext('gemini', 'gemini-2.0-flash', { api_key: 'AIza-secret-key-123' }),
);
const t = gemini.openai;
const chat = (extra: Record<string, unknown> = {}) =>
  input('chat', { model: 'g', messages: [{ role: 'user', content: 'Hi' }], ...extra });

describe('Vertex AI URLs', () => {
  it("are LiteLLM's: regional, global, tuned-model endpoints, and api_base as the full model path", () => {
    const regional = vertexUrls({ apiBase: undefined, project: 'p1', location: 'europe-west4' });
    expect(regional.url('gemini-2.0-flash', 'generateContent')).toBe(
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent',
    );
    expect(regional.url('gemini-2.0-flash', 'streamGenerateContent')).toMatch(
      /:streamGenerateContent\?alt=sse$/,
    );
    expect(regional.url('4965075652664360960', 'generateContent')).toBe(
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west4/endpoints/4965075652664360960:generateContent',
    );
    // Partner models (Claude) under their publisher, raw Messages calls with no ?alt=sse.
    expect(regional.url('claude-3-5-sonnet-v2@20241022', 'streamRawPredict', 'anthropic')).toBe(
      'https://europe-west4-aiplatform.googleapis.com/v1/projects/p1/locations/europe-west4/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022:streamRawPredict',
    );
    expect(vertexUrls({ apiBase: undefined, project: 'p1', location: 'global' }).url('m', 'predict')).toBe(
      'https://aiplatform.googleapis.com/v1/projects/p1/locations/global/publishers/google/models/m:predict',
    );
    const seed = vertexUrls({
      apiBase:
        'https://exampleopenaiendpoint-production.up.railway.app/v1/projects/bad-adroit-crow-413218/locations/us-central1/publishers/google/models/gemini-1.0-pro-vision-001',
      project: 'adroit-crow-413218',
      location: 'us-central1',
    });
    expect(seed.url('ignored', 'streamGenerateContent')).toBe(
      'https://exampleopenaiendpoint-production.up.railway.app/v1/projects/bad-adroit-crow-413218/locations/us-central1/publishers/google/models/gemini-1.0-pro-vision-001:streamGenerateContent?alt=sse',
    );
  });

  it('need a project unless api_base names the model path', () => {
    const credentials = { type: 'authorized_user', client_id: 'c', client_secret: 's', refresh_token: 'r' };
    expect(() =>
      createVertexAdapter(
        testContext('vertex_ai', 'gemini-2.0-flash', { vertex_credentials: JSON.stringify(credentials) }),
      ),
    ).toThrow(/vertex_project/);
    const env = { VERTEXAI_PROJECT: 'from-env', VERTEXAI_LOCATION: 'asia-east1' };
    const a = createVertexAdapter(
      testContext('vertex_ai', 'g', { vertex_credentials: credentials }, { env }),
    );
    expect(a.apiBase).toBe('https://asia-east1-aiplatform.googleapis.com');
  });
});

describe('Gemini (AI Studio) requests', () => {
  it('go to models/<model>:generateContent with the key in x-goog-api-key, never in the URL', () => {
    const call = requestOf(t, chat());
    expect(call.target).toEqual({
      origin: 'https://generativelanguage.googleapis.com',
      path: '/v1beta/models/gemini-2.0-flash:generateContent',
    });
    expect(call.headers['x-goog-api-key']).toBe('AIza-secret-key-123');
    expect(requestOf(t, chat({ stream: true })).target.path).toBe(
      '/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse',
    );
    expect(
      requestOf(t, input('embeddings', { model: 'e', input: ['a'] }, 'gemini-embedding-001')).target.path,
    ).toBe('/v1beta/models/gemini-embedding-001:batchEmbedContents');
    expect(gemini.endpoints.has('completions')).toBe(false);
  });
});

describe('Gemini answers → OpenAI', () => {
  const decode = (res: unknown, extra: Record<string, unknown> = {}) =>
    JSON.parse(t.decodeJson(Buffer.from(JSON.stringify(res)), chat(extra)).body.toString());

  it('text, usage with thinking and cached tokens', () => {
    const res = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [{ text: 'Let me think', thought: true }, { text: 'Hello' }, { text: ' there' }],
          },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: 10,
        candidatesTokenCount: 2,
        thoughtsTokenCount: 5,
        cachedContentTokenCount: 4,
        totalTokenCount: 17,
      },
      modelVersion: 'gemini-2.0-flash-001',
      responseId: 'abc123',
    };
    const out = t.decodeJson(Buffer.from(JSON.stringify(res)), chat());
    expect(out.usage).toEqual({ promptTokens: 10, completionTokens: 7 });
    expect(JSON.parse(out.body.toString())).toMatchObject({
      id: 'chatcmpl-abc123',
      object: 'chat.completion',
      model: 'gemini-2.0-flash-001',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there', reasoning_content: 'Let me think' },
          finish_reason: 'stop',
        },
      ],
      usage: {
        prompt_tokens: 10,
        completion_tokens: 7,
        total_tokens: 17,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 5 },
      },
    });
  });

  it('function calls become tool_calls; finish reasons map as LiteLLM maps them', () => {
    const call = decode({
      candidates: [
        {
          content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] },
          finishReason: 'STOP',
        },
      ],
      usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4 },
    });
    expect(call.choices[0]).toMatchObject({
      message: {
        content: null,
        tool_calls: [{ type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }],
      },
      finish_reason: 'tool_calls',
    });
    expect(call.choices[0].message.tool_calls[0].id).toMatch(/^call_/);
    const finish = (reason: string) =>
      decode({ candidates: [{ content: { parts: [{ text: 'x' }] }, finishReason: reason }] }).choices[0]
        .finish_reason;
    expect(['MAX_TOKENS', 'SAFETY', 'RECITATION', 'OTHER'].map(finish)).toEqual([
      'length',
      'content_filter',
      'content_filter',
      'stop',
    ]);
    expect(decode({ promptFeedback: { blockReason: 'SAFETY' } }).choices).toEqual([
      {
        index: 0,
        message: { role: 'assistant', content: null },
        logprobs: null,
        finish_reason: 'content_filter',
      },
    ]);
  });
});

describe('Gemini streams → OpenAI chunks', () => {
  const events = [
    {
      candidates: [{ content: { role: 'model', parts: [{ text: 'Hel' }] }, index: 0 }],
      modelVersion: 'gemini-2.0-flash',
      responseId: 'r1',
    },
    {
      candidates: [{ content: { role: 'model', parts: [{ text: 'lo' }] }, index: 0 }],
      modelVersion: 'gemini-2.0-flash',
      responseId: 'r1',
    },
    {
      candidates: [
        {
          content: { role: 'model', parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] },
          finishReason: 'STOP',
          index: 0,
        },
      ],
      usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 3, totalTokenCount: 11 },
      modelVersion: 'gemini-2.0-flash',
      responseId: 'r1',
    },
  ];
  const sse = events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join('');

  it('emit role, content and tool-call deltas, the finish reason, then [DONE]; usage only when asked', () => {
    const plain = runStream(t, chat({ stream: true }), [Buffer.from(sse)]);
    expect(plain.usage).toEqual({ promptTokens: 8, completionTokens: 3 });
    const chunks = sseData(plain.text);
    const choices = choiceChunks(plain.text);
    expect(chunks.at(-1)).toBe('[DONE]');
    expect(choices[0]!.delta).toEqual({ role: 'assistant', content: '' });
    expect((chunks[0] as ChunkJson).id).toBe('chatcmpl-r1');
    expect(choices.slice(1, 3).map((c) => c.delta.content)).toEqual(['Hel', 'lo']);
    expect(choices[3]!.delta.tool_calls?.[0]).toMatchObject({
      index: 0,
      function: { name: 'f', arguments: '{"a":1}' },
    });
    expect(choices[4]!.finish_reason).toBe('tool_calls');
    expect(plain.text).not.toContain('"usage"');
    const withUsage = sseData(runStream(t, chat({ stream: true }), [Buffer.from(sse)], true).text);
    expect(withUsage.at(-2)).toMatchObject({
      choices: [],
      usage: { prompt_tokens: 8, completion_tokens: 3, total_tokens: 11 },
    });
  });

  it('give the same chunks however the upstream bytes are split', () => {
    const whole = runStream(t, chat({ stream: true }), [Buffer.from(sse)], true)
      .text.replace(/"id":"[^"]+"/g, '')
      .replace(/"created":\d+/g, '')
      .replace(/"call_[^"]+"/g, '');
    const bytes = Buffer.from(sse);
    for (let cut = 1; cut < bytes.length; cut += 13) {
      const split = runStream(t, chat({ stream: true }), [bytes.subarray(0, cut), bytes.subarray(cut)], true);
      expect(
        split.text
          .replace(/"id":"[^"]+"/g, '')
          .replace(/"created":\d+/g, '')
          .replace(/"call_[^"]+"/g, ''),
      ).toBe(whole);
    }
  });

  it('end with an OpenAI error event when Gemini sends an error mid-stream', () => {
    const error = { error: { code: 429, message: 'Resource exhausted', status: 'RESOURCE_EXHAUSTED' } };
    const out = runStream(t, chat({ stream: true }), [
      Buffer.from(`data: ${JSON.stringify(events[0])}\n\ndata: ${JSON.stringify(error)}\n\n`),
    ]);
    expect(out.failedStatus).toBe(429);
    const last = sseData(out.text).at(-1) as ChunkJson;
    expect(last.error?.type).toBe('rate_limit_error');
    expect(last.error?.message).toContain('Resource exhausted');
  });
});

describe('Google errors → OpenAI errors, as LiteLLM maps them', () => {
  const decode = (status: number, body: unknown) => {
    const e = t.decodeError(status, Buffer.from(JSON.stringify(body)), {
      'content-type': 'application/json',
    });
    return { ...e, error: JSON.parse(e.body.toString()).error };
  };

  it('RESOURCE_EXHAUSTED is a 429 with the RetryInfo delay; a 429 wrapped in a 503 too', () => {
    const e = decode(429, {
      error: {
        code: 429,
        message: 'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute',
        status: 'RESOURCE_EXHAUSTED',
        details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }],
      },
    });
    expect(e).toMatchObject({ status: 429, code: 'upstream_rate_limited', retryAfterMs: 3000 });
    expect(e.error.type).toBe('rate_limit_error');
    expect(e.error.message).toMatch(/^GeminiException - Quota exceeded/);
    expect(decode(503, [{ error: { code: 429, message: 'busy', status: 'UNAVAILABLE' } }]).status).toBe(429);
  });

  it('refused credentials are a 401, context overflows a 400 context_length_exceeded, others keep their status', () => {
    expect(
      decode(401, {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials.',
          status: 'UNAUTHENTICATED',
        },
      }),
    ).toMatchObject({
      status: 401,
      code: 'upstream_auth_error',
    });
    expect(
      decode(400, {
        error: {
          code: 400,
          message: 'API key not valid. Please pass a valid API key.',
          status: 'INVALID_ARGUMENT',
        },
      }).status,
    ).toBe(401);
    const long = decode(400, {
      error: {
        code: 400,
        message: 'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
        status: 'INVALID_ARGUMENT',
      },
    });
    expect(long).toMatchObject({ status: 400, code: 'context_length_exceeded' });
    expect(
      decode(403, { error: { code: 403, message: 'Permission denied', status: 'PERMISSION_DENIED' } }).status,
    ).toBe(403);
    const html = t.decodeError(502, Buffer.from('<html>Bad Gateway</html>'), {});
    expect(html.status).toBe(502);
  });

  it('never show the API key', () => {
    const e = t.decodeError(
      400,
      Buffer.from(
        '{"error":{"code":400,"message":"bad key AIza-secret-key-123","status":"INVALID_ARGUMENT"}}',
      ),
      {},
    );
    expect(e.body.toString()).not.toContain('AIza-secret-key-123');
  });
});

describe('Gemini embeddings', () => {
  it('batchEmbedContents in, an OpenAI list out (base64 when the SDK asks)', () => {
    const i = input(
      'embeddings',
      { model: 'e', input: ['a', 'b'], dimensions: 2, encoding_format: 'base64' },
      'gemini-embedding-001',
    );
    expect(JSON.parse(requestOf(t, i).body.toString())).toEqual({
      requests: [
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'a' }] },
          outputDimensionality: 2,
        },
        {
          model: 'models/gemini-embedding-001',
          content: { parts: [{ text: 'b' }] },
          outputDimensionality: 2,
        },
      ],
    });
    const out = JSON.parse(
      t.decodeJson(Buffer.from('{"embeddings":[{"values":[0.5,-1]},{"values":[1,0]}]}'), i).body.toString(),
    );
    expect(out.data).toHaveLength(2);
    const bytes = Buffer.from(out.data[0].embedding, 'base64');
    expect([...new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4)]).toEqual([0.5, -1]);
    expect(() => requestOf(t, input('embeddings', { model: 'e', input: [1, 2, 3] }))).toThrow(/text only/);
  });
});
