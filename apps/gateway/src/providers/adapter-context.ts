import type { LitellmParams } from '../config/schema.js';
import type { GoogleTokenCache } from './google/token-cache.js';

/** What a provider's factory gets to build one deployment's adapter, once, at startup. */
export interface AdapterContext {
  /** The provider prefix of `model` (or `custom_llm_provider`). */
  readonly provider: string;
  /** `model` without its provider prefix. */
  readonly upstreamModel: string;
  /** How messages name the deployment: `"<id>" of model group <name>`. */
  readonly deploymentName: string;
  readonly params: LitellmParams;
  /** The environment LiteLLM reads defaults from (AZURE_API_KEY, VERTEXAI_PROJECT, AWS_REGION, …). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a credentials file; only the config loader touches files. Throws like readFileSync. */
  readonly readFile: (path: string) => string;
  /** Access tokens shared by every deployment of the config that uses the same credentials. */
  readonly googleTokens: GoogleTokenCache;
}

/** A deployment the config describes wrongly; `param` names the `litellm_params` key at fault. */
export class AdapterConfigError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdapterConfigError';
  }
}

/** The first non-empty value: a `litellm_params` key, then LiteLLM's environment variables, in order. */
export function firstSet(...values: ReadonlyArray<string | undefined>): string | undefined {
  for (const v of values) if (v !== undefined && v !== '') return v;
  return undefined;
}
