import { createHash } from 'node:crypto';
import { lookupProvider, splitModel } from '../providers/registry.js';
import type { ProviderAdapter } from '../providers/types.js';
import type { ModelEntry } from './schema.js';

/** One upstream deployment as the gateway runs it: routing data, adapter, limits and costs. */
export interface Deployment {
  /** Stable across replicas: `model_info.id`, else a hash of the entry. Redis keys are built from it. */
  readonly id: string;
  /** The `model_name` clients ask for. */
  readonly modelGroup: string;
  readonly provider: string;
  readonly upstreamModel: string;
  readonly adapter: ProviderAdapter;
  /** `api_base` without credentials or query, for metrics labels and `/model/info`. */
  readonly apiBaseLabel: string;
  readonly timeoutMs: number;
  readonly streamTimeoutMs: number;
  readonly rpm: number | undefined;
  readonly tpm: number | undefined;
  readonly weight: number | undefined;
  readonly order: number | undefined;
  readonly maxParallelRequests: number | undefined;
  /** `litellm_params.num_retries`: retries in this deployment's group, over the router's. */
  readonly numRetries: number | undefined;
  /** Per-deployment override of the router's cooldown, in ms. */
  readonly cooldownTimeMs: number | undefined;
  readonly inputCostPerToken: number | undefined;
  readonly outputCostPerToken: number | undefined;
  /** `litellm_params` minus secrets, for `/model/info`. */
  readonly publicParams: Readonly<Record<string, unknown>>;
  /** `model_info` with the resolved id, for `/model/info`. */
  readonly modelInfo: Readonly<Record<string, unknown>>;
  /** `model_info.access_groups`. */
  readonly accessGroups: readonly string[];
  /** `model_info.max_input_tokens`: a longer prompt goes to a context window fallback instead. */
  readonly maxInputTokens: number | undefined;
}

/** A deployment the config describes but cannot be served; reported as `file:line path: message`. */
export interface DeploymentProblem {
  readonly path: PropertyKey[];
  readonly message: string;
}

const SECRET_PARAMS = new Set(['api_key', 'extra_headers', 'organization']);

export function buildDeployment(
  entry: ModelEntry,
  index: number,
  defaults: { timeoutS: number },
  problems: DeploymentProblem[],
): Deployment | undefined {
  const p = entry.litellm_params;
  const { provider, upstreamModel } = splitModel(p.model, p.custom_llm_provider);
  const found = lookupProvider(provider);
  const at = ['model_list', index, 'litellm_params'];
  if (!found.ok) {
    problems.push({ path: [...at, 'model'], message: found.message });
    return undefined;
  }
  if (found.needsApiBase && !p.api_base) {
    problems.push({ path: [...at, 'api_base'], message: `provider "${provider}" needs an api_base` });
    return undefined;
  }
  const adapter = found.factory({
    upstreamModel,
    apiBase: p.api_base,
    apiKey: p.api_key,
    organization: p.organization,
    extraHeaders: p.extra_headers,
  });
  const id = entry.model_info?.id ?? deploymentHash(entry);
  const timeoutS = p.timeout ?? defaults.timeoutS;
  const publicParams: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) if (!SECRET_PARAMS.has(k) && v !== undefined) publicParams[k] = v;
  if (p.api_base) publicParams['api_base'] = apiBaseLabel(p.api_base);
  return {
    id,
    modelGroup: entry.model_name,
    provider,
    upstreamModel,
    adapter,
    apiBaseLabel: apiBaseLabel(p.api_base ?? `${adapter.target('chat').origin}`),
    timeoutMs: timeoutS * 1000,
    streamTimeoutMs: (p.stream_timeout ?? timeoutS) * 1000,
    rpm: p.rpm,
    tpm: p.tpm,
    weight: p.weight,
    order: p.order,
    maxParallelRequests: p.max_parallel_requests,
    numRetries: p.num_retries,
    cooldownTimeMs: p.cooldown_time === undefined ? undefined : p.cooldown_time * 1000,
    inputCostPerToken: p.input_cost_per_token ?? entry.model_info?.input_cost_per_token,
    outputCostPerToken: p.output_cost_per_token ?? entry.model_info?.output_cost_per_token,
    publicParams,
    modelInfo: { ...entry.model_info, id },
    accessGroups: entry.model_info?.access_groups ?? [],
    maxInputTokens: entry.model_info?.max_input_tokens,
  };
}

/**
 * A default id that every replica computes alike from the same config: the entry's model name and
 * params (secrets included, so two keys for the same upstream are two deployments with two quotas;
 * only the hash leaves the process).
 */
function deploymentHash(entry: ModelEntry): string {
  const canonical = JSON.stringify([entry.model_name, sortKeys(entry.litellm_params)]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 24);
}

function sortKeys(o: Record<string, unknown>): Array<[string, unknown]> {
  return Object.keys(o)
    .sort()
    .filter((k) => o[k] !== undefined)
    .map((k) => [k, o[k]]);
}

/** Origin and path only: user-info and query strings may hold credentials. */
export function apiBaseLabel(apiBase: string): string {
  const url = new URL(apiBase);
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}
