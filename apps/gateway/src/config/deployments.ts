import { createHash } from 'node:crypto';
import { AdapterConfigError } from '../providers/adapter-context.js';
import { apiBaseLabel } from '../providers/common/api-base-label.js';
import type { GoogleTokenCache } from '../providers/google/token-cache.js';
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
  /** `model_info.smoothing`: at most `max` requests in any rolling `ms`, fleet-wide. */
  readonly slice: { readonly ms: number; readonly max: number } | undefined;
  /** Provider keys set on this deployment that its provider does not use (named in the startup warning). */
  readonly ignoredParams: readonly string[];
}

const VERTEX = ['vertex_ai', 'vertex_ai_beta'];
/** Keys only some providers read; set on another provider's deployment they do nothing. */
const PROVIDER_PARAMS: Readonly<Record<string, readonly string[]>> = {
  api_version: ['azure', 'azure_ai'],
  azure_ad_token: ['azure'],
  vertex_project: VERTEX,
  vertex_ai_project: VERTEX,
  vertex_location: VERTEX,
  vertex_ai_location: VERTEX,
  vertex_credentials: VERTEX,
  vertex_ai_credentials: VERTEX,
  aws_access_key_id: ['bedrock'],
  aws_secret_access_key: ['bedrock'],
  aws_session_token: ['bedrock'],
  aws_region_name: ['bedrock'],
  aws_bedrock_runtime_endpoint: ['bedrock'],
};

/** A deployment the config describes but cannot be served; reported as `file:line path: message`. */
export interface DeploymentProblem {
  readonly path: PropertyKey[];
  readonly message: string;
}

/** Never shown by `/model/info`: credentials, and headers that may carry them. */
const SECRET_PARAMS = new Set([
  'api_key',
  'extra_headers',
  'organization',
  'azure_ad_token',
  'vertex_credentials',
  'vertex_ai_credentials',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
]);

/** What building deployments needs besides the entries: defaults, and where credentials come from. */
export interface DeploymentDefaults {
  readonly timeoutS: number;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
  readonly googleTokens: GoogleTokenCache;
}

export function buildDeployment(
  entry: ModelEntry,
  index: number,
  defaults: DeploymentDefaults,
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
  const id = entry.model_info?.id ?? deploymentHash(entry);
  let adapter: ProviderAdapter;
  try {
    adapter = found.factory({
      provider,
      upstreamModel,
      deploymentName: `"${id}" of model group ${entry.model_name}`,
      params: p,
      env: defaults.env,
      readFile: defaults.readFile,
      googleTokens: defaults.googleTokens,
    });
  } catch (error) {
    if (!(error instanceof AdapterConfigError)) throw error;
    problems.push({
      path: [...at, error.param],
      message: `${error.message} (deployment of ${entry.model_name})`,
    });
    return undefined;
  }
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
    apiBaseLabel: adapter.apiBase,
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
    slice: sliceOf(
      entry.model_info?.smoothing,
      p.rpm,
      [...at.slice(0, -1), 'model_info', 'smoothing'],
      problems,
    ),
    ignoredParams: Object.keys(PROVIDER_PARAMS).filter(
      (k) => p[k as keyof typeof p] !== undefined && !PROVIDER_PARAMS[k]!.includes(provider),
    ),
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

export { apiBaseLabel };

/**
 * A deployment's smoothing as a slice limit: its share of the rpm per slice (rounded down, at least
 * 1) plus the burst. Needs an rpm to share out.
 */
function sliceOf(
  smoothing: { slice_seconds: number; burst?: number | undefined } | undefined,
  rpm: number | undefined,
  at: ReadonlyArray<string | number>,
  problems: DeploymentProblem[],
): Deployment['slice'] {
  if (!smoothing) return undefined;
  if (rpm === undefined) {
    problems.push({ path: [...at], message: 'smoothing shares out litellm_params.rpm per slice: set rpm' });
    return undefined;
  }
  const ms = Math.round(smoothing.slice_seconds * 1000);
  return { ms, max: Math.max(1, Math.floor((rpm * ms) / 60_000)) + (smoothing.burst ?? 0) };
}
