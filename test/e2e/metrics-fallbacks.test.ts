import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startFakeLlm, startGateway } from '../support/processes.js';
import { scrape } from '../support/prometheus.js';

afterAll(async () => {
  await killAll();
});

describe('fallback counters', () => {
  it("count each fallback tried, under LiteLLM's names, with the failure that led to it", async () => {
    const fake = await startFakeLlm();
    await fake.control({ prefix: '/shaky', failRate: 1, failStatus: 500 });
    const gateway = await startGateway({
      config: `
model_list:
  - model_name: shaky
    litellm_params: { model: openai/a, api_base: "${fake.url}/shaky/v1", num_retries: 0 }
  - model_name: tiny
    litellm_params: { model: openai/b, api_base: "${fake.url}/tiny/v1", rpm: 1 }
  - model_name: good
    litellm_params: { model: openai/c, api_base: "${fake.url}/good/v1" }
router_settings:
  fallbacks: [{ shaky: [tiny, good] }]
general_settings:
  master_key: sk-fallbacks
`,
    });
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-fallbacks', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'hi' }];
    // tiny's one request a minute is used up: as a fallback it fails, and good answers.
    await client.chat.completions.create({ model: 'tiny', messages });
    const answer = await client.chat.completions.create({ model: 'shaky', messages });
    expect(answer.model).toBe('c');
    const metrics = await scrape(gateway.url);
    const labels = {
      requested_model: 'shaky',
      exception_status: '500',
      exception_class: 'InternalServerError',
    };
    expect(
      metrics.sum('litellm_deployment_failed_fallbacks_total', { ...labels, fallback_model: 'tiny' }),
    ).toBe(1);
    expect(
      metrics.sum('litellm_deployment_successful_fallbacks_total', { ...labels, fallback_model: 'good' }),
    ).toBe(1);
    expect(metrics.sum('litellm_deployment_failed_fallbacks_total')).toBe(1);
    expect(metrics.sum('litellm_deployment_successful_fallbacks_total')).toBe(1);
  });
});
