import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { byStatus, type LoadResult, openLoop } from '../support/load.js';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';

/** Teams across four gateway processes sharing one Redis: limits, budgets (the team's, a member's) and deletion fleet-wide. */
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
  redis_namespace: teams-${randomUUID()}
  redis_command_timeout_ms: 1000
`;
  return Promise.all(
    Array.from({ length: 4 }, () => startGateway({ config, env: { REDIS_URL: inject('redisUrl') } })),
  );
}

const admin = async <T = Record<string, unknown>>(
  g: GatewayProc,
  path: string,
  body?: unknown,
): Promise<T> => {
  const res = await fetch(`${g.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json()) as T;
};
const body = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'hello there' }],
  max_tokens: 16,
});
const ask = (g: GatewayProc, key: string) =>
  fetch(`${g.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body,
  });
const keysOf = async (g: GatewayProc, teamId: string, n: number) =>
  Promise.all(
    Array.from(
      { length: n },
      async () => (await admin<{ key: string }>(g, '/key/generate', { team_id: teamId })).key,
    ),
  );

describe('teams across the fleet', () => {
  it('a team with rpm_limit 60 gets exactly 60 in its minute, whichever of its keys and replicas ask', async () => {
    const fake = await startFakeLlm();
    const replicas = await fleet(fake);
    const { team_id } = await admin<{ team_id: string }>(replicas[0]!, '/team/new', { rpm_limit: 60 });
    const keys = await keysOf(replicas[0]!, team_id, 4);
    const urls = replicas.map((g) => g.url);
    // Four clients, one per key, each spreading its requests over the four replicas: 160 in 8 s.
    const results: LoadResult[] = (
      await Promise.all(
        keys.map((key, i) =>
          openLoop({
            targets: [...urls.slice(i), ...urls.slice(0, i)],
            path: '/v1/chat/completions',
            rate: 5,
            durationMs: 8_000,
            body,
            headers: { authorization: `Bearer ${key}` },
          }),
        ),
      )
    ).flat();
    expect(byStatus(results)).toEqual({ 200: 60, 429: results.length - 60 });
    expect((await fake.stats()).requests).toBe(60);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 60_000);

  it('a team budget holds exactly across replicas: a burst admits what the budget reserves, spend settles to the real cost', async () => {
    const fake = await startFakeLlm();
    const replicas = await fleet(fake);
    // Each admission reserves the estimate (body bytes ÷ 4 at the input price, max_tokens at the
    // output price); the budget fits five and a half reservations, so exactly six are admitted.
    const estimate = Math.ceil(Buffer.byteLength(body) / 4) * IN + 16 * OUT;
    const { team_id } = await admin<{ team_id: string }>(replicas[0]!, '/team/new', {
      max_budget: 5.5 * estimate,
    });
    const keys = await keysOf(replicas[0]!, team_id, 2);
    // Slow answers: no request settles (and gives back its over-estimate) before all are decided.
    await fake.control({ latencyMs: 1_500 });
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => ask(replicas[i % 4]!, keys[i % 2]!).then((r) => r.status)),
    );
    await fake.control({ latencyMs: 0 });
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 400)).toHaveLength(34);
    expect((await fake.stats()).requests).toBe(6);
    // The fake upstream counts 3 prompt tokens for "hello there" and answers max_tokens = 16.
    const spend = async () =>
      (await admin<{ team_info: { spend: number } }>(replicas[1]!, `/team/info?team_id=${team_id}`)).team_info
        .spend;
    await expect.poll(spend, { timeout: 3_000 }).toBeCloseTo(6 * (3 * IN + 16 * OUT), 12);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 60_000);

  it("a member's budget in the team holds exactly across replicas, for that user's keys of that team", async () => {
    const fake = await startFakeLlm();
    const replicas = await fleet(fake);
    const estimate = Math.ceil(Buffer.byteLength(body) / 4) * IN + 16 * OUT;
    const { team_id } = await admin<{ team_id: string }>(replicas[0]!, '/team/new', {});
    const user_id = `member-${randomUUID()}`;
    const { key } = await admin<{ key: string }>(replicas[0]!, '/user/new', { user_id, team_id });
    // LiteLLM's max_budget_in_team: five and a half reservations, so exactly six are admitted.
    await admin(replicas[2]!, '/team/member_update', {
      team_id,
      user_id,
      max_budget_in_team: 5.5 * estimate,
    });
    const { key: second } = await admin<{ key: string }>(replicas[1]!, '/key/generate', { team_id, user_id });
    await fake.control({ latencyMs: 1_500 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        ask(replicas[i % 4]!, i % 2 ? second : key).then(async (r) => ({
          status: r.status,
          text: await r.text(),
        })),
      ),
    );
    await fake.control({ latencyMs: 0 });
    expect(answers.filter((a) => a.status === 200)).toHaveLength(6);
    const refused = answers.filter((a) => a.status === 400);
    expect(refused).toHaveLength(34);
    expect(refused[0]!.text).toContain(`Budget has been exceeded! User=${user_id} in Team=${team_id}`);
    expect((await fake.stats()).requests).toBe(6);
    const memberSpend = async () =>
      (
        await admin<{ teams: Array<{ team_memberships: Array<{ spend: number }> }> }>(
          replicas[3]!,
          `/user/info?user_id=${user_id}`,
        )
      ).teams[0]?.team_memberships[0]?.spend;
    await expect.poll(memberSpend, { timeout: 3_000 }).toBeCloseTo(6 * (3 * IN + 16 * OUT), 12);
    // The team's keys without that user are not held to it.
    const [other] = await keysOf(replicas[0]!, team_id, 1);
    expect((await ask(replicas[3]!, other!)).status).toBe(200);
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 60_000);

  it.each([
    ['deleted', '/team/delete', (id: string) => ({ team_ids: [id] })],
    ['blocked', '/team/block', (id: string) => ({ team_id: id })],
  ])(
    'a team %s through one replica has its keys refused by every replica within a second',
    async (_how, path, req) => {
      const fake = await startFakeLlm();
      const replicas = await fleet(fake);
      const { team_id } = await admin<{ team_id: string }>(replicas[0]!, '/team/new', {});
      const [key] = await keysOf(replicas[0]!, team_id, 1);
      // Every replica has seen (and cached) the key and its team.
      for (const g of replicas) expect((await ask(g, key!)).status).toBe(200);
      await admin(replicas[0]!, path, req(team_id));
      const changedAt = Date.now();
      for (const g of replicas) {
        await expect
          .poll(async () => (await ask(g, key!)).status, { timeout: 1_000, interval: 25 })
          .toBe(401);
      }
      expect(Date.now() - changedAt).toBeLessThan(1_000);
      await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
    },
    60_000,
  );
});
