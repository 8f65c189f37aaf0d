import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openLoop } from '../support/load.js';
import {
  type FakeStats,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';
import { startRedisRelay } from '../support/redis-relay.js';

/**
 * A slow Redis must not let the fleet double-admit. Every production Redis stalls now and then (a
 * fork for persistence, a failover, a network blip); here a relay holds Redis's replies back for
 * 250 ms every 3 s — longer than the gateways' 100 ms timeout, while Redis has already run the
 * commands. Four replicas, two deployments of 600 RPM each behind an upstream that enforces the
 * same quotas, three times the joint quota offered. The issue's run is 75 s long (bench/results/
 * redis-faults.md has its figures): `FLEETGATE_STALL_SECONDS=75 npx vitest run test/fleet/redis-stall.test.ts`.
 * The suite runs 30 s, enough to fill the joint window (it fills in 20 s) and to see ten stalls.
 */
const RPM = 600;
const TIMEOUT_MS = 100;
const SECONDS = Number(process.env['FLEETGATE_STALL_SECONDS'] ?? 30);
/**
 * How far past the Redis timeout the p99 of what the gateway adds may go: the 5 ms for the
 * dedicated measurement (FLEETGATE_STALL_SECONDS set, a quiet machine: bench/results/redis-faults.md),
 * 50 ms inside `npm test`, where every other test file shares the two cores and Redis itself answers
 * late now and then — still far below a second timeout's worth, which is what a regression would add.
 */
const P99_SLACK_MS = process.env['FLEETGATE_STALL_SECONDS'] ? 5 : 50;
const RATE = (3 * 2 * RPM) / 60;

afterAll(async () => {
  await killAll();
});

/** The most accepted timestamps of all prefixes together found in any rolling window. */
function busiestWindow(stats: FakeStats): number {
  const all = Object.values(stats.accepted)
    .flat()
    .sort((a, b) => a - b);
  let best = 0;
  let left = 0;
  for (let right = 0; right < all.length; right++) {
    while (all[right]! - all[left]! >= stats.quotaWindowMs) left++;
    best = Math.max(best, right - left + 1);
  }
  return best;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

describe('Redis stalling under load', () => {
  it(
    `holds the joint quota: ≤ 1 % beyond it reaches the upstream, ≥ 90 % of it is used, p99 added latency ≤ timeout + ${P99_SLACK_MS} ms (${SECONDS} s)`,
    async () => {
      const url = new URL(inject('redisUrl'));
      const relay = await startRedisRelay({ host: url.hostname, port: Number(url.port) });
      const fake = await startFakeLlm(['--rpm', `/a=${RPM}`, '--rpm', `/b=${RPM}`]);
      const config = `
model_list:
  - model_name: m
    litellm_params: { model: openai/m, api_base: "${fake.url}/a/v1", rpm: ${RPM} }
  - model_name: m
    litellm_params: { model: openai/m, api_base: "${fake.url}/b/v1", rpm: ${RPM} }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: stall-${randomUUID()}
  redis_command_timeout_ms: ${TIMEOUT_MS}
`;
      const env = { REDIS_URL: relay.url };
      const gateways: GatewayProc[] = await Promise.all(
        Array.from({ length: 4 }, () => startGateway({ config, env })),
      );
      relay.stallEvery(250, 3_000);
      const results = await openLoop({
        targets: gateways.map((g) => g.url),
        path: '/v1/chat/completions',
        rate: RATE,
        durationMs: SECONDS * 1000,
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
        headers: { authorization: 'Bearer sk-fleet' },
      });
      relay.stopStalls();
      const stats = await fake.stats();
      const beyond = (stats.byPrefix['/a']?.rejected429 ?? 0) + (stats.byPrefix['/b']?.rejected429 ?? 0);
      const busiest = busiestWindow(stats);
      // What the gateway added to each request, as it reports it (x-litellm-overhead-duration-ms: its
      // time minus the upstream's), answers and refusals alike. The client's own latency would also
      // count this process's event loop, which runs the load and the relay.
      const added = results.map((r) => Number(r.headers['x-litellm-overhead-duration-ms']));
      const statuses: Record<number, number> = {};
      for (const r of results) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      console.info(
        JSON.stringify({
          seconds: SECONDS,
          stalls: relay.stalls(),
          statuses,
          beyondQuota: beyond,
          busiestWindow: busiest,
          p50AddedMs: percentile(added, 50),
          p99AddedMs: percentile(added, 99),
          maxAddedMs: Math.max(...added),
        }),
      );
      expect(relay.stalls()).toBeGreaterThanOrEqual(Math.floor(SECONDS / 3));
      expect(beyond).toBeLessThanOrEqual(Math.floor(0.01 * 2 * RPM));
      expect(busiest).toBeGreaterThanOrEqual(Math.ceil(0.9 * 2 * RPM));
      expect(percentile(added, 99)).toBeLessThanOrEqual(TIMEOUT_MS + P99_SLACK_MS);
      // Nothing but answers, refusals for lack of room, and refusals for an unknown outcome.
      expect(Object.keys(statuses).filter((s) => !['200', '429', '503'].includes(s))).toEqual([]);
      await Promise.all(gateways.map((g) => g.stop()));
      await fake.stop();
      await relay.close();
    },
    (SECONDS + 60) * 1000,
  );
});
