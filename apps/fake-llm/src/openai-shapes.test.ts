import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeLlm, type FakeLlm } from './index.js';

/** The body as JSON; JSON.parse's `any` lets assertions reach into it. */
const json = async (res: Response) => JSON.parse(await res.text());

let fake: FakeLlm;
let base: string;

beforeAll(async () => {
  fake = createFakeLlm();
  base = (await fake.listen()).url;
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const post = (path: string, body: unknown) =>
  fetch(base + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** The `data:` payloads of an SSE body, in order. */
const sseData = (text: string) =>
  text
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      return event.slice('data: '.length);
    });

describe('chat completions', () => {
  it('answers with the OpenAI shape, echoing the model, with usage that adds up', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'gpt-test',
      messages: [
        { role: 'system', content: 'You are helpful.' }, // 16 chars
        {
          role: 'user',
          content: [
            { type: 'text', text: 'abcd' }, // 4 chars
            { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }, // no text: 0
          ],
        },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = await json(res);
    expect(body.id).toMatch(/^chatcmpl-/);
    expect(body.object).toBe('chat.completion');
    expect(body.created).toBeCloseTo(Date.now() / 1000, -1);
    expect(body.model).toBe('gpt-test');
    expect(body.choices).toHaveLength(1);
    expect(body.choices[0].message.role).toBe('assistant');
    expect(body.choices[0].finish_reason).toBe('stop');
    const content: string = body.choices[0].message.content;
    expect(content.split(' ')).toHaveLength(16);
    expect(content.startsWith('lorem ipsum dolor')).toBe(true);
    expect(body.usage).toEqual({ prompt_tokens: 5, completion_tokens: 16, total_tokens: 21 });
  });

  it('gives every response a fresh id', async () => {
    const a = await json(await post('/chat/completions', { messages: [] }));
    const b = await json(await post('/chat/completions', { messages: [] }));
    expect(a.id).not.toBe(b.id);
    expect(a.usage.prompt_tokens).toBe(1); // the estimate never goes below 1
  });

  it('caps the completion at max_tokens / max_completion_tokens and then reports "length"', async () => {
    const capped = await json(await post('/v1/chat/completions', { messages: [], max_tokens: 3 }));
    expect(capped.choices[0].message.content).toBe('lorem ipsum dolor');
    expect(capped.choices[0].finish_reason).toBe('length');
    expect(capped.usage.completion_tokens).toBe(3);
    const both = await json(
      await post('/v1/chat/completions', { messages: [], max_tokens: 5, max_completion_tokens: 2 }),
    );
    expect(both.usage.completion_tokens).toBe(2);
    const roomy = await json(await post('/v1/chat/completions', { messages: [], max_tokens: 100 }));
    expect(roomy.usage.completion_tokens).toBe(16);
    expect(roomy.choices[0].finish_reason).toBe('stop');
  });

  it('streams role chunk, one chunk per token, finish chunk, usage chunk and [DONE]', async () => {
    const res = await post('/v1/chat/completions', {
      model: 'm',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 4,
      messages: [{ role: 'user', content: '12345678' }],
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks).toHaveLength(1 + 4 + 1 + 1);
    for (const chunk of chunks) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.model).toBe('m');
      expect(chunk.id).toBe(chunks[0].id);
    }
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    const text = chunks
      .slice(1, 5)
      .map((c) => c.choices[0].delta.content)
      .join('');
    expect(text).toBe('lorem ipsum dolor sit');
    expect(chunks[5].choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    expect(chunks[6].choices).toEqual([]);
    expect(chunks[6].usage).toEqual({ prompt_tokens: 2, completion_tokens: 4, total_tokens: 6 });
  });

  it('streams without a usage chunk unless include_usage is set', async () => {
    const res = await post('/v1/chat/completions', { stream: true, messages: [] });
    const events = sseData(await res.text());
    expect(events).toHaveLength(1 + 16 + 1 + 1);
    expect(JSON.parse(events.at(-2)!).choices[0].finish_reason).toBe('stop');
    expect(events.some((e) => e.includes('"usage"'))).toBe(false);
  });

  it('matches chat by path suffix under any prefix', async () => {
    for (const path of [
      '/chat/completions',
      '/v1/projects/p/locations/l/publishers/google/models/m/chat/completions',
    ]) {
      const body = await json(await post(path, { messages: [] }));
      expect(body.object).toBe('chat.completion');
    }
  });
});

describe('legacy completions', () => {
  it('answers with text_completion and prompt tokens from the prompt', async () => {
    const body = await json(
      await post('/v1/completions', { model: 'davinci', prompt: 'abcdefghi', max_tokens: 2 }),
    );
    expect(body.object).toBe('text_completion');
    expect(body.id).toMatch(/^cmpl-/);
    expect(body.choices[0].text).toBe('lorem ipsum');
    expect(body.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
  });

  it('streams text chunks, a finish chunk, usage and [DONE]', async () => {
    const res = await post('/v1/completions', {
      prompt: ['ab', 'cd'],
      stream: true,
      max_tokens: 3,
      stream_options: { include_usage: true },
    });
    const events = sseData(await res.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.every((c) => c.object === 'text_completion')).toBe(true);
    expect(chunks.slice(0, 3).map((c) => c.choices[0].text)).toEqual(['lorem', ' ipsum', ' dolor']);
    expect(chunks[3].choices[0].finish_reason).toBe('length');
    expect(chunks[4].usage).toEqual({ prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 });
  });
});

describe('embeddings', () => {
  it('returns one deterministic unit vector per input, 8 long by default', async () => {
    const body = await json(await post('/v1/embeddings', { model: 'emb', input: ['a', 'bb', 'ccc'] }));
    expect(body.object).toBe('list');
    expect(body.model).toBe('emb');
    expect(body.data).toHaveLength(3);
    body.data.forEach((item: { object: string; index: number; embedding: number[] }, i: number) => {
      expect(item.object).toBe('embedding');
      expect(item.index).toBe(i);
      expect(item.embedding).toHaveLength(8);
      expect(Math.hypot(...item.embedding)).toBeCloseTo(1, 5);
    });
    expect(body.data[0].embedding).not.toEqual(body.data[1].embedding);
    expect(body.usage).toEqual({ prompt_tokens: 2, total_tokens: 2 });
    const again = await json(await post('/v1/embeddings', { input: 'bb' }));
    expect(again.data[0].embedding).toEqual(body.data[1].embedding);
  });

  it('honours dimensions, token-id inputs and base64 encoding', async () => {
    const tokens = await json(await post('/v1/embeddings', { input: [1, 2, 3], dimensions: 5 }));
    expect(tokens.data).toHaveLength(1);
    expect(tokens.data[0].embedding).toHaveLength(5);
    expect(tokens.usage.prompt_tokens).toBe(3);
    const lists = await json(await post('/v1/embeddings', { input: [[1], [2, 3]] }));
    expect(lists.data).toHaveLength(2);
    const floats = await json(await post('/v1/embeddings', { input: 'x' }));
    const packed = await json(await post('/v1/embeddings', { input: 'x', encoding_format: 'base64' }));
    const bytes = Buffer.from(packed.data[0].embedding, 'base64');
    const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    expect(decoded).toEqual(floats.data[0].embedding);
  });

  it('rejects an input of the wrong type with a 400', async () => {
    const res = await post('/v1/embeddings', { input: { text: 'no' } });
    expect(res.status).toBe(400);
    expect((await json(res)).error).toMatchObject({ param: 'input', type: 'invalid_request_error' });
  });
});

describe('models and errors', () => {
  it('lists the models in the OpenAI list shape', async () => {
    const body = await json(await fetch(`${base}/v1/models`));
    expect(body).toEqual({
      object: 'list',
      data: [{ id: 'fake-model', object: 'model', created: expect.any(Number), owned_by: 'fake-llm' }],
    });
  });

  it('answers an unknown path with a 404 OpenAI error', async () => {
    const res = await post('/v1/nothing', {});
    expect(res.status).toBe(404);
    expect(await json(res)).toEqual({
      error: {
        message: 'Invalid URL (POST /v1/nothing)',
        type: 'invalid_request_error',
        param: null,
        code: 'unknown_url',
      },
    });
  });

  it('answers malformed JSON with a 400 OpenAI error', async () => {
    const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{"messages": [' });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    expect(body.error.code).toBe('invalid_json');
    expect(fake.stats().byStatus).toEqual({ '400': 1 });
  });
});
