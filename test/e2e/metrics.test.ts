import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  ROOT,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';
import { type Scrape, scrape } from '../support/prometheus.js';

/**
 * Every metric family `/metrics` exports, checked against a known sequence of requests on one
 * replica with Redis: what each family must say afterwards, exactly where the sequence fixes it.
 * A family the gateway exports but this test does not know fails the test, so none goes unchecked.
 */
const IN = 0.000_001; // USD per prompt token on the priced deployment
const OUT = 0.000_002; // USD per completion token

let fake: FakeLlmProc;
let gateway: GatewayProc;
let metrics: Scrape;
let virtualKey: string;
/** Usage the client saw, per deployment id. */
const usage: Record<string, { prompt: number; completion: number; requests: number }> = {};
const statuses: Record<string, number> = {};

function config(fakeUrl: string): string {
  return `
model_list:
  - model_name: priced
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fakeUrl}/priced/v1", api_key: sk-up, rpm: 50, tpm: 50000, input_cost_per_token: ${IN}, output_cost_per_token: ${OUT} }
    model_info: { id: priced-a }
  - model_name: free
    litellm_params: { model: openai/text-embedding-3-small, api_base: "${fakeUrl}/free/v1", api_key: sk-up }
    model_info: { id: free-a }
  - model_name: tiny
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fakeUrl}/tiny/v1", api_key: sk-up, rpm: 1 }
    model_info: { id: tiny-a }
  - model_name: broken
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fakeUrl}/broken/v1", api_key: sk-up }
    model_info: { id: broken-a }
router_settings:
  cooldown_time: 60
general_settings:
  master_key: sk-metrics
fleetgate_settings:
  redis_namespace: metrics-${randomUUID()}
`;
}

beforeAll(async () => {
  fake = await startFakeLlm();
  await fake.control({ prefix: '/broken', failRate: 1, failStatus: 401 });
  gateway = await startGateway({ config: config(fake.url), env: { REDIS_URL: inject('redisUrl') } });
  const master = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-metrics', maxRetries: 0 });
  const team = await fetch(`${gateway.url}/team/new`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-metrics' },
    body: JSON.stringify({ team_id: 'billing', team_alias: 'Billing', max_budget: 2 }),
  });
  expect(team.status).toBe(200);
  const user = await fetch(`${gateway.url}/user/new`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-metrics' },
    body: JSON.stringify({ user_id: 'ann', max_budget: 3 }),
  });
  expect(user.status).toBe(200);
  const generated = await fetch(`${gateway.url}/key/generate`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk-metrics' },
    body: JSON.stringify({
      key_alias: 'metered',
      max_budget: 1,
      team_id: 'billing',
      user_id: 'ann',
      model_rpm_limit: { priced: 10 },
    }),
  });
  virtualKey = ((await generated.json()) as { key: string }).key;
  const keyed = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: virtualKey, maxRetries: 0 });
  const count = (id: string, prompt: number, completion: number) => {
    usage[id] ??= { prompt: 0, completion: 0, requests: 0 };
    const u = usage[id];
    u.prompt += prompt;
    u.completion += completion;
    u.requests++;
  };
  const chat = { model: 'priced', messages: [{ role: 'user' as const, content: 'hello metrics' }] };
  // 3 with the master key, 1 with the virtual key, 1 stream with the virtual key: 5 on priced-a.
  for (let i = 0; i < 3; i++) {
    const r = await master.chat.completions.create(chat);
    count('priced-a', r.usage!.prompt_tokens, r.usage!.completion_tokens);
  }
  const r = await keyed.chat.completions.create(chat);
  count('priced-a', r.usage!.prompt_tokens, r.usage!.completion_tokens);
  const stream = await keyed.chat.completions.create({
    ...chat,
    stream: true,
    stream_options: { include_usage: true },
  });
  for await (const chunk of stream)
    if (chunk.usage) count('priced-a', chunk.usage.prompt_tokens, chunk.usage.completion_tokens);
  // 1 embedding on an unlimited, unpriced deployment.
  const e = await master.embeddings.create({ model: 'free', input: 'hello' });
  count('free-a', e.usage.prompt_tokens, 0);
  // tiny allows 1 request a minute: the second is refused by the gateway (429 rate_limited).
  const t = await master.chat.completions.create({ ...chat, model: 'tiny' });
  count('tiny-a', t.usage!.prompt_tokens, t.usage!.completion_tokens);
  const send = async (model: string) => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-metrics', 'content-type': 'application/json' },
      body: JSON.stringify({ ...chat, model }),
    });
    await res.arrayBuffer();
    const code = `${res.status} ${res.headers.get('x-fleetgate-error-code')}`;
    statuses[code] = (statuses[code] ?? 0) + 1;
  };
  await send('tiny');
  // broken answers 401: cooled down at once; the next request finds no deployment.
  await send('broken');
  await send('broken');
  // An unknown model: 400 before any deployment is involved.
  await send('nope');
  // Settlement is off the response's path: wait until nothing is in flight and the key's spend
  // has stopped moving (its settlement may share a later Redis call).
  const spendOf = async () =>
    (
      (await (
        await fetch(`${gateway.url}/key/info?key=${virtualKey}`, {
          headers: { authorization: 'Bearer sk-metrics' },
        })
      ).json()) as { info: { spend: number } }
    ).info.spend;
  const deadline = Date.now() + 10_000;
  for (let last = -1; ; ) {
    metrics = await scrape(gateway.url);
    const spend = await spendOf();
    if (metrics.sum('fleetgate_in_flight_requests') === 0 && spend === last) break;
    if (Date.now() > deadline) throw new Error('requests still in flight or spend still settling after 10 s');
    last = spend;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  await killAll();
});

const priced = { model_id: 'priced-a' };
const key = () => createHash('sha256').update(virtualKey).digest('hex');

describe('/metrics after a known sequence of requests', () => {
  it('the sequence went as planned', () => {
    expect(statuses).toEqual({
      '429 rate_limited': 1,
      '401 upstream_auth_error': 1,
      '429 no_deployment_available': 1,
      '400 model_not_found': 1,
    });
  });

  it('litellm_proxy_total_requests_metric_total and litellm_proxy_failed_requests_metric_total', () => {
    const total = (labels: Record<string, string>) =>
      metrics.sum('litellm_proxy_total_requests_metric_total', labels);
    expect(total({ status_code: '200' })).toBe(7);
    expect(total({ status_code: '200', hashed_api_key: key(), api_key_alias: 'metered' })).toBe(2);
    expect(total({ status_code: '429' })).toBe(2);
    expect(total({ status_code: '401' })).toBe(1);
    expect(total({ status_code: '400' })).toBe(1);
    expect(total({ route: '/embeddings' })).toBe(1);
    const failed = (labels: Record<string, string>) =>
      metrics.sum('litellm_proxy_failed_requests_metric_total', labels);
    expect(failed({})).toBe(4);
    expect(failed({ exception_class: 'rate_limited', exception_status: '429' })).toBe(1);
    expect(failed({ exception_class: 'no_deployment_available', requested_model: 'broken' })).toBe(1);
    expect(failed({ exception_class: 'model_not_found', exception_status: '400' })).toBe(1);
  });

  it('latency histograms count every request that reached them; time to first token counts the stream', () => {
    expect(metrics.sum('litellm_request_total_latency_metric_count')).toBe(11);
    // Upstream and overhead latency: the requests a deployment answered (7 successes, 1 failure).
    expect(metrics.sum('litellm_llm_api_latency_metric_count')).toBe(8);
    expect(metrics.sum('litellm_overhead_latency_metric_count')).toBe(8);
    expect(metrics.sum('litellm_overhead_latency_metric_count', { model_group: 'priced' })).toBe(5);
    expect(metrics.sum('litellm_llm_api_time_to_first_token_metric_count')).toBe(1);
    expect(
      metrics.sum('litellm_llm_api_time_to_first_token_metric_count', { hashed_api_key: key(), ...priced }),
    ).toBe(1);
    const ttft = metrics.sum('litellm_llm_api_time_to_first_token_metric_sum');
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThan(5);
    for (const family of [
      'litellm_request_total_latency_metric',
      'litellm_llm_api_time_to_first_token_metric',
    ])
      expect(metrics.sum(`${family}_bucket`, { le: '+Inf' })).toBe(metrics.sum(`${family}_count`));
  });

  it('deployment calls: successes, failures, totals, cooldowns and state', () => {
    const by = (name: string, id: string) => metrics.sum(name, { model_id: id });
    expect(by('litellm_deployment_success_responses_total', 'priced-a')).toBe(5);
    expect(by('litellm_deployment_success_responses_total', 'free-a')).toBe(1);
    expect(by('litellm_deployment_success_responses_total', 'tiny-a')).toBe(1);
    expect(by('litellm_deployment_failure_responses_total', 'broken-a')).toBe(1);
    expect(metrics.select('litellm_deployment_failure_responses_total')[0]?.labels).toMatchObject({
      model_id: 'broken-a',
      exception_status: '401',
    });
    expect(metrics.sum('litellm_deployment_total_requests_total')).toBe(8);
    expect(metrics.sum('litellm_deployment_cooled_down_total')).toBe(1);
    expect(by('litellm_deployment_cooled_down_total', 'broken-a')).toBe(1);
    expect(by('litellm_deployment_state', 'broken-a')).toBe(2);
    expect(by('litellm_deployment_state', 'priced-a')).toBe(0);
  });

  it('tokens and spend add up to the usage clients were told', () => {
    const all = Object.values(usage);
    const prompt = all.reduce((n, u) => n + u.prompt, 0);
    const completion = all.reduce((n, u) => n + u.completion, 0);
    expect(metrics.sum('litellm_input_tokens_metric_total')).toBe(prompt);
    expect(metrics.sum('litellm_output_tokens_metric_total')).toBe(completion);
    expect(metrics.sum('litellm_total_tokens_metric_total')).toBe(prompt + completion);
    const p = usage['priced-a']!;
    expect(metrics.sum('litellm_spend_metric_total', priced)).toBeCloseTo(
      p.prompt * IN + p.completion * OUT,
      12,
    );
    expect(metrics.sum('litellm_spend_metric_total', { model_id: 'free-a' })).toBe(0);
  });

  it('remaining and limit gauges exist only for the windows a deployment has', () => {
    expect(metrics.sum('litellm_remaining_requests', priced)).toBe(50 - 5);
    const tokensLeft = metrics.sum('litellm_remaining_tokens', priced);
    expect(tokensLeft).toBeGreaterThan(0);
    expect(tokensLeft).toBeLessThan(50_000);
    expect(metrics.sum('litellm_remaining_requests', { model_id: 'tiny-a' })).toBe(0);
    expect(metrics.select('litellm_remaining_tokens', { model_id: 'tiny-a' })).toEqual([]);
    for (const id of ['free-a', 'broken-a'])
      for (const name of [
        'litellm_remaining_requests',
        'litellm_remaining_tokens',
        'litellm_deployment_rpm_limit',
        'litellm_deployment_tpm_limit',
      ])
        expect(metrics.select(name, { model_id: id })).toEqual([]);
    expect(metrics.sum('litellm_deployment_rpm_limit', priced)).toBe(50);
    expect(metrics.sum('litellm_deployment_tpm_limit', priced)).toBe(50_000);
    expect(metrics.sum('litellm_deployment_rpm_limit', { model_id: 'tiny-a' })).toBe(1);
  });

  it("the virtual key's budget, its team's and its user's, as their records say", async () => {
    const info = (await (
      await fetch(`${gateway.url}/key/info?key=${virtualKey}`, {
        headers: { authorization: 'Bearer sk-metrics' },
      })
    ).json()) as { info: { spend: number } };
    const p = usage['priced-a']!;
    expect(info.info.spend).toBeGreaterThan(0);
    expect(metrics.sum('litellm_api_key_max_budget_metric', { hashed_api_key: key() })).toBe(1);
    expect(metrics.sum('litellm_remaining_api_key_budget_metric', { api_key_alias: 'metered' })).toBeCloseTo(
      1 - info.info.spend,
      12,
    );
    // Two of the five priced requests were the key's: its spend is at most what they cost in all.
    expect(info.info.spend).toBeLessThanOrEqual(p.prompt * IN + p.completion * OUT);
    // Its team is charged the same, and labels its spend.
    const team = { team: 'billing', team_alias: 'Billing' };
    expect(metrics.sum('litellm_team_max_budget_metric', team)).toBe(2);
    expect(metrics.sum('litellm_remaining_team_budget_metric', team)).toBeCloseTo(2 - info.info.spend, 12);
    expect(metrics.sum('litellm_spend_metric_total', { ...team, hashed_api_key: key() })).toBeGreaterThan(0);
    expect(metrics.sum('litellm_proxy_total_requests_metric_total', team)).toBe(2);
    // Its per-model window on priced (model_rpm_limit 10): its two requests there; no tpm series.
    expect(
      metrics.sum('litellm_remaining_api_key_requests_for_model', { hashed_api_key: key(), model: 'priced' }),
    ).toBe(8);
    expect(metrics.select('litellm_remaining_api_key_tokens_for_model')).toEqual([]);
    // And its user: charged through the team key (whose budget is the team's), its spend counts.
    expect(metrics.sum('litellm_user_max_budget_metric', { user: 'ann' })).toBe(3);
    expect(metrics.sum('litellm_remaining_user_budget_metric', { user: 'ann' })).toBeCloseTo(
      3 - info.info.spend,
      12,
    );
  });

  it("Fleetgate's own: admissions, fleet state, replicas, in flight", () => {
    const admissions = (result: string) => metrics.sum('fleetgate_admissions_total', { result });
    expect(admissions('admitted')).toBe(8);
    expect(admissions('rate_limited')).toBe(1);
    expect(admissions('no_deployment_available')).toBe(1);
    expect(metrics.sum('fleetgate_fleet_state_local')).toBe(0);
    expect(metrics.sum('fleetgate_fleet_state_mode', { mode: 'shared', store: 'redis' })).toBe(1);
    expect(metrics.sum('fleetgate_fleet_state_mode', { mode: 'local', store: 'redis' })).toBe(0);
    expect(metrics.sum('fleetgate_live_replicas')).toBe(1);
    expect(metrics.select('fleetgate_in_flight_requests', priced)).toHaveLength(1);
    expect(metrics.sum('fleetgate_in_flight_requests')).toBe(0);
    // Redis answered every call in time: no refusal for an unknown outcome, no episode, nothing to resolve.
    expect(admissions('fleet_state_unknown')).toBe(0);
    expect(metrics.sum('fleetgate_fleet_state_episodes_total')).toBe(0);
    expect(metrics.sum('fleetgate_fleet_store_events_total')).toBe(0);
  });

  it('exports no family this test does not check (besides process and Node.js runtime metrics)', () => {
    const checked = new Set([
      'litellm_proxy_total_requests_metric_total',
      'litellm_proxy_failed_requests_metric_total',
      'litellm_request_total_latency_metric',
      'litellm_llm_api_latency_metric',
      'litellm_overhead_latency_metric',
      'litellm_llm_api_time_to_first_token_metric',
      'litellm_deployment_success_responses_total',
      'litellm_deployment_failure_responses_total',
      'litellm_deployment_total_requests_total',
      'litellm_deployment_cooled_down_total',
      'litellm_deployment_state',
      'litellm_input_tokens_metric_total',
      'litellm_output_tokens_metric_total',
      'litellm_total_tokens_metric_total',
      'litellm_spend_metric_total',
      'litellm_remaining_requests',
      'litellm_remaining_tokens',
      'litellm_deployment_rpm_limit',
      'litellm_deployment_tpm_limit',
      'litellm_api_key_max_budget_metric',
      'litellm_remaining_api_key_budget_metric',
      'litellm_team_max_budget_metric',
      'litellm_remaining_team_budget_metric',
      'litellm_user_max_budget_metric',
      'litellm_remaining_api_key_requests_for_model',
      'litellm_remaining_api_key_tokens_for_model',
      'litellm_remaining_user_budget_metric',
      'fleetgate_admissions_total',
      'fleetgate_fleet_state_local',
      'fleetgate_fleet_state_mode',
      'fleetgate_live_replicas',
      'fleetgate_in_flight_requests',
      'fleetgate_fleet_state_episodes_total',
      'fleetgate_fleet_store_events_total',
      // No fallbacks in this sequence: metrics-fallbacks.test.ts checks these two.
      'litellm_deployment_successful_fallbacks_total',
      'litellm_deployment_failed_fallbacks_total',
    ]);
    const unchecked = [...metrics.families.keys()].filter(
      (f) => !checked.has(f) && !f.startsWith('process_') && !f.startsWith('nodejs_'),
    );
    expect(unchecked).toEqual([]);
    // Process metrics are there (deploy/README says so).
    expect(metrics.families.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(metrics.families.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('the Grafana dashboard queries only families the gateway exports', () => {
    const dashboard = readFileSync(join(ROOT, 'deploy/compose/grafana/dashboards/fleetgate.json'), 'utf8');
    const names = new Set([...dashboard.matchAll(/\b(?:litellm|fleetgate)_[a-z_]+/g)].map((m) => m[0]));
    expect(names.size).toBeGreaterThan(10);
    const exported = new Set(metrics.families.keys());
    const missing = [...names].filter((n) => !exported.has(n.replace(/_(bucket|count|sum)$/, '')));
    expect(missing).toEqual([]);
  });
});
