import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

describe('waiting for room across replicas', () => {
  it('20 requests over 2 replicas through a max_parallel_requests of 2: all served, never more than 2 upstream at once', async () => {
    const fake = await startFakeLlm(['--latency-ms', '200']);
    const config = `
model_list:
  - model_name: narrow
    litellm_params: { model: openai/narrow, api_base: "${fake.url}/v1", max_parallel_requests: 2 }
    model_info: { id: narrow }
general_settings:
  master_key: sk-wait
fleetgate_settings:
  redis_namespace: waiting-${randomUUID()}
  queue_wait_seconds: 5
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const replicas = await Promise.all([startGateway({ config, env }), startGateway({ config, env })]);
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, (await fake.stats()).inFlight);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        fetch(`${replicas[i % 2]!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { authorization: 'Bearer sk-wait', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'narrow', messages: [{ role: 'user', content: `r${i}` }] }),
        }).then((r) => r.status),
      ),
    );
    const elapsed = performance.now() - started;
    sampling = false;
    await sampler;
    expect(statuses).toEqual(Array(20).fill(200));
    expect(most).toBe(2);
    expect((await fake.stats()).requests).toBe(20);
    // 10 rounds of 200 ms through 2 slots; a slot freed on the other replica is found within a poll.
    expect(elapsed).toBeLessThan(5_000);
  });
});
