import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCostMap, withMappedPrices } from './cost-map.js';
import { ConfigError, loadConfig, parseConfig } from './load.js';

const MAP = JSON.stringify({
  sample_spec: { max_tokens: 'set to max', input_cost_per_token: 0 },
  'gpt-4o': { input_cost_per_token: 2.5e-6, output_cost_per_token: 1e-5, max_input_tokens: 128000 },
  'azure/gpt-4o': { input_cost_per_token: 2.75e-6, output_cost_per_token: 1.1e-5 },
  'text-embedding-3-small': { input_cost_per_token: 2e-8 },
  'no-prices': { max_tokens: 10 },
  broken: 'x',
});

describe("LiteLLM's cost map", () => {
  it('reads the prices of every entry that has one', () => {
    const map = parseCostMap(MAP);
    expect(map.get('gpt-4o')).toEqual({ input: 2.5e-6, output: 1e-5 });
    expect(map.get('text-embedding-3-small')).toEqual({ input: 2e-8, output: 0 });
    expect(map.has('no-prices')).toBe(false);
    expect(() => parseCostMap('[1]')).toThrow(/JSON object/);
    expect(() => parseCostMap('{')).toThrow(/not JSON/);
  });

  it('prices a deployment the config leaves unpriced: base_model, then provider/model, then the model', () => {
    const map = parseCostMap(MAP);
    const config = parseConfig(
      'c.yaml',
      `model_list:
  - model_name: a
    litellm_params: { model: openai/gpt-4o }
  - model_name: b
    litellm_params: { model: openai/my-deployment, api_base: "http://h/v1" }
    model_info: { base_model: azure/gpt-4o }
  - model_name: c
    litellm_params: { model: openai/gpt-4o, input_cost_per_token: 0.5, output_cost_per_token: 1 }
  - model_name: d
    litellm_params: { model: openai/unknown-model }
`,
      {},
    );
    const priced = config.deployments.map((d) => withMappedPrices(d, map));
    expect(priced.map((d) => [d.inputCostPerToken, d.outputCostPerToken])).toEqual([
      [2.5e-6, 1e-5],
      [2.75e-6, 1.1e-5],
      [0.5, 1],
      [undefined, undefined],
    ]);
  });
});

describe('fleetgate_settings.model_cost_map', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-costmap-'));
  writeFileSync(join(dir, 'prices.json'), MAP);
  const config = (setting: string) =>
    `model_list:\n  - model_name: a\n    litellm_params: { model: openai/gpt-4o }\nfleetgate_settings:\n  model_cost_map: ${setting}\n`;

  it('is read relative to the config file and prices unpriced deployments', () => {
    writeFileSync(join(dir, 'config.yaml'), config('prices.json'));
    const d = loadConfig(join(dir, 'config.yaml'), {}).deployments[0]!;
    expect([d.inputCostPerToken, d.outputCostPerToken]).toEqual([2.5e-6, 1e-5]);
  });

  it('stops startup with file:line when it cannot be used', () => {
    writeFileSync(join(dir, 'bad.json'), '{"gpt-4o": ');
    for (const [name, why] of [
      ['missing.json', /cannot use .*missing\.json: ENOENT/],
      ['bad.json', /cannot use .*bad\.json: not JSON/],
    ] as const) {
      writeFileSync(join(dir, 'c2.yaml'), config(name));
      try {
        loadConfig(join(dir, 'c2.yaml'), {});
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).lines).toEqual([
          expect.stringMatching(new RegExp(`c2\\.yaml:5 fleetgate_settings\\.model_cost_map: ${why.source}`)),
        ]);
      }
    }
  });
});
