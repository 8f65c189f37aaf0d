import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeLlm, type FakeLlm } from './index.js';

/** The body as JSON; JSON.parse's `any` lets assertions reach into it. */
const json = async (res: Response) => JSON.parse(await res.text());

let fake: FakeLlm;
let base: string;

beforeAll(async () => {
  fake = createFakeLlm({ completionTokens: 5 });
  base = (await fake.listen()).url;
});
afterAll(() => fake.close());

const post = (path: string, body: unknown) =>
  fetch(base + path, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': 'sk-ant-test',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify(body),
  });

const request = {
  model: 'claude-test',
  max_tokens: 1024,
  system: 'Be brief.', // 9 chars
  messages: [
    { role: 'user', content: 'Hello there' }, // 11 chars
    { role: 'assistant', content: [{ type: 'text', text: 'Hi!' }] }, // 3 chars
  ],
};

describe('Anthropic messages', () => {
  it('answers with the Messages API shape, counting system and messages as input', async () => {
    const res = await post('/v1/messages', request);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      id: expect.stringMatching(/^msg_/),
      type: 'message',
      role: 'assistant',
      model: 'claude-test',
      content: [{ type: 'text', text: 'lorem ipsum dolor sit amet' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 6, output_tokens: 5 },
    });
  });

  it('caps the output at max_tokens and reports stop_reason "max_tokens"', async () => {
    const body = await json(await post('/anthropic/v1/messages', { ...request, max_tokens: 2 }));
    expect(body.content[0].text).toBe('lorem ipsum');
    expect(body.stop_reason).toBe('max_tokens');
    expect(body.usage.output_tokens).toBe(2);
  });

  it('streams the Anthropic event sequence with event: lines', async () => {
    const res = await post('/v1/messages', { ...request, stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text())
      .split('\n\n')
      .filter((e) => e.length > 0)
      .map((e) => {
        const [eventLine, dataLine, ...rest] = e.split('\n');
        expect(rest).toEqual([]);
        expect(eventLine).toMatch(/^event: /);
        expect(dataLine).toMatch(/^data: /);
        const data = JSON.parse(dataLine!.slice(6));
        expect(data.type).toBe(eventLine!.slice(7));
        return data;
      });
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      ...Array(5).fill('content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events[0].message).toMatchObject({
      role: 'assistant',
      model: 'claude-test',
      usage: { input_tokens: 6 },
    });
    const text = events
      .filter((e) => e.type === 'content_block_delta')
      .map((e) => {
        expect(e.delta.type).toBe('text_delta');
        return e.delta.text;
      })
      .join('');
    expect(text).toBe('lorem ipsum dolor sit amet');
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: 5 },
    });
  });

  it('records the Anthropic credentials headers as received', async () => {
    fake.reset();
    await post('/v1/messages', request);
    const [last] = fake.stats().last;
    expect(last?.headers['x-api-key']).toBe('sk-ant-test');
    expect(last?.headers['anthropic-version']).toBe('2023-06-01');
    expect(fake.stats().models).toEqual({ 'claude-test': 1 });
  });
});
