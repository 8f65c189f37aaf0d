import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type GatewayProc, killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

const KEY = 'sk-strategies';

/** `total` chat requests for `model`, `concurrency` at a time, alternating between the replicas; their statuses. */
async function closedLoop(
  replicas: readonly GatewayProc[],
  model: string,
  total: number,
  concurrency: number,
  extra: Record<string, unknown> = {},
): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const res = await fetch(`${replicas[i % replicas.length]!.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: `r${i}` }], ...extra }),
      });
      await res.arrayBuffer();
      statuses.push(res.status);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/** A group of a fast (5 ms) and a slow (120 ms) deployment on two fake upstreams, served by 2 replicas. */
async function fastAndSlow(strategy: string) {
  const fast = await startFakeLlm(['--latency-ms', '5']);
  const slow = await startFakeLlm(['--latency-ms', '120']);
  const config = `
model_list:
  - model_name: g
    litellm_params: { model: openai/fast, api_base: "${fast.url}/v1" }
    model_info: { id: fast }
  - model_name: g
    litellm_params: { model: openai/slow, api_base: "${slow.url}/v1" }
    model_info: { id: slow }
router_settings:
  routing_strategy: ${strategy}
general_settings:
  master_key: ${KEY}
fleetgate_settings:
  redis_namespace: strategies-${randomUUID()}
  # About routing, not a slow Redis: a loaded test machine must not turn admissions into 503s.
  redis_command_timeout_ms: 2000
`;
  const env = { REDIS_URL: inject('redisUrl') };
  const replicas = await Promise.all([startGateway({ config, env }), startGateway({ config, env })]);
  return { fast, slow, replicas };
}

describe('routing strategies on the fleet’s own numbers, 2 replicas', () => {
  it('latency-based-routing sends at least 85% to the fast deployment after warm-up', async () => {
    const { fast, slow, replicas } = await fastAndSlow('latency-based-routing');
    // Warm-up: both deployments get samples (an untried one is tried first).
    expect(new Set(await closedLoop(replicas, 'g', 20, 2))).toEqual(new Set([200]));
    const before = [(await fast.stats()).requests, (await slow.stats()).requests];
    expect(before[1]).toBeGreaterThan(0);
    expect(new Set(await closedLoop(replicas, 'g', 200, 4))).toEqual(new Set([200]));
    const toFast = (await fast.stats()).requests - before[0]!;
    const toSlow = (await slow.stats()).requests - before[1]!;
    expect(toFast + toSlow).toBe(200);
    expect(toFast / 200).toBeGreaterThanOrEqual(0.85);
  });

  it('least-busy sends at least 65% to the deployment with fewer requests in flight fleet-wide', async () => {
    const { fast, slow, replicas } = await fastAndSlow('least-busy');
    expect(new Set(await closedLoop(replicas, 'g', 300, 16))).toEqual(new Set([200]));
    const toFast = (await fast.stats()).requests;
    const toSlow = (await slow.stats()).requests;
    expect(toFast + toSlow).toBe(300);
    expect(toFast / 300).toBeGreaterThanOrEqual(0.65);
    // The slow one is still used: it is the less busy one whenever the fast one has more in flight.
    expect(toSlow).toBeGreaterThan(0);
  });

  it('usage-based-routing-v2 keeps rpm 600 and rpm 300 windows within 5 points of equal fill', async () => {
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: u
    litellm_params: { model: openai/big, api_base: "${fake.url}/v1", rpm: 600, weight: 1 }
    model_info: { id: big }
  - model_name: u
    litellm_params: { model: openai/small, api_base: "${fake.url}/v1", rpm: 300, weight: 1 }
    model_info: { id: small }
router_settings:
  routing_strategy: usage-based-routing-v2
general_settings:
  master_key: ${KEY}
fleetgate_settings:
  redis_namespace: strategies-${randomUUID()}
  # About routing, not a slow Redis: a loaded test machine must not turn admissions into 503s.
  redis_command_timeout_ms: 2000
`;
    const env = { REDIS_URL: inject('redisUrl') };
    // Equal weights: simple-shuffle would split 50/50 and fill the small one twice as fast.
    const replicas = await Promise.all([startGateway({ config, env }), startGateway({ config, env })]);
    const fills: Array<[number, number]> = [];
    for (const step of [150, 150, 150]) {
      expect(new Set(await closedLoop(replicas, 'u', step, 12))).toEqual(new Set([200]));
      const models = (await fake.stats()).models;
      fills.push([(models.big ?? 0) / 600, (models.small ?? 0) / 300]);
    }
    // At every point under load, not only at the end.
    for (const [big, small] of fills) expect(Math.abs(big - small)).toBeLessThanOrEqual(0.05);
    expect(fills.at(-1)![0]).toBeCloseTo(0.5, 1);
  });
});
