import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runGatewayCli, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

describe('fleetgate teams', () => {
  it('creates a team, puts a key in it, shows its spend, blocks it and deletes it with its keys', async () => {
    const fake = await startFakeLlm();
    const gateway = await startGateway({
      config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_base: "${fake.url}", input_cost_per_token: 0.000001 }\ngeneral_settings:\n  master_key: sk-cli-master\n`,
    });
    const env = { FLEETGATE_URL: gateway.url, LITELLM_MASTER_KEY: 'sk-cli-master' };
    const json = (lines: string[]) => JSON.parse(lines.join('\n')) as Record<string, unknown>;
    const cli = async (...args: string[]) => {
      const r = await runGatewayCli(['teams', ...args], env);
      expect(r.code, r.lines.join('\n')).toBe(0);
      return json(r.lines);
    };

    const team = await cli(
      'new',
      '--id',
      'cli-team',
      '--alias',
      'Platform',
      '--rpm',
      '100',
      '--max-budget',
      '5',
    );
    expect(team).toMatchObject({
      team_id: 'cli-team',
      team_alias: 'Platform',
      rpm_limit: 100,
      max_budget: 5,
    });
    expect(await cli('update', 'cli-team', '--tpm', '1000')).toMatchObject({
      data: { tpm_limit: 1000, rpm_limit: 100 },
    });

    const made = await runGatewayCli(['keys', 'generate', '--team-id', 'cli-team'], env);
    const { key, token } = json(made.lines) as { key: string; token: string };
    const ask = () =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hello there' }] }),
      });
    expect((await ask()).status).toBe(200);
    await expect
      .poll(async () => ((await cli('info', 'cli-team'))['team_info'] as { spend: number }).spend)
      .toBeGreaterThan(0);
    expect(((await cli('info', 'cli-team'))['keys'] as Array<{ token: string }>).map((k) => k.token)).toEqual(
      [token],
    );
    expect((await cli('list')) as unknown as unknown[]).toHaveLength(1);

    await cli('add-member', 'cli-team', 'alice', '--role', 'admin');
    expect(
      ((await cli('info', 'cli-team'))['team_info'] as { members_with_roles: unknown[] }).members_with_roles,
    ).toContainEqual({
      role: 'admin',
      user_id: 'alice',
      user_email: null,
    });
    await cli('remove-member', 'cli-team', 'alice');

    await cli('block', 'cli-team');
    expect((await ask()).status).toBe(401);
    await cli('unblock', 'cli-team');
    await expect.poll(async () => (await ask()).status).toBe(200);

    expect(await cli('delete', 'cli-team')).toEqual({ deleted_teams: ['cli-team'] });
    expect((await ask()).status).toBe(401);
    const gone = await runGatewayCli(['teams', 'info', 'cli-team'], env);
    expect(gone.code).toBe(1);
    expect(gone.lines.join('\n')).toMatch(/404: Team not found/);
    await gateway.stop();
    await fake.stop();
  });

  it('refuses bad arguments with exit code 2', async () => {
    const env = { LITELLM_MASTER_KEY: 'sk-x' };
    expect(await runGatewayCli(['teams', 'new', '--rpm', 'ten'], env)).toEqual({
      code: 2,
      lines: ['fleetgate teams: --rpm must be a whole number, got "ten"'],
    });
    expect((await runGatewayCli(['teams', 'info'], env)).code).toBe(2);
    expect((await runGatewayCli(['teams', 'add-member', 'only-team'], env)).code).toBe(2);
    expect((await runGatewayCli(['teams', 'frobnicate'], env)).code).toBe(2);
  });
});
