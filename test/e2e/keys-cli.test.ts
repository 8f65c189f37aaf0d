import { afterAll, describe, expect, it } from 'vitest';
import { killAll, runGatewayCli, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

describe('fleetgate keys', () => {
  it('generates, lists, shows and deletes keys through the admin API', async () => {
    const fake = await startFakeLlm();
    const gateway = await startGateway({
      config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_base: "${fake.url}" }\ngeneral_settings:\n  master_key: sk-cli-master\n`,
    });
    const env = { FLEETGATE_URL: gateway.url, LITELLM_MASTER_KEY: 'sk-cli-master' };
    const json = (lines: string[]) => JSON.parse(lines.join('\n')) as Record<string, unknown>;

    const made = await runGatewayCli(
      [
        'keys',
        'generate',
        '--alias',
        'cli-app',
        '--models',
        'm',
        '--rpm',
        '5',
        '--max-budget',
        '2.5',
        '--metadata',
        '{"team":"x"}',
      ],
      env,
    );
    expect(made.code).toBe(0);
    const key = json(made.lines) as {
      key: string;
      token: string;
      key_alias: string;
      rpm_limit: number;
      max_budget: number;
      models: string[];
    };
    expect(key).toMatchObject({ key_alias: 'cli-app', rpm_limit: 5, max_budget: 2.5, models: ['m'] });

    const listed = await runGatewayCli(['keys', 'list'], env);
    expect(json(listed.lines)['keys']).toContain(key.token);

    const shown = await runGatewayCli(['keys', 'info', key.key], env);
    expect(json(shown.lines)['info']).toMatchObject({ key_alias: 'cli-app' });

    const deleted = await runGatewayCli(['keys', 'delete', '--alias', 'cli-app'], env);
    expect(json(deleted.lines)).toEqual({ deleted_keys: ['cli-app'] });

    const again = await runGatewayCli(['keys', 'info', key.token], env);
    expect(again.code).toBe(1);
    expect(again.lines.join('\n')).toMatch(/404: Key not found/);

    const wrong = await runGatewayCli(['keys', 'list'], { ...env, LITELLM_MASTER_KEY: 'sk-wrong' });
    expect(wrong.code).toBe(1);
    expect(wrong.lines.join('\n')).toMatch(/401/);
    await gateway.stop();
    await fake.stop();
  });

  it('refuses bad arguments with exit code 2', async () => {
    const env = { LITELLM_MASTER_KEY: 'sk-x' };
    expect(await runGatewayCli(['keys', 'generate', '--rpm', 'ten'], env)).toEqual({
      code: 2,
      lines: ['fleetgate keys: --rpm must be a whole number, got "ten"'],
    });
    expect((await runGatewayCli(['keys', 'frobnicate'], env)).code).toBe(2);
    expect((await runGatewayCli(['keys', 'list'], { LITELLM_MASTER_KEY: '' })).lines).toEqual([
      'fleetgate keys: the master key is required: --master-key or LITELLM_MASTER_KEY',
    ]);
  });
});
