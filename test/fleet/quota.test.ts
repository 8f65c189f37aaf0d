import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { byStatus, openLoop } from '../support/load.js';
import { freePort } from '../support/ports.js';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';

/**
 * DESIGN.md's promise: replicas behind an ingress respect each deployment's quota together, exactly.
 * Two deployments, each allowed RPM requests a minute by a fake upstream that enforces it itself;
 * load at three times their joint quota, spread over four replicas.
 */
const RPM = 300;
// The run checks exactness, not latency (redis-outage.test.ts checks the timeout): on a shared CI
// machine four gateways, a fake upstream, Redis and the load compete for two cores.
const ENV = { REDIS_URL: inject('redisUrl'), FLEETGATE_REDIS_TIMEOUT_MS: '1000' };
const RATE = 90; // requests/s: 1,800 in 20 s, three times the joint quota of 600
const DURATION_MS = 20_000;

afterAll(async () => {
  await killAll();
});

function fleetConfig(fake: FakeLlmProc): string {
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fake.url}/a/v1", api_key: sk-a, rpm: ${RPM} }
    model_info: { id: deployment-a }
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fake.url}/b/v1", api_key: sk-b, rpm: ${RPM} }
    model_info: { id: deployment-b }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: fleet-${randomUUID()}
`;
}

async function runLoad(targets: string[], fake: FakeLlmProc) {
  const results = await openLoop({
    targets,
    path: '/v1/chat/completions',
    rate: RATE,
    durationMs: DURATION_MS,
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    headers: { authorization: 'Bearer sk-fleet' },
  });
  const upstream = await fake.stats();
  return { results, upstream };
}

function assertQuotaRespected({ results, upstream }: Awaited<ReturnType<typeof runLoad>>) {
  const statuses = byStatus(results);
  // The upstream never had to refuse anything: the fleet held every deployment under its quota...
  expect(upstream.byStatus['429'] ?? 0).toBe(0);
  expect(upstream.byPrefix['/a']?.rejected429).toBe(0);
  expect(upstream.byPrefix['/b']?.rejected429).toBe(0);
  expect(upstream.maxInAnyWindow['/a']).toBeLessThanOrEqual(RPM);
  expect(upstream.maxInAnyWindow['/b']).toBeLessThanOrEqual(RPM);
  // ...while using (at least 99% of) all of it.
  const accepted = (upstream.byPrefix['/a']?.accepted ?? 0) + (upstream.byPrefix['/b']?.accepted ?? 0);
  expect(accepted).toBeGreaterThanOrEqual(Math.ceil(2 * RPM * 0.99));
  // Clients got exactly what the upstream served, and a 429 with retry-after for the rest.
  expect(statuses[200]).toBe(accepted);
  expect(statuses[429]).toBe(results.length - accepted);
  expect(Object.keys(statuses).sort()).toEqual(['200', '429']);
  for (const r of results.filter((x) => x.status === 429))
    expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
  // Every replica took part in serving.
  expect(new Set(results.filter((r) => r.status === 200).map((r) => r.target)).size).toBe(
    results.length > 0 ? new Set(results.map((r) => r.target)).size : 0,
  );
}

describe('fleet quota', () => {
  it('four gateway processes sharing one Redis hold two deployments to their joint quota, exactly', async () => {
    const fake = await startFakeLlm(['--rpm', `/a=${RPM}`, '--rpm', `/b=${RPM}`]);
    const config = fleetConfig(fake);
    const gateways: GatewayProc[] = await Promise.all(
      Array.from({ length: 4 }, () => startGateway({ config, env: ENV })),
    );
    const run = await runLoad(
      gateways.map((g) => g.url),
      fake,
    );
    assertQuotaRespected(run);
    await Promise.all(gateways.map((g) => g.stop()));
    await fake.stop();
  }, 60_000);

  it('--workers 4 (one port, four processes) holds them the same way', async () => {
    const fake = await startFakeLlm(['--rpm', `/a=${RPM}`, '--rpm', `/b=${RPM}`]);
    const port = await freePort();
    const gateway = await startGateway({
      config: fleetConfig(fake),
      env: ENV,
      flags: ['--workers', '4'],
      port,
    });
    // Wait until all four workers listen (each logs its own line).
    await expect
      .poll(() => gateway.lines.filter((l) => l.includes('fleetgate listening')).length, { timeout: 15_000 })
      .toBe(4);
    const run = await runLoad([gateway.url], fake);
    assertQuotaRespected(run);
    // A scrape lands on one worker, and reports all four.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const served = [
      ...metrics.matchAll(/^litellm_deployment_success_responses_total\{[^}]*\} (\d+)$/gm),
    ].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(served).toBe(run.results.filter((r) => r.status === 200).length);
    expect(await gateway.stop()).toBe(0);
    await fake.stop();
  }, 60_000);
});
