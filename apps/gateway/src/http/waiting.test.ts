import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { createMemoryStore } from '@fleetgate/ratelimit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../log.js';
import { createGatewayApp } from '../server.js';

/**
 * A bounded wait instead of an instant 429 (`fleetgate_settings.queue_wait_seconds`), in-process
 * against a real fake upstream: requests that find no room wait in line by priority, up to their
 * deadline, and a client that leaves the line leaves nothing behind.
 */
let fake: FakeLlm;
let url = '';

beforeAll(async () => {
  fake = createFakeLlm({ latencyMs: 200 });
  ({ url } = await fake.listen());
});
afterAll(async () => {
  await fake.close();
});

function gateway(waitSeconds: number, maxWaiting = 1000) {
  const config = parseConfig(
    'waiting.yaml',
    `
model_list:
  - model_name: narrow
    litellm_params: { model: openai/narrow, api_base: "${url}/v1", max_parallel_requests: 2 }
fleetgate_settings:
  queue_wait_seconds: ${waitSeconds}
  queue_max_waiting: ${maxWaiting}
`,
    {},
  );
  return createGatewayApp({
    config,
    logger: createLogger('silent'),
    store: createMemoryStore(),
    replicaId: 'w',
  });
}

const chat = (
  app: ReturnType<typeof gateway>['app'],
  content: string,
  extra: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<Response> =>
  Promise.resolve(
    app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'narrow', messages: [{ role: 'user', content }], ...extra }),
      signal,
    }),
  );

describe('waiting for room', () => {
  it('serves 20 requests through 2 parallel slots within the deadline, never more than 2 upstream at once', async () => {
    fake.reset();
    const { app, deps } = gateway(5);
    let most = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, fake.stats().inFlight);
    }, 5);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => chat(app, `r${i}`).then((r) => r.status)),
    );
    clearInterval(sampler);
    expect(statuses).toEqual(Array(20).fill(200));
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    expect(deps.queue?.size()).toBe(0);
  });

  it('answers 429 at the deadline when no slot frees in time', async () => {
    const { app } = gateway(0.1);
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => chat(app, `s${i}`).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(2);
    expect(statuses.filter((s) => s === 429)).toHaveLength(8);
    // The refused ones waited their 100 ms, not the 200 ms the slots were busy.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('serves a higher priority first, whenever it arrived', async () => {
    fake.reset();
    const { app, deps } = gateway(5);
    const busy = [chat(app, 'busy-1'), chat(app, 'busy-2')];
    await expect.poll(() => fake.stats().inFlight, { timeout: 5_000, interval: 5 }).toBe(2);
    const low = chat(app, 'low', { priority: 9 });
    await expect.poll(() => deps.queue?.size(), { timeout: 5_000, interval: 5 }).toBe(1);
    const high = chat(app, 'high', { priority: 0 });
    await Promise.all([...busy, low, high]);
    const order = fake
      .stats()
      .last.map((r) => (r.body as { messages: Array<{ content: string }> }).messages[0]!.content)
      .filter((c) => c === 'low' || c === 'high');
    expect(order).toEqual(['high', 'low']);
  });

  it('forgets clients that leave the line: nothing waits, nothing is sent for them', async () => {
    fake.reset();
    const { app, deps } = gateway(30);
    const busy = [chat(app, 'hold-1'), chat(app, 'hold-2')];
    await expect.poll(() => fake.stats().inFlight, { timeout: 5_000, interval: 5 }).toBe(2);
    const aborts = Array.from({ length: 1000 }, () => new AbortController());
    const waiting = aborts.map((a, i) => chat(app, `gone-${i}`, {}, a.signal).catch(() => undefined));
    await expect.poll(() => deps.queue?.size(), { timeout: 5_000 }).toBe(1000);
    for (const a of aborts) a.abort();
    await Promise.all(waiting);
    await expect.poll(() => deps.queue?.size(), { timeout: 5_000 }).toBe(0);
    await Promise.all(busy);
    expect(fake.stats().requests).toBe(2);
  });

  it('waits for a smoothing slice to open: all served, never more than the slice holds', async () => {
    const config = parseConfig(
      'smooth.yaml',
      `
model_list:
  - model_name: smooth
    litellm_params: { model: openai/smooth, api_base: "${url}/v1", rpm: 120 }
    model_info: { smoothing: { slice_seconds: 1 } }
fleetgate_settings:
  queue_wait_seconds: 10
`,
      {},
    );
    // 120 a minute is 2 a second: 6 at once take three slices.
    const { app } = createGatewayApp({
      config,
      logger: createLogger('silent'),
      store: createMemoryStore(),
      replicaId: 's',
    });
    const sent: number[] = [];
    const statuses = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        Promise.resolve(
          app.request('/v1/chat/completions', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ model: 'smooth', messages: [{ role: 'user', content: `s${i}` }] }),
          }),
        ).then((r) => {
          sent.push(performance.now());
          return r.status;
        }),
      ),
    );
    expect(statuses).toEqual(Array(6).fill(200));
    // Admissions of the 1st and 3rd are at least a slice apart; answers follow them 200 ms later (± timer jitter).
    sent.sort((a, b) => a - b);
    for (let i = 2; i < sent.length; i++) expect(sent[i]! - sent[i - 2]!).toBeGreaterThanOrEqual(900);
  });

  it('refuses at once past the replica cap', async () => {
    const { app } = gateway(5, 1);
    const statuses = await Promise.all(
      Array.from({ length: 4 }, (_, i) => chat(app, `c${i}`).then((r) => r.status)),
    );
    expect(statuses.sort()).toEqual([200, 200, 200, 429]);
  });
});
