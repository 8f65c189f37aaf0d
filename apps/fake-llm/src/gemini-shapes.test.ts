import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geminiModelOf } from './gemini-shapes.js';
import { createFakeLlm, type FakeLlm } from './index.js';

/** The body as JSON; JSON.parse's `any` lets assertions reach into it. */
const json = async (res: Response) => JSON.parse(await res.text());

let fake: FakeLlm;
let base: string;

beforeAll(async () => {
  fake = createFakeLlm({ completionTokens: 4 });
  base = (await fake.listen()).url;
});
afterAll(() => fake.close());

const post = (path: string, body: unknown) =>
  fetch(base + path, {
    method: 'POST',
    headers: { 'x-goog-api-key': 'goog-key' },
    body: JSON.stringify(body),
  });

const request = {
  systemInstruction: { parts: [{ text: 'Be brief.' }] }, // 9 chars
  contents: [{ role: 'user', parts: [{ text: 'Hello' }, { text: ' world' }] }], // 11 chars
};

interface GeminiChunk {
  candidates: Array<{ content: { parts: Array<{ text: string }> }; finishReason?: string }>;
  usageMetadata?: unknown;
  modelVersion: string;
}

const GEMINI = '/v1beta/models/gemini-test:generateContent';
const VERTEX_STREAM =
  '/v1/projects/p/locations/us-central1/publishers/google/models/gemini-vertex:streamGenerateContent';

describe('Gemini generateContent', () => {
  it('answers with candidates, usageMetadata and the model from the path', async () => {
    const res = await post(GEMINI, request);
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.candidates).toEqual([
      {
        content: { role: 'model', parts: [{ text: 'lorem ipsum dolor sit' }] },
        finishReason: 'STOP',
        index: 0,
      },
    ]);
    expect(body.usageMetadata).toEqual({ promptTokenCount: 5, candidatesTokenCount: 4, totalTokenCount: 9 });
    expect(body.modelVersion).toBe('gemini-test');
  });

  it('caps at generationConfig.maxOutputTokens (either spelling)', async () => {
    const camel = await json(await post(GEMINI, { ...request, generationConfig: { maxOutputTokens: 1 } }));
    expect(camel.candidates[0].content.parts[0].text).toBe('lorem');
    expect(camel.candidates[0].finishReason).toBe('MAX_TOKENS');
    const snake = await json(await post(GEMINI, { ...request, generation_config: { max_output_tokens: 2 } }));
    expect(snake.usageMetadata.candidatesTokenCount).toBe(2);
  });

  it('streams a JSON array without alt=sse, the last chunk carrying finishReason and usage', async () => {
    const res = await post(VERTEX_STREAM, request);
    expect(res.headers.get('content-type')).toBe('application/json');
    const chunks: GeminiChunk[] = JSON.parse(await res.text());
    expect(chunks).toHaveLength(4);
    expect(chunks.map((c) => c.candidates[0]?.content.parts[0]?.text).join('')).toBe('lorem ipsum dolor sit');
    expect(chunks.slice(0, -1).every((c) => c.candidates[0]?.finishReason === undefined)).toBe(true);
    expect(chunks[3]?.candidates[0]?.finishReason).toBe('STOP');
    expect(chunks[3]?.usageMetadata).toEqual({
      promptTokenCount: 5,
      candidatesTokenCount: 4,
      totalTokenCount: 9,
    });
    expect(chunks[0]?.modelVersion).toBe('gemini-vertex');
  });

  it('streams SSE data: lines with alt=sse', async () => {
    const res = await post(`${VERTEX_STREAM}?alt=sse`, {
      ...request,
      generationConfig: { maxOutputTokens: 2 },
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const events = (await res.text()).split('\n\n').filter((e) => e.length > 0);
    expect(events).toHaveLength(2);
    const chunks = events.map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return JSON.parse(e.slice(6));
    });
    expect(chunks[1].candidates[0].finishReason).toBe('MAX_TOKENS');
    expect(chunks[1].usageMetadata.candidatesTokenCount).toBe(2);
  });

  it('counts the model from the path and records the query string', async () => {
    fake.reset();
    await post(`${GEMINI}?key=abc`, request);
    const stats = fake.stats();
    expect(stats.models).toEqual({ 'gemini-test': 1 });
    expect(stats.last[0]).toMatchObject({ path: GEMINI, query: 'key=abc' });
    expect(stats.last[0]?.headers['x-goog-api-key']).toBe('goog-key');
  });

  it('reads the model name between the last / and the :', () => {
    expect(geminiModelOf('/v1beta/models/gemini-1.5-pro:generateContent')).toBe('gemini-1.5-pro');
    expect(geminiModelOf(':generateContent')).toBe('fake-model');
  });
});
