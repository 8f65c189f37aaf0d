import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

describe('in-flight slots of a replica killed mid-request', () => {
  it('stay held until their lease runs out, then free — they never leak', async () => {
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", max_parallel_requests: 2 }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: lease-${randomUUID()}
  inflight_lease_seconds: 2
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const [doomed, survivor] = await Promise.all([
      startGateway({ config, env }),
      startGateway({ config, env }),
    ]);
    const ask = (url: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-fleet', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      });

    await fake.control({ latencyMs: 60_000 });
    const held = [ask(doomed!.url).catch(() => undefined), ask(doomed!.url).catch(() => undefined)];
    await expect.poll(async () => (await fake.stats()).inFlight, { timeout: 5_000 }).toBe(2);
    await doomed!.kill();
    await Promise.all(held);
    await fake.control({ latencyMs: 0 });

    const killedAt = Date.now();
    const refused = await ask(survivor!.url);
    expect(refused.status).toBe(429);
    await expect
      .poll(async () => (await ask(survivor!.url)).status, { timeout: 5_000, interval: 200 })
      .toBe(200);
    // Freed by the lease (2 s), not earlier.
    expect(Date.now() - killedAt).toBeGreaterThan(1_000);
    // Both slots came back.
    const both = await Promise.all([ask(survivor!.url), ask(survivor!.url)]);
    expect(both.map((r) => r.status)).toEqual([200, 200]);
  });
});
