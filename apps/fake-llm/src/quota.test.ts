import { afterEach, describe, expect, it } from 'vitest';
import { createFakeLlm, type FakeLlm, type FakeLlmOptions, maxInAnyWindow } from './index.js';
import { QuotaBook } from './quota.js';

/** The body as JSON; JSON.parse's `any` lets assertions reach into it. */
const json = async (res: Response) => JSON.parse(await res.text());

let fake: FakeLlm | undefined;
afterEach(() => fake?.close());

async function start(options: FakeLlmOptions): Promise<string> {
  fake = createFakeLlm(options);
  return (await fake.listen()).url;
}

const chat = (base: string, path = '/v1/chat/completions') =>
  fetch(base + path, { method: 'POST', body: '{"messages":[]}' });

describe('maxInAnyWindow', () => {
  it('finds the densest window with half-open [t, t + window) windows', () => {
    expect(maxInAnyWindow([], 1000)).toBe(0);
    expect(maxInAnyWindow([5], 1000)).toBe(1);
    expect(maxInAnyWindow([0, 999], 1000)).toBe(2);
    expect(maxInAnyWindow([0, 1000], 1000)).toBe(1);
    expect(maxInAnyWindow([0, 10, 20, 1005, 1010, 1015, 1020], 1000)).toBe(4);
  });
});

describe('QuotaBook', () => {
  it('admits exactly rpm per rolling window and says how long to wait', () => {
    const book = new QuotaBook([{ prefix: '/a', rpm: 2 }], 1000);
    expect(book.admit('/a/x', 0)).toBe(0);
    expect(book.admit('/a/x', 400)).toBe(0);
    expect(book.admit('/a/x', 500)).toBe(500); // the acceptance at 0 leaves the window at 1000
    expect(book.admit('/b/x', 500)).toBe(0); // not under the prefix
    expect(book.admit('/a/x', 1000)).toBe(0);
    expect(book.admit('/a/x', 1300)).toBe(100); // now 400 is the blocker
    expect(book.stats().byPrefix['/a']).toEqual({ accepted: 3, rejected429: 2 });
    expect(book.stats().accepted['/a']).toEqual([0, 400, 1000]);
  });

  it('keeps history and counters for a prefix that survives a rule change', () => {
    const book = new QuotaBook([{ prefix: '/a', rpm: 1 }], 1000);
    book.admit('/a', 0);
    book.setRules([
      { prefix: '/a', rpm: 2 },
      { prefix: '/b', rpm: 1 },
    ]);
    expect(book.admit('/a', 10)).toBe(0);
    expect(book.admit('/a', 20)).toBe(980);
    expect(Object.keys(book.stats().byPrefix)).toEqual(['/a', '/b']);
    expect(book.stats().byPrefix['/a']?.accepted).toBe(2);
  });
});

describe('quotas over HTTP', () => {
  it('accepts rpm requests per window, answers the rest 429 with retry-after, then accepts again', async () => {
    const base = await start({ quotas: [{ prefix: '/v1', rpm: 5 }], quotaWindowMs: 1000 });
    const statuses: number[] = [];
    const retryAfters: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await chat(base);
      statuses.push(res.status);
      const body = await json(res);
      if (res.status === 429) {
        retryAfters.push(res.headers.get('retry-after') ?? 'missing');
        expect(body.error.code).toBe('rate_limit_exceeded');
        expect(Number(res.headers.get('retry-after-ms'))).toBeLessThanOrEqual(1000);
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
    expect(retryAfters).toEqual(['1', '1', '1']);

    const stats = fake!.stats();
    expect(stats.byPrefix['/v1']).toEqual({ accepted: 5, rejected429: 3 });
    const firstAccepted = stats.accepted['/v1']![0]!;
    await new Promise((r) => setTimeout(r, firstAccepted + 1000 - Date.now() + 20));

    expect((await chat(base)).status).toBe(200);
    const after = fake!.stats();
    expect(after.byPrefix['/v1']).toEqual({ accepted: 6, rejected429: 3 });
    expect(after.accepted['/v1']).toHaveLength(6);
    expect(after.maxInAnyWindow['/v1']).toBeLessThanOrEqual(5);
    expect(after.maxInAnyWindow['/v1']).toBeGreaterThanOrEqual(1);
    expect(after.byStatus).toEqual({ '200': 6, '429': 3 });
  });

  it('counts a request against every matching prefix, and a rejection only on the full one', async () => {
    const base = await start({
      quotas: [
        { prefix: '/', rpm: 100 },
        { prefix: '/a', rpm: 1 },
      ],
    });
    expect((await chat(base, '/a/chat/completions')).status).toBe(200);
    expect((await chat(base, '/a/chat/completions')).status).toBe(429);
    expect((await chat(base, '/b/chat/completions')).status).toBe(200);
    const { byPrefix } = fake!.stats();
    expect(byPrefix['/']).toEqual({ accepted: 2, rejected429: 0 });
    expect(byPrefix['/a']).toEqual({ accepted: 1, rejected429: 1 });
  });

  it('can be set and reset at run time over HTTP', async () => {
    const base = await start({});
    const control = await fetch(`${base}/__control`, {
      method: 'POST',
      body: JSON.stringify({ quotas: [{ prefix: '/q', rpm: 1 }], quotaWindowMs: 60_000 }),
    });
    expect(control.status).toBe(200);
    expect((await json(control)).quotas).toEqual([{ prefix: '/q', rpm: 1 }]);
    expect((await chat(base, '/q/chat/completions')).status).toBe(200);
    const limited = await chat(base, '/q/chat/completions');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(58);
    expect((await fetch(`${base}/__reset`, { method: 'POST' })).status).toBe(200);
    expect((await chat(base, '/q/chat/completions')).status).toBe(200);
  });
});
