import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { byStatus, openLoop } from '../support/load.js';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

const KEY = 'sk-smoothing';

describe('smoothing a deployment’s rpm over 10 s slices, 4 replicas', () => {
  it('a burst of 600 in 1 s: no 10 s slice gets more than its share (100) + burst (10), and the next slice opens', async () => {
    // The upstream enforces what a provider with a per-10-s quota would: 110 in any rolling 10 s.
    const fake = await startFakeLlm(['--rpm', '/v1=110', '--quota-window-ms', '10000']);
    const config = `
model_list:
  - model_name: smooth
    litellm_params: { model: openai/smooth, api_base: "${fake.url}/v1", rpm: 600 }
    model_info: { id: smooth, smoothing: { slice_seconds: 10, burst: 10 } }
general_settings:
  master_key: ${KEY}
fleetgate_settings:
  redis_namespace: smoothing-${randomUUID()}
  # About smoothing, not a slow Redis: a loaded test machine must not turn admissions into 503s.
  redis_command_timeout_ms: 2000
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const replicas = await Promise.all(Array.from({ length: 4 }, () => startGateway({ config, env })));
    const burst = () =>
      openLoop({
        targets: replicas.map((r) => r.url),
        path: '/v1/chat/completions',
        rate: 600,
        durationMs: 1_000,
        body: JSON.stringify({ model: 'smooth', messages: [{ role: 'user', content: 'hi' }] }),
        headers: { authorization: `Bearer ${KEY}` },
      });
    const started = performance.now();
    const first = await burst();
    // Exactly the slice's share plus its burst, fleet-wide; the rest refused with a retry-after
    // that says when the slice frees (within a slice and a tenth).
    expect(byStatus(first)).toEqual({ 200: 110, 429: 490 });
    const waits = first.filter((r) => r.status === 429).map((r) => Number(r.retryAfter));
    expect(Math.max(...waits)).toBeLessThanOrEqual(11);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1);
    // The next slice: once the first slice's tenths have left the span (11 s after they opened).
    await new Promise((r) => setTimeout(r, Math.max(0, 11_600 - (performance.now() - started))));
    const second = await burst();
    expect(byStatus(second)[200]).toBe(110);
    const upstream = await fake.stats();
    expect(upstream.byPrefix['/v1']).toEqual({ accepted: 220, rejected429: 0 });
    expect(upstream.maxInAnyWindow['/v1']).toBeLessThanOrEqual(110);
  });
});
