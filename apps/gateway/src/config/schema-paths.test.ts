import { describe, expect, it } from 'vitest';
import { configSchema } from './schema.js';
import { schemaReads } from './schema-paths.js';

describe('schemaReads', () => {
  it('knows the keys Fleetgate acts on, through lists, records, defaults and preprocessing', () => {
    for (const path of [
      ['model_list', 0, 'litellm_params', 'api_key'],
      ['model_list', 3, 'litellm_params', 'rpm'],
      ['model_list', 0, 'model_info', 'id'],
      ['router_settings', 'redis_port'],
      ['router_settings', 'model_group_alias', 'any-alias'],
      ['router_settings', 'model_group_alias', 'any-alias', 'model'],
      ['router_settings', 'fallbacks', 0, 'gpt-4', 1],
      ['general_settings', 'master_key'],
      ['environment_variables', 'X'],
    ]) {
      expect(schemaReads(configSchema, path), path.join('.')).toBe(true);
    }
  });

  it("says no to keys it strips or only keeps, and to paths through a value's inside", () => {
    for (const path of [
      ['finetune_settings', 0, 'api_key'],
      ['litellm_settings', 'default_team_settings', 0, 'langfuse_secret'],
      ['model_list', 0, 'litellm_params', 'vertex_credentials_unknown'],
      ['model_list', 0, 'model_info', 'some_label'],
      ['general_settings', 'database_url'],
      ['router_settings', 'redis_port', 'deeper'],
      ['model_list', 'not-an-index'],
    ]) {
      expect(schemaReads(configSchema, path), path.join('.')).toBe(false);
    }
  });
});
