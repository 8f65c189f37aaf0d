import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

const LEASE_MS = 2_000;

describe('in-flight slots of a replica killed mid-stream', () => {
  it('stay held until their lease runs out, then free — they never leak', async () => {
    // Streams that run for a long while: an event a second.
    const fake = await startFakeLlm(['--chunk-delay-ms', '1000']);
    const config = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", max_parallel_requests: 2 }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: lease-${randomUUID()}
  inflight_lease_seconds: ${LEASE_MS / 1000}
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const [doomed, survivor] = await Promise.all([
      startGateway({ config, env }),
      startGateway({ config, env }),
    ]);
    const ask = (url: string, stream = false) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-fleet', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], stream }),
      });

    // Two streams under way on the doomed replica, each past its first event.
    const streams = await Promise.all([ask(doomed!.url, true), ask(doomed!.url, true)]);
    const readers = streams.map((s) => s.body!.getReader());
    await Promise.all(readers.map((r) => r.read()));
    await doomed!.kill();
    const killedAt = Date.now();
    await Promise.all(readers.map((r) => r.cancel().catch(() => undefined)));
    await fake.control({ chunkDelayMs: 0 });

    const refused = await ask(survivor!.url);
    expect(refused.status).toBe(429);
    await expect
      .poll(async () => (await ask(survivor!.url)).status, { timeout: 5_000, interval: 100 })
      .toBe(200);
    // Freed by the lease: not before a renewal could have lapsed, and within one lease of the kill.
    const freedAfter = Date.now() - killedAt;
    expect(freedAfter).toBeGreaterThan(LEASE_MS / 3);
    expect(freedAfter).toBeLessThanOrEqual(LEASE_MS + 500);
    // Both slots came back.
    const both = await Promise.all([ask(survivor!.url), ask(survivor!.url)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
  });
});
