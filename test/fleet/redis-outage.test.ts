import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byStatus, type LoadResult, openLoop } from '../support/load.js';
import { type GatewayProc, killAll, startFakeLlm, startGateway } from '../support/processes.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedisServer();
});
afterAll(async () => {
  await killAll();
  await redis.close();
});

/**
 * Redis killed under load for 10 s and restarted without its data (no persistence): the replicas
 * serve on their local shares without waiting on the dead Redis, say so, and when it is back they
 * write into it what they admitted, so the minute goes on from where it was.
 */
const RPM = 300;
const TIMEOUT_MS = 100;
const RATE = 8; // requests/s over four replicas: 2/s each, far inside a local share of 75/min
const BEFORE_MS = 3_000;
const OUTAGE_MS = 10_000;
const AFTER_MS = 3_000;

const added = (r: LoadResult) => Number(r.headers['x-litellm-overhead-duration-ms']);

/**
 * Asks until the fleet refuses for lack of room; returns how many it answered. A 503 (Redis too slow
 * for the timeout on a loaded machine) is given back by the fleet once its late reply comes: the
 * count waits for those before it concludes.
 */
async function askUntilRefused(replicas: GatewayProc[], ask: (g: GatewayProc) => Promise<Response>) {
  let answered = 0;
  for (let round = 0; round < 1_000; round++) {
    const statuses = (await Promise.all(replicas.map((g) => ask(g)))).map((r) => r.status);
    answered += statuses.filter((s) => s === 200).length;
    if (statuses.some((s) => s !== 200 && s !== 429 && s !== 503)) throw new Error(`unexpected ${statuses}`);
    if (statuses.every((s) => s === 429) && (await givenBackAll(replicas))) return answered;
  }
  throw new Error('never refused');
}

/** Whether the outcome of every admission refused as unknown is known (and given back if it ran), on every replica. */
async function givenBackAll(replicas: GatewayProc[]): Promise<boolean> {
  for (const g of replicas) {
    const metrics = await (await fetch(`${g.url}/metrics`)).text();
    const count = (event: string) =>
      Number(
        metrics.match(
          new RegExp(`^fleetgate_fleet_store_events_total\\{event="${event}"\\} (\\d+)`, 'm'),
        )?.[1] ?? 0,
      );
    if (count('admission_unknown') !== count('admission_resolved') + count('admission_unresolved'))
      return false;
  }
  return true;
}

describe('Redis killed under load for 10 s, restarted empty', () => {
  it('serves inside local shares within the timeout, then the shared window holds what was admitted', async () => {
    const fake = await startFakeLlm(['--rpm', `/d=${RPM}`]);
    const config = `
model_list:
  - model_name: m
    litellm_params: { model: openai/m, api_base: "${fake.url}/d/v1", rpm: ${RPM} }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: outage-${randomUUID()}
  redis_command_timeout_ms: ${TIMEOUT_MS}
`;
    const env = { REDIS_URL: redis.url };
    const replicas: GatewayProc[] = await Promise.all(
      Array.from({ length: 4 }, () => startGateway({ config, env })),
    );
    const started = performance.now();
    const load = openLoop({
      targets: replicas.map((g) => g.url),
      path: '/v1/chat/completions',
      rate: RATE,
      durationMs: BEFORE_MS + OUTAGE_MS + AFTER_MS,
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      headers: { authorization: 'Bearer sk-fleet' },
    });
    await expect
      .poll(() => performance.now() - started, { timeout: BEFORE_MS + 1_000 })
      .toBeGreaterThan(BEFORE_MS);
    await redis.kill();
    const killedAt = performance.now() - started;
    for (const g of replicas)
      await expect
        .poll(async () => (await g.readiness()).body, { timeout: 3_000, interval: 100 })
        .toMatchObject({ status: 'degraded', fleet_state: 'local', fleet_state_reason: expect.any(String) });
    await expect
      .poll(() => performance.now() - started, { timeout: OUTAGE_MS + 2_000 })
      .toBeGreaterThan(killedAt + OUTAGE_MS);
    await redis.start();
    const restartedAt = performance.now() - started;
    const results = await load;

    // While Redis was away, requests were served on the local shares, none waiting on Redis for
    // longer than its timeout (the gateway's own time, as it reports it).
    const during = results.filter((_, i) => {
      const sentAt = (i * 1000) / RATE;
      return sentAt >= killedAt && sentAt < restartedAt;
    });
    console.info(
      JSON.stringify({
        outageMs: Math.round(restartedAt - killedAt),
        duringOutage: during.length,
        servedDuringOutage: during.filter((r) => r.status === 200).length,
        maxAddedMsDuringOutage: Math.max(...during.map(added)),
        statuses: byStatus(results),
      }),
    );
    expect(during.length).toBeGreaterThanOrEqual(Math.floor(((restartedAt - killedAt) / 1000) * RATE) - 1);
    expect(during.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(
      Math.ceil(0.95 * during.length),
    );
    expect(Math.max(...during.map(added))).toBeLessThanOrEqual(TIMEOUT_MS + 50);
    for (const g of replicas) {
      await expect.poll(async () => (await g.readiness()).body['status'], { timeout: 5_000 }).toBe('healthy');
      expect(g.child.exitCode).toBeNull();
      // The episode is logged once each way, not once per request.
      expect(g.lines.filter((l) => l.includes('redis unreachable')).length).toBe(1);
      expect(g.lines.filter((l) => l.includes('reachable again')).length).toBe(1);
      const metrics = await (await fetch(`${g.url}/metrics`)).text();
      expect(metrics).toMatch(/^fleetgate_fleet_state_episodes_total\{reason="connection_down"\} 1$/m);
    }

    // Redis came back empty; every replica wrote back what it admitted in this window, so the
    // window holds exactly what the upstream accepted, and the rest of the minute only what is left.
    const served = (await fake.stats()).byPrefix['/d']?.accepted ?? 0;
    expect(served).toBe(results.filter((r) => r.status === 200).length);
    const ask = (g: GatewayProc) =>
      fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-fleet', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
      });
    const probe = await ask(replicas[0]!);
    expect(probe.status).toBe(200);
    const left = Number(probe.headers.get('x-ratelimit-remaining-requests'));
    console.info(JSON.stringify({ servedInWindow: served, leftAfterProbe: left }));
    expect(left).toBe(RPM - served - 1);
    expect(await askUntilRefused(replicas, ask)).toBe(left);
    // The upstream never saw a request beyond its quota.
    expect((await fake.stats()).byPrefix['/d']?.rejected429).toBe(0);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 60_000);
});
