import { afterEach, describe, expect, it } from 'vitest';
import { createFakeLlm, type FakeLlm, type FakeLlmOptions } from './index.js';

/** The body as JSON; JSON.parse's `any` lets assertions reach into it. */
const json = async (res: Response) => JSON.parse(await res.text());

let fake: FakeLlm | undefined;
afterEach(() => fake?.close());

async function start(options: FakeLlmOptions = {}): Promise<string> {
  fake = createFakeLlm(options);
  return (await fake.listen()).url;
}

const chat = (
  base: string,
  path = '/v1/chat/completions',
  body: unknown = { messages: [] },
  signal?: AbortSignal,
) => fetch(base + path, { method: 'POST', body: JSON.stringify(body), ...(signal ? { signal } : {}) });

/** Polls until `check` passes (stats change a moment after the client sees the effect). */
async function eventually(check: () => void, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** Reads a streamed body to its end or its breaking off; says which. */
async function readAll(res: Response): Promise<{ text: string; broken: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, broken: false };
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    return { text, broken: true };
  }
}

describe('failRate', () => {
  it('answers every request with failStatus and an OpenAI error when 1', async () => {
    const base = await start({ failRate: 1 });
    for (let i = 0; i < 5; i++) {
      const res = await chat(base);
      expect(res.status).toBe(500);
      expect((await json(res)).error).toMatchObject({
        type: 'server_error',
        code: 'injected_failure',
        param: null,
      });
    }
    expect(fake!.stats().byStatus).toEqual({ '500': 5 });
  });

  it('sends retry-after with an injected 429', async () => {
    const base = await start({ failRate: 1, failStatus: 429 });
    const res = await chat(base);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('fails roughly that fraction of requests', async () => {
    const base = await start({ failRate: 0.5 });
    const statuses = await Promise.all(Array.from({ length: 200 }, () => chat(base).then((r) => r.status)));
    const failures = statuses.filter((s) => s === 500).length;
    expect(failures).toBeGreaterThan(60);
    expect(failures).toBeLessThan(140);
  });
});

describe('per-prefix overrides', () => {
  it('applies a /__control override only under its prefix, longest prefix winning per knob', async () => {
    const base = await start();
    const control = (patch: unknown) =>
      fetch(`${base}/__control`, { method: 'POST', body: JSON.stringify(patch) });
    expect((await control({ prefix: '/a', failRate: 1, failStatus: 503 })).status).toBe(200);
    expect((await control({ prefix: '/a/b', failStatus: 502 })).status).toBe(200);
    expect((await chat(base, '/a/v1/chat/completions')).status).toBe(503);
    expect((await chat(base, '/a/b/v1/chat/completions')).status).toBe(502); // failRate inherited from /a
    expect((await chat(base, '/b/v1/chat/completions')).status).toBe(200);
    expect((await chat(base, '/v1/chat/completions')).status).toBe(200);

    await control({ failStatus: 504 }); // the default status; /a still overrides it
    expect((await chat(base, '/a/v1/chat/completions')).status).toBe(503);
    await control({ prefix: '/a', clear: true });
    expect((await chat(base, '/a/v1/chat/completions')).status).toBe(200);
    expect((await chat(base, '/a/b/v1/chat/completions')).status).toBe(200); // /a/b sets no failRate
  });

  it('rejects a bad patch with a 400 naming the setting', async () => {
    const base = await start();
    const res = await fetch(`${base}/__control`, { method: 'POST', body: '{"hangRate": 1.5}' });
    expect(res.status).toBe(400);
    expect((await json(res)).error.message).toMatch(/hangRate/);
    expect(() => fake!.configure({ latencyMs: -1 })).toThrow(/latencyMs/);
  });

  it('changes the behaviour through configure() too', async () => {
    const base = await start();
    fake!.configure({ prefix: '/slow', completionTokens: 2 });
    const body = await json(await chat(base, '/slow/chat/completions'));
    expect(body.usage.completion_tokens).toBe(2);
  });
});

describe('latency', () => {
  it('delays the headers by latencyMs and the stream by chunkDelayMs between chunks', async () => {
    const base = await start({ latencyMs: 80, chunkDelayMs: 20, completionTokens: 5 });
    const t0 = performance.now();
    const res = await chat(base, '/v1/chat/completions', { stream: true, messages: [] });
    const headersAt = performance.now() - t0;
    let reads = 0;
    const reader = res.body!.getReader();
    while (!(await reader.read()).done) reads++;
    const doneAt = performance.now() - t0;
    expect(headersAt).toBeGreaterThanOrEqual(78);
    expect(doneAt).toBeGreaterThanOrEqual(78 + 5 * 19);
    expect(reads).toBeGreaterThanOrEqual(5); // the chunks arrived separately
  });
});

describe('hangRate', () => {
  it('never answers, counts the request as hung, and close() still ends it', async () => {
    const base = await start({ hangRate: 1 });
    const pending = chat(base).then(
      () => 'answered',
      () => 'failed',
    );
    await eventually(() => expect(fake!.stats()).toMatchObject({ hung: 1, inFlight: 1 }));
    await fake!.close();
    expect(await pending).toBe('failed');
    expect(fake!.stats()).toMatchObject({ hung: 1, inFlight: 0, aborted: 0 });
    fake = undefined;
  });
});

describe('cutRate', () => {
  it('drops a stream after about half the chunks, without [DONE]', async () => {
    const base = await start({ cutRate: 1, completionTokens: 10 });
    const res = await chat(base, '/v1/chat/completions', { stream: true, messages: [] });
    expect(res.status).toBe(200);
    const { text, broken } = await readAll(res);
    expect(broken).toBe(true);
    expect(text).not.toContain('[DONE]');
    const events = text.split('\n\n').filter((e) => e.length > 0);
    expect(events).toHaveLength(1 + 5); // role chunk + half the content chunks
    await eventually(() => expect(fake!.stats()).toMatchObject({ cut: 1, aborted: 0, inFlight: 0 }));
  });

  it('drops a plain request before any response', async () => {
    const base = await start({ cutRate: 1 });
    await expect(chat(base)).rejects.toThrow();
    await eventually(() => expect(fake!.stats()).toMatchObject({ cut: 1, aborted: 0, byStatus: {} }));
  });
});

describe('aborted', () => {
  it('counts a client that gives up before the response finished', async () => {
    const base = await start({ latencyMs: 300 });
    await expect(
      chat(base, '/v1/chat/completions', { messages: [] }, AbortSignal.timeout(50)),
    ).rejects.toThrow();
    await eventually(() => expect(fake!.stats()).toMatchObject({ aborted: 1, inFlight: 0, byStatus: {} }));
  });

  it('counts a client that leaves mid-stream', async () => {
    const base = await start({ chunkDelayMs: 30, completionTokens: 50 });
    const controller = new AbortController();
    const res = await chat(base, '/v1/chat/completions', { stream: true, messages: [] }, controller.signal);
    await res.body!.getReader().read();
    controller.abort();
    await eventually(() =>
      expect(fake!.stats()).toMatchObject({ aborted: 1, inFlight: 0, byStatus: { '200': 1 } }),
    );
  });
});
