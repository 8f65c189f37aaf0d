import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFakeLlm, type FakeLlm, type FakeLlmStats } from './index.js';

let fake: FakeLlm;
let base: string;

beforeAll(async () => {
  fake = createFakeLlm({ quotas: [{ prefix: '/v1', rpm: 1000 }] });
  base = (await fake.listen()).url;
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(base + path, { method: 'POST', headers, body });

/** The stats as a process driving the fake over HTTP sees them. */
const httpStats = async (): Promise<FakeLlmStats> =>
  JSON.parse(await (await fetch(`${base}/__stats`)).text());

describe('stats', () => {
  it('records the requests as received: path, status, headers with credentials, body, model', async () => {
    const before = Date.now();
    await post('/v1/chat/completions?x=1', '{"model":"gpt-a","messages":[]}', {
      authorization: 'Bearer sk-test',
      'api-key': 'azure-key',
      'X-Custom': 'Kept',
    });
    await post('/v1/chat/completions', '{"model":"gpt-a","messages":[]}');
    await post('/v1/embeddings', '{"model":"emb","input":"x"}');
    await fetch(`${base}/v1/models`);
    await post('/v1/unknown', '{}');

    const stats = await httpStats();
    expect(stats.requests).toBe(5);
    expect(stats.byPath).toEqual({
      '/v1/chat/completions': 2,
      '/v1/embeddings': 1,
      '/v1/models': 1,
      '/v1/unknown': 1,
    });
    expect(stats.byStatus).toEqual({ '200': 4, '404': 1 });
    expect(stats.models).toEqual({ 'gpt-a': 2, emb: 1 });
    expect(stats.last).toHaveLength(5);
    const [first] = stats.last;
    expect(first).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      query: 'x=1',
      body: { model: 'gpt-a', messages: [] },
    });
    expect(first?.headers).toMatchObject({
      authorization: 'Bearer sk-test',
      'api-key': 'azure-key',
      'x-custom': 'Kept',
    });
    expect(first?.receivedAt).toBeGreaterThanOrEqual(before);
    expect(stats.last[3]).toMatchObject({ method: 'GET', path: '/v1/models', body: null });
    expect(stats).toMatchObject({ aborted: 0, hung: 0, cut: 0, inFlight: 0 });
  });

  it('reports the quota view: counts, accepted timestamps and the densest window', async () => {
    await post('/v1/chat/completions', '{}');
    await post('/v1/chat/completions', '{}');
    await post('/other/chat/completions', '{}');
    const stats = fake.stats();
    expect(stats.byPrefix).toEqual({ '/v1': { accepted: 2, rejected429: 0 } });
    expect(stats.accepted['/v1']).toHaveLength(2);
    expect(stats.maxInAnyWindow).toEqual({ '/v1': 2 });
    expect(stats.quotaWindowMs).toBe(60_000);
  });

  it('stores a body over 64 KB as {truncated, bytes} and a non-JSON body as text', async () => {
    const big = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(70_000) }] });
    const res = await post('/v1/chat/completions', big);
    expect(res.status).toBe(200);
    expect((JSON.parse(await res.text()) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(
      17_500,
    );
    await post('/v1/chat/completions', 'not json');
    const { last } = fake.stats();
    expect(last[0]?.body).toEqual({ truncated: true, bytes: Buffer.byteLength(big) });
    expect(last[1]?.body).toBe('not json');
  });

  it('keeps only the last 50 requests, oldest first', async () => {
    for (let i = 0; i < 55; i++) await post(`/v1/chat/completions?i=${i}`, '{}');
    const { last, requests } = fake.stats();
    expect(requests).toBe(55);
    expect(last).toHaveLength(50);
    expect(last[0]?.query).toBe('i=5');
    expect(last[49]?.query).toBe('i=54');
  });

  it('leaves the control API out and clears everything on POST /__reset', async () => {
    await post('/v1/chat/completions', '{}');
    await fetch(`${base}/__control`);
    await httpStats();
    expect(fake.stats().requests).toBe(1);
    expect((await fetch(`${base}/__reset`, { method: 'POST' })).status).toBe(200);
    const stats = await httpStats();
    expect(stats).toMatchObject({ requests: 0, byPath: {}, byStatus: {}, models: {}, last: [] });
    expect(stats.byPrefix).toEqual({ '/v1': { accepted: 0, rejected429: 0 } });
    expect(stats.accepted).toEqual({ '/v1': [] });
  });

  it('answers an unknown control path with 404', async () => {
    expect((await fetch(`${base}/__nothing`)).status).toBe(404);
  });
});
