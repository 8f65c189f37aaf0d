import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

const ask = (url: string) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-fleet', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });

describe('cooldown across replicas', () => {
  it('a deployment that fails on one replica is skipped by another on its very next request', async () => {
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/primary/v1", order: 1 }
    model_info: { id: primary }
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/backup/v1", order: 2 }
    model_info: { id: backup }
router_settings:
  cooldown_time: 30
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: cooldown-${randomUUID()}
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const [one, two] = await Promise.all([startGateway({ config, env }), startGateway({ config, env })]);
    // `order` makes every replica try the primary first while it is healthy.
    for (const g of [one!, two!])
      expect((await ask(g.url)).headers.get('x-litellm-model-id')).toBe('primary');
    await fake.control({ prefix: '/primary', failRate: 1, failStatus: 429 });
    await fake.reset();

    const failedOver = await ask(one!.url);
    expect(failedOver.status).toBe(200);
    expect(failedOver.headers.get('x-litellm-model-id')).toBe('backup');
    expect(failedOver.headers.get('x-litellm-attempted-retries')).toBe('1');

    for (let i = 0; i < 5; i++) {
      const res = await ask(two!.url);
      expect(res.headers.get('x-litellm-model-id')).toBe('backup');
      expect(res.headers.get('x-litellm-attempted-retries')).toBe('0');
    }
    const stats = await fake.stats();
    expect(stats.byPath['/primary/v1/chat/completions']).toBe(1);
    expect(stats.byPath['/backup/v1/chat/completions']).toBe(6);
    const metrics = await (await fetch(`${one!.url}/metrics`)).text();
    expect(metrics).toMatch(/litellm_deployment_cooled_down_total\{[^}]*model_id="primary"[^}]*\} 1/);
  });
});
