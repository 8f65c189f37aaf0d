import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { byStatus, openLoop } from '../support/load.js';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';

/** Virtual keys across four gateway processes sharing one Redis. */
const MASTER = 'sk-fleet-master';
const IN = 0.000001;
const OUT = 0.000002;

afterAll(async () => {
  await killAll();
});

async function fleet(fake: FakeLlmProc): Promise<GatewayProc[]> {
  const config = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", input_cost_per_token: ${IN}, output_cost_per_token: ${OUT} }
general_settings:
  master_key: ${MASTER}
fleetgate_settings:
  redis_namespace: keys-${randomUUID()}
  redis_command_timeout_ms: 1000
`;
  return Promise.all(
    Array.from({ length: 4 }, () => startGateway({ config, env: { REDIS_URL: inject('redisUrl') } })),
  );
}

const admin = async (g: GatewayProc, path: string, body?: unknown) => {
  const res = await fetch(`${g.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hello there' }],
  max_tokens: 16,
});
const ask = (g: GatewayProc, key: string, payload = body) =>
  fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: payload,
  });

describe('virtual keys across the fleet', () => {
  it('a key with rpm_limit 60 gets exactly 60 in its minute, whichever replicas serve it', async () => {
    const fake = await startFakeLlm();
    const replicas = await fleet(fake);
    const { key } = (await admin(replicas[0]!, '/key/generate', { rpm_limit: 60 })) as { key: string };
    const results = await openLoop({
      targets: replicas.map((g) => g.url),
      path: '/v1/chat/completions',
      rate: 20,
      durationMs: 8_000,
      body,
      headers: { authorization: `Bearer ${key}` },
    });
    expect(byStatus(results)).toEqual({ 200: 60, 429: results.length - 60 });
    expect((await fake.stats()).requests).toBe(60);
    for (const r of results.filter((x) => x.status === 429))
      expect(Number(r.retryAfter)).toBeGreaterThanOrEqual(1);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 60_000);

  it('a key deleted through one replica is refused by the others within a second', async () => {
    const fake = await startFakeLlm();
    const replicas = await fleet(fake);
    const { key, token } = (await admin(replicas[0]!, '/key/generate', {})) as { key: string; token: string };
    // Every replica has seen (and cached) the key.
    for (const g of replicas) expect((await ask(g, key)).status).toBe(200);
    await admin(replicas[0]!, '/key/delete', { keys: [token] });
    const deletedAt = Date.now();
    for (const g of replicas.slice(1)) {
      await expect.poll(async () => (await ask(g, key)).status, { timeout: 1_000, interval: 25 }).toBe(401);
    }
    expect(Date.now() - deletedAt).toBeLessThan(1_000);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 60_000);

  it('spend after N requests is N × the request cost, also when a replica dies mid-stream', async () => {
    const fake = await startFakeLlm();
    const replicas = await fleet(fake);
    const { key, token } = (await admin(replicas[0]!, '/key/generate', {})) as { key: string; token: string };
    const spend = async () =>
      ((await admin(replicas[0]!, `/key/info?key=${token}`)) as { info: { spend: number } }).info.spend;
    // The fake upstream counts 3 prompt tokens for "hello there" and answers max_tokens = 16.
    const cost = 3 * IN + 16 * OUT;
    const n = 20;
    await Promise.all(Array.from({ length: n }, (_, i) => ask(replicas[i % 4]!, key).then((r) => r.text())));
    await expect.poll(spend, { timeout: 3_000 }).toBeCloseTo(n * cost, 12);

    // A stream whose replica is killed after its first chunk never settles: it stays charged the
    // estimate reserved at admission (never lost, never counted twice).
    await fake.control({ chunkDelayMs: 300 });
    const streamBody = JSON.stringify({ ...JSON.parse(body), stream: true });
    const reserved = Math.ceil(Buffer.byteLength(streamBody) / 4) * IN + 16 * OUT;
    const doomed = replicas[3]!;
    const res = await ask(doomed, key, streamBody);
    const reader = res.body!.getReader();
    await reader.read();
    await doomed.kill();
    await reader.read().catch(() => undefined);
    await fake.control({ chunkDelayMs: 0 });
    await expect.poll(spend, { timeout: 3_000 }).toBeCloseTo(n * cost + reserved, 12);
    await Promise.all([...replicas.slice(0, 3).map((g) => g.stop()), fake.stop()]);
  }, 60_000);
});
