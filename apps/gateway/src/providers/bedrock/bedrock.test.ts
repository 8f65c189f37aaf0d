import { converseEvent, eventMessage } from '@fleetgate/fake-llm';
import { describe, expect, it } from 'vitest';
import type { GatewayError } from '../../errors.js';
import {
  type ChunkJson,
  choiceChunks,
  input,
  requestOf,
  runStream,
  sseData,
  testContext,
} from '../translator.test-support.js';
import { createBedrockAdapter } from './bedrock-adapter.js';
import { EventStreamDecoder, EventStreamError } from './event-stream.js';

const params = {
  aws_access_key_id: 'AKIDTEST',
  aws_secret_access_key: 'secret-key-do-not-show',
  aws_region_name: 'eu-west-1',
};
const adapter = createBedrockAdapter(
  testContext('bedrock', 'anthropic.claude-3-5-sonnet-20240620-v1:0', params),
);
const t = adapter.openai;

describe('Bedrock requests', () => {
  it('go to the regional Converse endpoint with the model id encoded, signed with SigV4', () => {
    const call = requestOf(t, input('chat', { model: 'b', messages: [{ role: 'user', content: 'hi' }] }));
    expect(call.target).toEqual({
      origin: 'https://bedrock-runtime.eu-west-1.amazonaws.com',
      path: '/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse',
    });
    expect(call.headers['x-amz-date']).toBe('20250102T030405Z');
    expect(call.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/20250102\/eu-west-1\/bedrock\/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(
      requestOf(t, input('chat', { model: 'b', messages: [{ role: 'user', content: 'hi' }], stream: true }))
        .target.path,
    ).toBe('/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream');
  });

  it("take LiteLLM's environment and the region of an ARN; refuse a deployment without credentials", () => {
    const env = {
      AWS_ACCESS_KEY_ID: 'AKIDENV',
      AWS_SECRET_ACCESS_KEY: 's3cr3t-env-key',
      AWS_REGION: 'us-east-2',
    };
    const arn =
      'arn:aws:bedrock:ap-south-1:123456789012:inference-profile/apac.anthropic.claude-3-haiku-20240307-v1:0';
    expect(createBedrockAdapter(testContext('bedrock', arn, {}, { env })).apiBase).toBe(
      'https://bedrock-runtime.ap-south-1.amazonaws.com',
    );
    expect(createBedrockAdapter(testContext('bedrock', 'converse/meta.llama3', {}, { env })).apiBase).toBe(
      'https://bedrock-runtime.us-east-2.amazonaws.com',
    );
    expect(() => createBedrockAdapter(testContext('bedrock', 'm'))).toThrow(/aws_access_key_id/);
    expect(() => createBedrockAdapter(testContext('bedrock', 'invoke/m', params))).toThrow(/Converse/);
    const keyed = createBedrockAdapter(testContext('bedrock', 'm', { api_key: 'bedrock-api-key-123' }));
    expect(
      requestOf(keyed.openai, input('chat', { messages: [{ role: 'user', content: 'x' }] })).headers[
        'authorization'
      ],
    ).toBe('Bearer bedrock-api-key-123');
  });

  it('translate messages, images, tools and sampling into Converse', () => {
    const body = JSON.parse(
      requestOf(
        t,
        input('chat', {
          model: 'b',
          messages: [
            { role: 'system', content: 'Be kind.' },
            {
              role: 'user',
              content: [
                { type: 'text', text: 'See' },
                { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBO' } },
              ],
            },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'tu1', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }],
            },
            { role: 'tool', tool_call_id: 'tu1', content: 'ok' },
          ],
          tools: [
            {
              type: 'function',
              function: {
                name: 'f',
                description: 'F',
                parameters: { type: 'object', properties: { x: { type: 'number' } } },
              },
            },
          ],
          tool_choice: 'auto',
          max_tokens: 50,
          temperature: 0,
          stop: ['STOP'],
        }),
      ).body.toString(),
    );
    expect(body).toEqual({
      system: [{ text: 'Be kind.' }],
      messages: [
        { role: 'user', content: [{ text: 'See' }, { image: { format: 'png', source: { bytes: 'iVBO' } } }] },
        { role: 'assistant', content: [{ toolUse: { toolUseId: 'tu1', name: 'f', input: { x: 1 } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 'tu1', content: [{ text: 'ok' }] } }] },
      ],
      inferenceConfig: { maxTokens: 50, temperature: 0, stopSequences: ['STOP'] },
      toolConfig: {
        tools: [
          {
            toolSpec: {
              name: 'f',
              description: 'F',
              inputSchema: { json: { type: 'object', properties: { x: { type: 'number' } } } },
            },
          },
        ],
        toolChoice: { auto: {} },
      },
    });
    const refused = (() => {
      try {
        requestOf(
          t,
          input('chat', {
            messages: [
              { role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
            ],
          }),
        );
      } catch (e) {
        return e as GatewayError;
      }
    })();
    expect(refused?.status).toBe(400);
    expect(refused?.param).toBe('messages[0].content[0].image_url');
  });
});

describe('Bedrock answers → OpenAI', () => {
  it('Converse output, stop reason and usage', () => {
    const res = {
      output: {
        message: {
          role: 'assistant',
          content: [{ text: 'Hello' }, { toolUse: { toolUseId: 'tu', name: 'f', input: { a: 1 } } }],
        },
      },
      stopReason: 'tool_use',
      usage: { inputTokens: 11, outputTokens: 4, totalTokens: 15, cacheReadInputTokens: 2 },
    };
    const out = t.decodeJson(Buffer.from(JSON.stringify(res)), input('chat', { messages: [] }));
    expect(out.usage).toEqual({ promptTokens: 13, completionTokens: 4 });
    expect(JSON.parse(out.body.toString())).toMatchObject({
      object: 'chat.completion',
      model: 'anthropic.claude-3-5-sonnet-20240620-v1:0',
      choices: [
        {
          message: {
            content: 'Hello',
            tool_calls: [{ id: 'tu', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: {
        prompt_tokens: 13,
        completion_tokens: 4,
        total_tokens: 17,
        prompt_tokens_details: { cached_tokens: 2 },
      },
    });
  });
});

describe('the AWS event stream', () => {
  const frames = Buffer.concat([
    converseEvent('messageStart', { role: 'assistant' }),
    converseEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hel' }, p: 'abc' }),
    converseEvent('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'lo' } }),
    converseEvent('contentBlockStop', { contentBlockIndex: 0 }),
    converseEvent('contentBlockStart', {
      contentBlockIndex: 1,
      start: { toolUse: { toolUseId: 'tu', name: 'f' } },
    }),
    converseEvent('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":1}' } } }),
    converseEvent('messageStop', { stopReason: 'tool_use' }),
    converseEvent('metadata', {
      usage: { inputTokens: 6, outputTokens: 3, totalTokens: 9 },
      metrics: { latencyMs: 10 },
    }),
  ]);

  it('decodes messages split anywhere, and refuses a corrupted checksum', () => {
    for (const cut of [1, 5, 12, 13, 40, frames.length - 1]) {
      const d = new EventStreamDecoder();
      const messages = [...d.push(frames.subarray(0, cut)), ...d.push(frames.subarray(cut))];
      expect(messages.map((m) => m.headers[':event-type'])).toEqual([
        'messageStart',
        'contentBlockDelta',
        'contentBlockDelta',
        'contentBlockStop',
        'contentBlockStart',
        'contentBlockDelta',
        'messageStop',
        'metadata',
      ]);
      expect(d.leftover).toBe(0);
    }
    const corrupt = Buffer.from(frames);
    corrupt[20] = corrupt[20]! ^ 0xff;
    expect(() => new EventStreamDecoder().push(corrupt)).toThrow(EventStreamError);
  });

  it('becomes OpenAI chunks with usage when asked, however it is split', () => {
    const i = input('chat', { messages: [], stream: true });
    const whole = runStream(t, i, [frames], true);
    expect(whole.usage).toEqual({ promptTokens: 6, completionTokens: 3 });
    const chunks = sseData(whole.text);
    expect(choiceChunks(whole.text).map((c) => c.delta)).toEqual([
      { role: 'assistant', content: '' },
      { content: 'Hel' },
      { content: 'lo' },
      { tool_calls: [{ index: 0, id: 'tu', type: 'function', function: { name: 'f', arguments: '' } }] },
      { tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] },
      {},
    ]);
    expect(chunks.at(-2)).toMatchObject({ choices: [], usage: { prompt_tokens: 6, completion_tokens: 3 } });
    const strip = (s: string) => s.replace(/"id":"chatcmpl-[^"]+"/g, '').replace(/"created":\d+/g, '');
    for (let cut = 1; cut < frames.length; cut += 17) {
      expect(strip(runStream(t, i, [frames.subarray(0, cut), frames.subarray(cut)], true).text)).toBe(
        strip(whole.text),
      );
    }
  });

  it('an exception message ends the stream with a mapped OpenAI error', () => {
    const throttled = eventMessage(
      {
        ':message-type': 'exception',
        ':exception-type': 'throttlingException',
        ':content-type': 'application/json',
      },
      JSON.stringify({ message: 'Too many tokens, please wait before trying again.' }),
    );
    const out = runStream(t, input('chat', { messages: [], stream: true }), [
      Buffer.concat([converseEvent('messageStart', { role: 'assistant' }), throttled]),
    ]);
    expect(out.failedStatus).toBe(429);
    const last = sseData(out.text).at(-1) as ChunkJson;
    expect(last.error?.type).toBe('rate_limit_error');
  });
});

describe('Bedrock errors', () => {
  const decode = (status: number, type: string, message: string) =>
    t.decodeError(status, Buffer.from(JSON.stringify({ message })), {
      'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    });

  it('map as LiteLLM maps them', () => {
    expect(decode(429, 'ThrottlingException', 'Too many requests')).toMatchObject({
      status: 429,
      code: 'upstream_rate_limited',
    });
    expect(
      decode(403, 'UnrecognizedClientException', 'The security token included in the request is invalid.'),
    ).toMatchObject({
      status: 401,
      code: 'upstream_auth_error',
    });
    expect(decode(400, 'ValidationException', 'Input is too long for requested model.')).toMatchObject({
      status: 400,
      code: 'context_length_exceeded',
    });
    expect(decode(403, 'AccessDeniedException', 'not allowed')).toMatchObject({ status: 403 });
    expect(decode(500, 'InternalServerException', 'boom').status).toBe(503);
    expect(decode(400, 'ValidationException', 'bad secret-key-do-not-show').body.toString()).not.toContain(
      'secret-key-do-not-show',
    );
  });
});
