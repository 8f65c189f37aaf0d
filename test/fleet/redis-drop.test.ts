import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openLoop } from '../support/load.js';
import { type GatewayProc, killAll, startFakeLlm, startGateway } from '../support/processes.js';
import { startRedisRelay } from '../support/redis-relay.js';

afterAll(async () => {
  await killAll();
});

/**
 * The connection to Redis drops under load (a network cut: every connection closed at once, with
 * admissions and settlements on the wire). Whatever was in flight — admitted or not, settled or not,
 * admitted locally while the replicas reconnected — the key's spend and the deployment's TPM window
 * end up holding exactly what the served requests used: nothing counted twice, nothing lost.
 */
const IN = 0.000_01;
const OUT = 0.000_1;
const TPM = 10_000_000;
const MASTER = 'sk-fleet';
const RATE = 30;
const DURATION_MS = 8_000;

describe('a dropped Redis connection mid-load', () => {
  it('leaves spend and token totals equal to the sum of the requests served, exactly', async () => {
    const url = new URL(inject('redisUrl'));
    const relay = await startRedisRelay({ host: url.hostname, port: Number(url.port) });
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_base: "${fake.url}/v1"
      tpm: ${TPM}
      input_cost_per_token: ${IN}
      output_cost_per_token: ${OUT}
general_settings:
  master_key: ${MASTER}
fleetgate_settings:
  redis_namespace: drop-${randomUUID()}
`;
    const env = { REDIS_URL: relay.url };
    const replicas: GatewayProc[] = await Promise.all(
      Array.from({ length: 3 }, () => startGateway({ config, env })),
    );
    const call = (g: GatewayProc, path: string, key: string, body?: unknown) =>
      fetch(`${g.url}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const issued = (await (await call(replicas[0]!, '/key/generate', MASTER, {})).json()) as {
      key: string;
      token: string;
    };
    const request = { model: 'm', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 16 };
    // What one request uses, as the upstream reports it (every request of the load is the same).
    const one = (await (await call(replicas[0]!, '/v1/chat/completions', MASTER, request)).json()) as {
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const { prompt_tokens: prompt, completion_tokens: completion } = one.usage;

    const started = performance.now();
    const load = openLoop({
      targets: replicas.map((g) => g.url),
      path: '/v1/chat/completions',
      rate: RATE,
      durationMs: DURATION_MS,
      body: JSON.stringify(request),
      headers: { authorization: `Bearer ${issued.key}` },
    });
    await expect
      .poll(() => performance.now() - started, { timeout: DURATION_MS })
      .toBeGreaterThan(DURATION_MS / 2);
    const connectionsBefore = relay.connections();
    relay.dropAll();
    const results = await load;
    expect(relay.connections()).toBeGreaterThan(connectionsBefore);
    const served = results.filter((r) => r.status === 200).length;
    // Served, refused while the outcome was unknown, nothing else.
    expect(results.filter((r) => r.status !== 200 && r.status !== 503)).toEqual([]);
    expect(served).toBeGreaterThan(0.9 * results.length);

    // The key's spend: exactly the served requests' cost.
    const spend = async () =>
      (
        (await (await call(replicas[1]!, `/key/info?key=${issued.token}`, MASTER)).json()) as {
          info: { spend: number };
        }
      ).info.spend;
    const cost = prompt * IN + completion * OUT;
    await expect.poll(spend, { timeout: 5_000, interval: 100 }).toBeCloseTo(served * cost, 10);

    // The window: exactly the tokens used by every request served in it (the first one included),
    // seen as what is left after one more request's reservation.
    const probeBody = { ...request, max_tokens: 1 };
    const reserved = Math.ceil(Buffer.byteLength(JSON.stringify(probeBody)) / 4) + 1;
    const left = async () => {
      const res = await call(replicas[2]!, '/v1/chat/completions', MASTER, probeBody);
      await res.text();
      return Number(res.headers.get('x-ratelimit-remaining-tokens'));
    };
    // Each probe is settled too (1 completion token): count them as they go.
    let probes = 0;
    const used = () => (served + 1) * (prompt + completion) + probes * (prompt + 1);
    await expect
      .poll(
        async () => {
          const remaining = await left();
          const expected = TPM - used() - reserved;
          probes++;
          return remaining - expected;
        },
        { timeout: 5_000, interval: 200 },
      )
      .toBe(0);
    // The cut was felt: replicas reconnected, and served on their shares meanwhile or resolved
    // what was in flight.
    let felt = 0;
    for (const g of replicas) {
      const metrics = await (await fetch(`${g.url}/metrics`)).text();
      for (const m of metrics.matchAll(
        /^fleetgate_(?:fleet_state_episodes|fleet_store_events)_total\{[^}]*\} (\d+)$/gm,
      ))
        felt += Number(m[1]);
    }
    console.info(JSON.stringify({ served, refused: results.length - served, felt }));
    expect(felt).toBeGreaterThan(0);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
    await relay.close();
  }, 60_000);
});
