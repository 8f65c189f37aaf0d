import type { Deployment } from './deployments.js';

/** One model's prices in LiteLLM's cost map (`model_prices_and_context_window.json`), USD per token. */
interface CostEntry {
  readonly input_cost_per_token?: unknown;
  readonly output_cost_per_token?: unknown;
}

/** Model name → prices, as LiteLLM's cost map lists them. */
export type CostMap = ReadonlyMap<string, { readonly input: number; readonly output: number }>;

/**
 * Reads a cost map in LiteLLM's format: a JSON object of model name → `{input_cost_per_token,
 * output_cost_per_token, …}` (other fields and entries without prices are skipped). Throws a message
 * for `file:line path:` when the text is not such an object.
 */
export function parseCostMap(text: string): CostMap {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message})`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new Error(
      'must be a JSON object of model name → prices, as LiteLLM’s model_prices_and_context_window.json',
    );
  }
  const out = new Map<string, { input: number; output: number }>();
  for (const [name, entry] of Object.entries(data as Record<string, CostEntry>)) {
    if (entry === null || typeof entry !== 'object') continue;
    const input = price(entry.input_cost_per_token);
    const output = price(entry.output_cost_per_token);
    if (input !== undefined || output !== undefined)
      out.set(name, { input: input ?? 0, output: output ?? 0 });
  }
  return out;
}

const price = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * A deployment with the map's prices where its config names none, looked up as LiteLLM does: by
 * `model_info.base_model`, the full `provider/model`, then the bare model name.
 */
export function withMappedPrices(d: Deployment, map: CostMap): Deployment {
  if (d.inputCostPerToken !== undefined || d.outputCostPerToken !== undefined) return d;
  const base = d.modelInfo['base_model'];
  const names = [
    typeof base === 'string' ? base : undefined,
    `${d.provider}/${d.upstreamModel}`,
    d.upstreamModel,
  ];
  for (const name of names) {
    const found = name === undefined ? undefined : map.get(name);
    if (found) return { ...d, inputCostPerToken: found.input, outputCostPerToken: found.output };
  }
  return d;
}
