import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayProc, killAll, startFakeLlm, startGateway } from '../support/processes.js';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';

const MASTER = 'sk-persist-master';
let redis: RedisServer;

beforeAll(async () => {
  // As the deploy files run it: an append-only file, here synced on every write.
  redis = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
});
afterAll(async () => {
  await killAll();
  await redis.close();
});

describe('keys and spend are durable', () => {
  it('survive restarting every gateway process, and restarting Redis', async () => {
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: m
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", input_cost_per_token: 0.001, output_cost_per_token: 0.001 }
general_settings:
  master_key: ${MASTER}
`;
    const start = () =>
      Promise.all([0, 1].map(() => startGateway({ config, env: { REDIS_URL: redis.url } })));
    const call = (g: GatewayProc, path: string, init: RequestInit = {}, key = MASTER) =>
      fetch(`${g.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
    const info = async (g: GatewayProc, token: string) =>
      (
        (await (await call(g, `/key/info?key=${token}`)).json()) as {
          info: { spend: number; key_alias: string; rpm_limit: number };
        }
      ).info;
    const chat = (g: GatewayProc, key: string) =>
      call(
        g,
        '/v1/chat/completions',
        { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }) },
        key,
      );

    let gateways = await start();
    const issued = (await (
      await call(gateways[0]!, '/key/generate', {
        method: 'POST',
        body: JSON.stringify({ key_alias: 'durable', rpm_limit: 100 }),
      })
    ).json()) as {
      key: string;
      token: string;
    };
    for (let i = 0; i < 3; i++) expect((await chat(gateways[i % 2]!, issued.key)).status).toBe(200);
    await expect
      .poll(async () => (await info(gateways[0]!, issued.token)).spend, { timeout: 3_000 })
      .toBeCloseTo(3 * 17 * 0.001, 9);
    const before = await info(gateways[0]!, issued.token);

    await Promise.all(gateways.map((g) => g.stop()));
    gateways = await start();
    expect(await info(gateways[1]!, issued.token)).toMatchObject({
      key_alias: 'durable',
      rpm_limit: 100,
      spend: before.spend,
    });
    expect((await chat(gateways[0]!, issued.key)).status).toBe(200);
    await expect
      .poll(async () => (await info(gateways[0]!, issued.token)).spend, { timeout: 3_000 })
      .toBeCloseTo(4 * 17 * 0.001, 9);

    await redis.stop();
    await redis.start();
    // The gateways reconnect on their own; the key and its spend came back from the append-only file.
    await expect
      .poll(async () => (await chat(gateways[1]!, issued.key)).status, { timeout: 10_000, interval: 200 })
      .toBe(200);
    await expect
      .poll(async () => (await info(gateways[0]!, issued.token)).spend, { timeout: 3_000 })
      .toBeCloseTo(5 * 17 * 0.001, 9);
    await Promise.all([...gateways.map((g) => g.stop()), fake.stop()]);
  }, 60_000);
});
