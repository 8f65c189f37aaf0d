import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../../errors.js';
import { createOpenAiCompatibleAdapter } from '../openai/openai-compatible.js';
import { input, requestOf, testContext } from '../translator.test-support.js';
import { createAnthropicAdapter } from './anthropic-adapter.js';
import { anthropicClientTranslator } from './client-translator.js';
import { checkMessagesRequest, toOpenAiChat } from './messages-request.js';

const openai = createOpenAiCompatibleAdapter(
  testContext('openai', 'gpt-4o', { api_key: 'sk-up-123456' }),
  'https://api.openai.com/v1',
);
const t = anthropicClientTranslator(openai);
const messages = (extra: Record<string, unknown> = {}) =>
  input('chat', { model: 'alias', max_tokens: 64, messages: [{ role: 'user', content: 'Hi' }], ...extra });

/** The event types and data of Anthropic SSE text. */
function events(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((e) => e.trim() !== '')
    .map((e) => {
      const [head, data] = e.split('\n');
      return { event: head!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
    });
}

describe('Anthropic Messages requests', () => {
  it('need model, max_tokens and user/assistant turns, with 400s naming the field', () => {
    const field = (body: Record<string, unknown>) => {
      try {
        checkMessagesRequest(body);
      } catch (e) {
        return (e as GatewayError).param;
      }
      return undefined;
    };
    expect(field({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).toBeUndefined();
    expect(field({ max_tokens: 5, messages: [] })).toBe('model');
    expect(field({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).toBe('max_tokens');
    expect(field({ model: 'm', max_tokens: 5, messages: [] })).toBe('messages');
    expect(field({ model: 'm', max_tokens: 5, messages: [{ role: 'system', content: 'x' }] })).toBe(
      'messages[0].role',
    );
    expect(
      field({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }], stream: 'yes' }),
    ).toBe('stream');
  });

  it('become OpenAI chat requests for other providers: system, blocks, tools, tool results', () => {
    expect(
      toOpenAiChat({
        model: 'alias',
        max_tokens: 100,
        system: [{ type: 'text', text: 'Be terse.' }],
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBO' } },
            ],
          },
          {
            role: 'assistant',
            content: [
              { type: 'thinking', thinking: 'hm', signature: 's' },
              { type: 'text', text: 'Checking.' },
              { type: 'tool_use', id: 'toolu_1', name: 'look', input: { q: 1 } },
            ],
          },
          {
            role: 'user',
            content: [
              { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a cat' }] },
              { type: 'text', text: 'So?' },
            ],
          },
        ],
        tools: [
          {
            name: 'look',
            description: 'Look it up',
            input_schema: { type: 'object', properties: { q: { type: 'number' } } },
          },
        ],
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
        stop_sequences: ['END'],
        temperature: 0.3,
        metadata: { user_id: 'u1' },
        stream: true,
      }),
    ).toEqual({
      model: 'alias',
      max_tokens: 100,
      messages: [
        { role: 'system', content: 'Be terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
          ],
        },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'look', arguments: '{"q":1}' } }],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'a cat' },
        { role: 'user', content: [{ type: 'text', text: 'So?' }] },
      ],
      tools: [
        {
          type: 'function',
          function: {
            name: 'look',
            description: 'Look it up',
            parameters: { type: 'object', properties: { q: { type: 'number' } } },
          },
        },
      ],
      tool_choice: 'required',
      parallel_tool_calls: false,
      stop: ['END'],
      temperature: 0.3,
      user: 'u1',
      stream: true,
    });
    expect(() =>
      toOpenAiChat({
        model: 'm',
        max_tokens: 1,
        messages: [{ role: 'user', content: 'x' }],
        tools: [{ type: 'web_search_20250305', name: 'web_search' }],
      }),
    ).toThrow(/server tool/);
  });

  it('reach an OpenAI-compatible deployment with its model and key', () => {
    const call = requestOf(t, messages());
    expect(call.target.path).toBe('/v1/chat/completions');
    expect(call.headers['authorization']).toBe('Bearer sk-up-123456');
    expect(JSON.parse(call.body.toString())).toEqual({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Hi' }],
      max_tokens: 64,
    });
  });

  it('pass through to an Anthropic deployment', () => {
    const claude = createAnthropicAdapter(testContext('anthropic', 'claude-x', { api_key: 'sk-ant-123456' }));
    expect(anthropicClientTranslator(claude)).toBe(claude.native);
  });
});

describe('OpenAI answers → Anthropic', () => {
  it('a chat completion becomes a message with tool_use blocks and Anthropic usage', () => {
    const completion = {
      id: 'chatcmpl-abc',
      object: 'chat.completion',
      model: 'gpt-4o-2024',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: 'Sure.',
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"q":2}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 30,
        completion_tokens: 5,
        total_tokens: 35,
        prompt_tokens_details: { cached_tokens: 10 },
      },
    };
    const out = t.decodeJson(Buffer.from(JSON.stringify(completion)), messages());
    expect(out.usage).toEqual({ promptTokens: 30, completionTokens: 5 });
    expect(JSON.parse(out.body.toString())).toEqual({
      id: 'msg_abc',
      type: 'message',
      role: 'assistant',
      model: 'gpt-4o-2024',
      content: [
        { type: 'text', text: 'Sure.' },
        { type: 'tool_use', id: 'call_1', name: 'look', input: { q: 2 } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 10 },
    });
  });

  it('an OpenAI stream becomes the Anthropic event sequence, however it is split', () => {
    const head =
      '{"id":"chatcmpl-s","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":';
    const sse = [
      `${head}[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
      `${head}[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`,
      `${head}[{"index":0,"delta":{"content":"lo"},"finish_reason":null}]}`,
      `${head}[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_9","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}`,
      `${head}[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"a\\":1}"}}]},"finish_reason":null}]}`,
      `${head}[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}`,
      `${head}[],"usage":{"prompt_tokens":12,"completion_tokens":6,"total_tokens":18}}`,
      '[DONE]',
    ]
      .map((d) => `data: ${d}\n\n`)
      .join('');
    const run = (parts: Buffer[]) => {
      const s = t.createStream(messages({ stream: true }), false);
      const text = parts.map((p) => s.process(p).toString()).join('') + (s.flush()?.toString() ?? '');
      return { text, usage: s.usage };
    };
    const whole = run([Buffer.from(sse)]);
    expect(whole.usage).toEqual({ promptTokens: 12, completionTokens: 6 });
    const ev = events(whole.text);
    expect(ev.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(ev[0]!.data['message']).toMatchObject({ id: 'msg_s', role: 'assistant', model: 'gpt-4o' });
    expect(ev[2]!.data['delta']).toEqual({ type: 'text_delta', text: 'Hel' });
    expect(ev[5]!.data).toMatchObject({
      index: 1,
      content_block: { type: 'tool_use', id: 'call_9', name: 'f', input: {} },
    });
    expect(ev[6]!.data['delta']).toEqual({ type: 'input_json_delta', partial_json: '{"a":1}' });
    expect(ev[8]!.data).toMatchObject({
      delta: { stop_reason: 'tool_use' },
      usage: { input_tokens: 12, output_tokens: 6 },
    });
    const bytes = Buffer.from(sse);
    for (let cut = 1; cut < bytes.length; cut += 29) {
      expect(run([bytes.subarray(0, cut), bytes.subarray(cut)]).text).toBe(whole.text);
    }
  });

  it("errors come back in Anthropic's shape, keeping OpenAI's fields", () => {
    const e = t.decodeError(
      429,
      Buffer.from(
        '{"error":{"message":"slow down","type":"requests","param":null,"code":"rate_limit_exceeded"}}',
      ),
      {
        'content-type': 'application/json',
      },
    );
    expect(e.status).toBe(429);
    expect(JSON.parse(e.body.toString())).toEqual({
      type: 'error',
      error: { type: 'rate_limit_error', message: 'slow down', param: null, code: 'rate_limit_exceeded' },
    });
  });
});
