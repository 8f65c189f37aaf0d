import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

/** The key's spend, which each stream's settlement moves in the same atomic step as its tokens. */
async function spendOf(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/key/info?key=${token}`, { headers: { authorization: 'Bearer sk-fleet' } });
  return ((await res.json()) as { info: { spend: number } }).info.spend;
}

describe('TPM across replicas with streamed responses', () => {
  it('reserves an estimate, then settles each stream to the usage the upstream reported', async () => {
    const fake = await startFakeLlm();
    const config = `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/m, api_base: "${fake.url}/v1", tpm: 1000, input_cost_per_token: 0.001, output_cost_per_token: 0.001 }
general_settings:
  master_key: sk-fleet
fleetgate_settings:
  redis_namespace: tpm-${randomUUID()}
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const replicas = await Promise.all([startGateway({ config, env }), startGateway({ config, env })]);
    const issued = (await (
      await fetch(`${replicas[0]!.url}/key/generate`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk-fleet', 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { key: string; token: string };
    // 400 characters: the fake upstream counts 100 prompt tokens and answers 16 completion tokens.
    const content = 'abcd'.repeat(100);
    const body = {
      model: 'gpt-4o-mini',
      messages: [{ role: 'user' as const, content }],
      max_tokens: 500,
      stream: true as const,
    };
    const estimate = Math.ceil(Buffer.byteLength(JSON.stringify(body)) / 4) + 500;
    const actual = 116;

    let used = 0;
    for (let i = 0; i < 4; i++) {
      const g = replicas[i % 2]!;
      const client = new OpenAI({ baseURL: `${g.url}/v1`, apiKey: issued.key, maxRetries: 0 });
      const { data: stream, response } = await client.chat.completions.create(body).withResponse();
      // What is left after this request's reservation: everything really used so far is counted.
      expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBe(1000 - used - estimate);
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text.trim().split(' ')).toHaveLength(16);
      used += actual;
      // Settled (off the response's path): the spend moved to the real usage, and with it the tokens.
      await expect
        .poll(() => spendOf(g.url, issued.token), { timeout: 3_000, interval: 20 })
        .toBeCloseTo(used * 0.001, 9);
    }
    // 1000 - 4 × 116 = 536 tokens left: less than the next reservation needs, on either replica.
    for (const g of replicas) {
      const res = await fetch(`${g.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${issued.key}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await fake.stats()).requests).toBe(4);
  });
});
