import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../errors.js';
import {
  type ChunkJson,
  choiceChunks,
  input,
  requestOf,
  runStream,
  sseData,
  testContext,
} from '../translator.test-support.js';
import { createAnthropicAdapter } from './anthropic-adapter.js';

const adapter = createAnthropicAdapter(
  testContext('anthropic', 'claude-sonnet-4-5', { api_key: 'sk-ant-secret-123' }),
);
const t = adapter.openai;
const body = (i: ReturnType<typeof input>) => JSON.parse(requestOf(t, i).body.toString());

describe('OpenAI chat → Anthropic Messages', () => {
  it('calls /v1/messages with x-api-key and anthropic-version', () => {
    const call = requestOf(t, input('chat', { model: 'c', messages: [{ role: 'user', content: 'hi' }] }));
    expect(call.target).toEqual({ origin: 'https://api.anthropic.com', path: '/v1/messages' });
    expect(call.headers).toMatchObject({
      'x-api-key': 'sk-ant-secret-123',
      'anthropic-version': '2023-06-01',
    });
    expect(adapter.endpoints.has('embeddings')).toBe(false);
  });

  it('moves system into system blocks, tool calls and results into blocks, merges turns, defaults max_tokens', () => {
    const out = body(
      input('chat', {
        model: 'c',
        messages: [
          { role: 'system', content: 'Be terse.' },
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Look:' },
              { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
            ],
          },
          { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] },
          {
            role: 'assistant',
            content: 'Checking.',
            tool_calls: [
              { id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"a"}' } },
            ],
          },
          { role: 'tool', tool_call_id: 'toolu_1', content: 'found' },
          { role: 'user', content: 'So?' },
        ],
        tools: [
          {
            type: 'function',
            function: {
              name: 'lookup',
              description: 'Search',
              parameters: { type: 'object', properties: { q: { type: 'string' } } },
            },
          },
        ],
        tool_choice: 'required',
        parallel_tool_calls: false,
        stop: ['\n\n'],
        temperature: 0.5,
        user: 'u-42',
        stream: true,
      }),
    );
    expect(out).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      system: [{ type: 'text', text: 'Be terse.' }],
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Look:' },
            { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Checking.' },
            { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'a' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: 'found' },
            { type: 'text', text: 'So?' },
          ],
        },
      ],
      tools: [
        {
          name: 'lookup',
          description: 'Search',
          input_schema: { type: 'object', properties: { q: { type: 'string' } } },
        },
      ],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['\n\n'],
      temperature: 0.5,
      metadata: { user_id: 'u-42' },
      stream: true,
    });
  });

  it('asks for JSON through a forced json_tool_call tool, as LiteLLM does', () => {
    const schema = { type: 'object', properties: { a: { type: 'number' } } };
    const out = body(
      input('chat', {
        model: 'c',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 10,
        response_format: { type: 'json_schema', json_schema: { name: 'r', schema } },
      }),
    );
    expect(out.max_tokens).toBe(10);
    expect(out.tools).toEqual([
      { name: 'json_tool_call', description: 'Respond with a JSON object.', input_schema: schema },
    ]);
    expect(out.tool_choice).toEqual({ type: 'tool', name: 'json_tool_call' });
  });

  it('refuses an image type or a tool schema Anthropic would reject, naming the field', () => {
    const refusal = (b: Record<string, unknown>) => {
      try {
        requestOf(t, input('chat', { model: 'c', ...b }));
      } catch (error) {
        if (error instanceof GatewayError) return [error.status, error.param];
      }
      return undefined;
    };
    expect(
      refusal({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image_url', image_url: { url: 'data:image/tiff;base64,AAAA' } }],
          },
        ],
      }),
    ).toEqual([400, 'messages[0].content[0].image_url']);
    expect(
      refusal({
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'array' } } }],
      }),
    ).toEqual([400, 'tools[0].function.parameters']);
    expect(
      refusal({
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'function', function: { name: 'has space', parameters: { type: 'object' } } }],
      }),
    ).toEqual([400, 'tools[0].function.name']);
    expect(
      refusal({
        messages: [
          { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] },
        ],
      }),
    ).toEqual([400, 'messages[0].content[0].input_audio']);
  });
});

describe('Anthropic answers → OpenAI', () => {
  const message = {
    id: 'msg_01',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [
      { type: 'thinking', thinking: 'hmm', signature: 'sig' },
      { type: 'text', text: 'Let me look.' },
      { type: 'tool_use', id: 'toolu_9', name: 'lookup', input: { q: 'cats' } },
    ],
    stop_reason: 'tool_use',
    stop_sequence: null,
    usage: {
      input_tokens: 20,
      output_tokens: 12,
      cache_read_input_tokens: 100,
      cache_creation_input_tokens: 5,
    },
  };

  it('text, thinking, tool calls, stop reason and usage with cache tokens', () => {
    const out = t.decodeJson(
      Buffer.from(JSON.stringify(message)),
      input('chat', { model: 'c', messages: [] }),
    );
    expect(out.usage).toEqual({ promptTokens: 125, completionTokens: 12 });
    expect(JSON.parse(out.body.toString())).toMatchObject({
      id: 'msg_01',
      object: 'chat.completion',
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          message: {
            role: 'assistant',
            content: 'Let me look.',
            reasoning_content: 'hmm',
            tool_calls: [
              { id: 'toolu_9', type: 'function', function: { name: 'lookup', arguments: '{"q":"cats"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 125,
        completion_tokens: 12,
        total_tokens: 137,
        prompt_tokens_details: { cached_tokens: 100 },
      },
    });
  });

  it('a json_tool_call answer is the message content', () => {
    const json = {
      ...message,
      content: [{ type: 'tool_use', id: 't', name: 'json_tool_call', input: { a: 1 } }],
    };
    const out = JSON.parse(
      t.decodeJson(Buffer.from(JSON.stringify(json)), input('chat', { messages: [] })).body.toString(),
    );
    expect(out.choices[0]).toMatchObject({ message: { content: '{"a":1}' }, finish_reason: 'stop' });
    expect(out.choices[0].message.tool_calls).toBeUndefined();
  });
});

const ev = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const stream = [
  ev('message_start', {
    message: {
      id: 'msg_s',
      model: 'claude-x',
      usage: { input_tokens: 9, output_tokens: 1, cache_read_input_tokens: 1 },
    },
  }),
  ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  ev('ping', {}),
  ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
  ev('content_block_stop', { index: 0 }),
  ev('content_block_start', {
    index: 1,
    content_block: { type: 'tool_use', id: 'toolu_2', name: 'f', input: {} },
  }),
  ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } }),
  ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } }),
  ev('content_block_stop', { index: 1 }),
  ev('message_delta', {
    delta: { stop_reason: 'tool_use', stop_sequence: null },
    usage: { output_tokens: 7 },
  }),
  ev('message_stop', {}),
].join('');

describe('Anthropic streams → OpenAI chunks', () => {
  it('emit role, text, tool-call deltas and the finish reason; usage settles from message_start and message_delta', () => {
    const out = runStream(
      t,
      input('chat', { model: 'c', messages: [], stream: true }),
      [Buffer.from(stream)],
      true,
    );
    expect(out.usage).toEqual({ promptTokens: 10, completionTokens: 7 });
    const chunks = sseData(out.text);
    const deltas = choiceChunks(out.text);
    expect(deltas.map((d) => d.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hi' },
      { tool_calls: [{ index: 0, id: 'toolu_2', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '1}' } }] },
      {},
    ]);
    expect(deltas.at(-1)?.finish_reason).toBe('tool_calls');
    expect(chunks.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 10, completion_tokens: 7 } });
    expect(chunks.at(-1)).toBe('[DONE]');
  });

  it('an error event ends the stream with an OpenAI error and marks the failure', () => {
    const broken =
      stream.slice(0, stream.indexOf('event: content_block_stop')) +
      ev('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });
    const out = runStream(t, input('chat', { model: 'c', messages: [], stream: true }), [
      Buffer.from(broken),
    ]);
    expect(out.failedStatus).toBe(500);
    expect((sseData(out.text).at(-1) as ChunkJson).error?.message).toContain('Overloaded');
  });
});

describe('Anthropic errors', () => {
  const decode = (status: number, type: string, message: string) =>
    t.decodeError(status, Buffer.from(JSON.stringify({ type: 'error', error: { type, message } })), {});

  it('map as LiteLLM maps them, in OpenAI shape, key scrubbed', () => {
    expect(decode(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit')).toMatchObject({
      status: 429,
      code: 'upstream_rate_limited',
    });
    expect(decode(401, 'authentication_error', 'invalid x-api-key sk-ant-secret-123')).toMatchObject({
      status: 401,
      code: 'upstream_auth_error',
    });
    expect(
      decode(401, 'authentication_error', 'invalid x-api-key sk-ant-secret-123').body.toString(),
    ).not.toContain('sk-ant-secret-123');
    expect(
      decode(400, 'invalid_request_error', 'prompt is too long: 210000 tokens > 200000 maximum'),
    ).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
    expect(decode(529, 'overloaded_error', 'Overloaded').status).toBe(500);
  });
});

describe('Anthropic clients to an Anthropic deployment', () => {
  const native = adapter.native!;

  it('pass through with the model spliced in, usage read from the answer and the stream', () => {
    const raw = Buffer.from('{"model":"alias","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}');
    const i = { endpoint: 'chat' as const, body: JSON.parse(raw.toString()), raw, stream: false };
    expect(requestOf(native, i).body.toString()).toBe(
      '{"model":"claude-sonnet-4-5","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}',
    );
    const answer = Buffer.from(
      JSON.stringify({
        id: 'm',
        content: [{ type: 'text', text: '{"usage":1}' }],
        usage: { input_tokens: 3, output_tokens: 2 },
      }),
    );
    expect(native.decodeJson(answer, i)).toEqual({
      body: answer,
      contentType: 'application/json',
      usage: { promptTokens: 3, completionTokens: 2 },
    });
    const s = native.createStream(i, false);
    const bytes = Buffer.from(stream);
    const passed = Buffer.concat([s.process(bytes.subarray(0, 100)), s.process(bytes.subarray(100))]);
    s.flush();
    expect(passed.equals(bytes)).toBe(true);
    expect(s.usage).toEqual({ promptTokens: 10, completionTokens: 7 });
  });

  it("forward the client's anthropic-beta header, and only to Anthropic", () => {
    const raw = Buffer.from('{"model":"a","max_tokens":5,"messages":[]}');
    const i = { endpoint: 'chat' as const, body: JSON.parse(raw.toString()), raw, stream: false };
    expect(requestOf(native, i).headers['anthropic-beta']).toBeUndefined();
    const beta = { ...i, clientHeaders: { 'anthropic-beta': 'prompt-caching-2024-07-31' } };
    expect(requestOf(native, beta).headers['anthropic-beta']).toBe('prompt-caching-2024-07-31');
    expect(requestOf(native, i).headers['anthropic-beta']).toBeUndefined();
  });

  it("pass errors through in Anthropic's shape", () => {
    const e = native.decodeError(
      429,
      Buffer.from('{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}'),
      {},
    );
    expect(e.status).toBe(429);
    expect(JSON.parse(e.body.toString())).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down' },
    });
  });
});
