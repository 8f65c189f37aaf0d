import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byStatus, openLoop } from '../support/load.js';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await killAll();
  await redis.close();
});

describe('Redis goes away under load and comes back', () => {
  it('no crash, no request waits past the timeout, readiness says degraded, shared limits resume', async () => {
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", rpm: 100000 }
  - model_name: limited
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", rpm: 4 }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: outage-${randomUUID()}
  redis_command_timeout_ms: 100
`;
    const env = { REDIS_URL: redis.url };
    const replicas = await Promise.all([startGateway({ config, env }), startGateway({ config, env })]);
    const load = openLoop({
      targets: replicas.map((g) => g.url),
      path: '/v1/chat/completions',
      rate: 40,
      durationMs: 9_000,
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
      headers: { authorization: 'Bearer sk-fleet' },
    });
    await new Promise((r) => setTimeout(r, 2_000));
    await redis.stop();
    await new Promise((r) => setTimeout(r, 1_500));
    for (const g of replicas)
      expect((await g.readiness()).body).toMatchObject({ status: 'degraded', fleet_state: 'local' });
    await new Promise((r) => setTimeout(r, 1_500));
    await redis.start();
    const results = await load;

    expect(byStatus(results)).toEqual({ 200: results.length });
    // Not one request waited on the dead Redis for more than its short timeout (plus scheduling slack).
    expect(Math.max(...results.map((r) => r.latencyMs))).toBeLessThan(600);
    for (const g of replicas) {
      await expect.poll(async () => (await g.readiness()).body['status'], { timeout: 5_000 }).toBe('healthy');
      expect(g.child.exitCode).toBeNull();
      // The switch is logged once each way, not once per request.
      expect(g.lines.filter((l) => l.includes('redis unreachable')).length).toBe(1);
      expect(g.lines.filter((l) => l.includes('reachable again')).length).toBe(1);
    }
    // Shared again: 4 requests a minute for the whole fleet, not 4 per replica.
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${replicas[i % 2]!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-fleet', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'limited', messages: [{ role: 'user', content: 'hi' }] }),
      });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(4);
  }, 40_000);
});
