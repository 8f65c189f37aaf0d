import { describe, expect, it } from 'vitest';
import { parseConfig } from './load.js';
import { configSchema } from './schema.js';
import { knownKeysAt } from './schema-paths.js';
import { closestKey, editDistance } from './unknown-keys.js';

describe('unknown config keys', () => {
  it('warns about a likely typo on its own line, with file:line, and suggests the key', () => {
    const config = parseConfig(
      'config.yaml',
      [
        'model_list:',
        '  - model_name: m',
        '    litellm_params:',
        '      model: openai/x',
        '      rmp: 30',
        'router_setings:',
        '  num_retries: 1',
        'litellm_settings:',
        '  drop_params: true',
        '',
      ].join('\n'),
      {},
    );
    expect(config.deployments[0]!.rpm).toBeUndefined();
    // (Other warnings, about prices for instance, are not this test's business.)
    expect(config.warnings.filter((w) => /unknown key|does not act on/.test(w))).toEqual([
      'config.yaml:5 model_list[0].litellm_params.rmp: unknown key, ignored: did you mean "rpm"?',
      // The line of a mapping's first entry, as every config message names a mapping.
      'config.yaml:7 router_setings: unknown key, ignored: did you mean "router_settings"?',
      'config keys Fleetgate does not act on (accepted, ignored): litellm_settings.drop_params',
    ]);
  });

  it('reads the known keys from the schema, through lists and wrappers', () => {
    expect(knownKeysAt(configSchema, [])).toContain('router_settings');
    expect(knownKeysAt(configSchema, ['model_list', 0, 'litellm_params'])).toEqual(
      expect.arrayContaining(['rpm', 'tpm', 'api_base', 'max_parallel_requests']),
    );
    expect(knownKeysAt(configSchema, ['router_settings'])).toContain('cooldown_time');
    expect(knownKeysAt(configSchema, ['environment_variables'])).toEqual([]);
  });

  it('suggests only close keys, never for short or far ones', () => {
    expect(closestKey('rmp', ['rpm', 'tpm'])).toBe('rpm');
    expect(closestKey('coolown_time', ['cooldown_time'])).toBe('cooldown_time');
    expect(closestKey('drop_params', ['num_retries', 'callbacks'])).toBeUndefined();
    expect(closestKey('ab', ['rpm'])).toBeUndefined();
    expect(editDistance('rmp', 'rpm')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});
