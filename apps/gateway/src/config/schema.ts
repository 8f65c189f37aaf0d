import { z } from 'zod';

/**
 * The config file's schema: LiteLLM's `config.yaml`, restricted to the keys Fleetgate acts on.
 * `z.object` strips every other key; the loader reports what was stripped in one startup warning.
 * Every field documents its default; values from `os.environ/…` arrive as strings, so numbers and
 * booleans accept their string spellings too.
 */

const numberFromString = (v: unknown) =>
  typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
const booleanFromString = (v: unknown) =>
  v === 'true' || v === 'True' ? true : v === 'false' || v === 'False' ? false : v;

const num = () => z.preprocess(numberFromString, z.number({ error: 'must be a number' }));
const positive = () => num().pipe(z.number().positive({ error: 'must be greater than 0' }));
const nonNegative = () => num().pipe(z.number().min(0, { error: 'must be 0 or more' }));
const count = () =>
  num().pipe(z.number().int({ error: 'must be a whole number' }).min(0, { error: 'must be 0 or more' }));
const positiveCount = () =>
  num().pipe(z.number().int({ error: 'must be a whole number' }).positive({ error: 'must be 1 or more' }));
const bool = () => z.preprocess(booleanFromString, z.boolean({ error: 'must be true or false' }));
const text = () => z.string({ error: 'must be a string' });
const httpUrl = () =>
  text().refine((v) => /^https?:\/\/[^/\s]+/i.test(v) && URL.canParse(v), {
    error: 'must be an http:// or https:// URL',
  });

/** `litellm_params` of one deployment. */
export const litellmParamsSchema = z.object({
  /** `provider/upstream-model`, e.g. `openai/gpt-4o`; without a provider, `openai` is assumed. */
  model: text().min(1, { error: 'must not be empty' }),
  /** Base URL, or the full endpoint URL; @default the provider's public endpoint */
  api_base: httpUrl().optional(),
  /** Sent upstream as the provider's credential; never logged or returned. */
  api_key: text().optional(),
  /** Overrides the provider prefix of `model` (LiteLLM's `custom_llm_provider`). */
  custom_llm_provider: text().optional(),
  /** OpenAI organization header. */
  organization: text().optional(),
  /** Extra headers sent upstream with every request to this deployment. */
  extra_headers: z.record(z.string(), text()).optional(),
  /** Seconds without progress before the upstream call fails with 504; @default 600 */
  timeout: positive().optional(),
  /** Like `timeout`, for `stream: true` requests; @default `timeout` */
  stream_timeout: positive().optional(),
  /** Requests per minute the provider allows this deployment; @default unlimited */
  rpm: positiveCount().optional(),
  /** Tokens per minute the provider allows this deployment; @default unlimited */
  tpm: positiveCount().optional(),
  /** Relative share of traffic in simple-shuffle; @default none (then rpm, then tpm, then equal) */
  weight: nonNegative().optional(),
  /** Priority tier, lower first; @default none (after every numbered tier) */
  order: count().optional(),
  /** Requests in flight at once on this deployment; @default unlimited */
  max_parallel_requests: positiveCount().optional(),
  /** Retries of a failed request in this deployment's group; @default router_settings.num_retries */
  num_retries: count().optional(),
  /** Seconds this deployment is skipped after it fails; @default router_settings.cooldown_time */
  cooldown_time: nonNegative().optional(),
  /** USD per prompt token, for spend; @default model_info's, else 0 */
  input_cost_per_token: nonNegative().optional(),
  /** USD per completion token, for spend; @default model_info's, else 0 */
  output_cost_per_token: nonNegative().optional(),
  /** Azure OpenAI api-version; @default AZURE_API_VERSION, else 2025-02-01-preview */
  api_version: text().optional(),
  /** Azure Entra ID token sent as a bearer instead of `api_key`; @default AZURE_AD_TOKEN */
  azure_ad_token: text().optional(),
  /** Google Cloud project of a vertex_ai deployment; @default VERTEXAI_PROJECT, else the credentials' project_id */
  vertex_project: text().optional(),
  vertex_ai_project: text().optional(),
  /** Vertex AI region, or `global`; @default VERTEXAI_LOCATION, else us-central1 */
  vertex_location: text().optional(),
  vertex_ai_location: text().optional(),
  /**
   * Service-account (or authorized-user) credentials: a JSON key file's path, the JSON itself, or a
   * mapping; @default VERTEXAI_CREDENTIALS, else GOOGLE_APPLICATION_CREDENTIALS, else the metadata server
   */
  vertex_credentials: z
    .union([text(), z.record(z.string(), z.unknown())], {
      error: 'must be a file path, a JSON string or a mapping',
    })
    .optional(),
  vertex_ai_credentials: z
    .union([text(), z.record(z.string(), z.unknown())], {
      error: 'must be a file path, a JSON string or a mapping',
    })
    .optional(),
  /** Bedrock credentials; @default AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN */
  aws_access_key_id: text().optional(),
  aws_secret_access_key: text().optional(),
  aws_session_token: text().optional(),
  /** Bedrock region; @default the model ARN's, AWS_REGION_NAME, AWS_REGION, AWS_DEFAULT_REGION, else us-west-2 */
  aws_region_name: text().optional(),
  /** Bedrock runtime endpoint; @default https://bedrock-runtime.<region>.amazonaws.com */
  aws_bedrock_runtime_endpoint: httpUrl().optional(),
});

/** `model_info`: free-form metadata shown by `/model/info`; only these keys are interpreted. */
export const modelInfoSchema = z.looseObject({
  /** Stable deployment id shared by every replica; @default a hash of the deployment's config */
  id: z.preprocess((v) => (typeof v === 'number' ? String(v) : v), text().min(1)).optional(),
  input_cost_per_token: nonNegative().optional(),
  output_cost_per_token: nonNegative().optional(),
  /** Access groups: a key whose `models` lists one may use this deployment's model group. */
  access_groups: z.array(text()).optional(),
  /** What `/health` checks it with: `chat`, `completion` or `embedding`; @default chat */
  mode: text().optional(),
  /** Shown by `/model_group/info`. */
  max_input_tokens: positiveCount().optional(),
  max_output_tokens: positiveCount().optional(),
  /**
   * Fleetgate: smoothing, for a provider that enforces its RPM quota per second or per 10 s — no
   * rolling `slice_seconds` admits more than rpm × slice_seconds ÷ 60 (+ `burst`) fleet-wide.
   */
  smoothing: z
    .strictObject(
      {
        slice_seconds: num().pipe(
          z
            .number()
            .min(0.1, { error: 'must be 0.1 or more' })
            .max(60, { error: 'must be 60 or less (the rpm window itself)' }),
        ),
        /** Requests a slice may hold beyond its share; @default 0 */
        burst: count().optional(),
      },
      { error: 'must be a mapping with slice_seconds (and burst)' },
    )
    .optional(),
});

export const modelEntrySchema = z.object({
  /** The model group clients ask for. */
  model_name: text().min(1, { error: 'must not be empty' }),
  litellm_params: z.object(litellmParamsSchema.shape, { error: 'must be a mapping' }),
  model_info: modelInfoSchema.optional(),
});

export const ROUTING_STRATEGIES = [
  'simple-shuffle',
  'least-busy',
  'usage-based-routing',
  'usage-based-routing-v2',
  'latency-based-routing',
  'cost-based-routing',
] as const;

const modelGroupAlias = z.record(
  z.string(),
  z.union([text(), z.object({ model: text(), hidden: bool().optional() })], {
    error: 'must be a model name or {model, hidden}',
  }),
);

/** `[{group: [fallback groups…]}]`; a `"*"` group stands for any group without its own entry. */
const fallbackList = () =>
  z.array(z.record(z.string(), z.array(text()), { error: 'must be a mapping {group: [fallback groups]}' }), {
    error: 'must be a list of {group: [fallback groups]}',
  });
/** LiteLLM's `retry_policy` / `allowed_fails_policy`: `{RateLimitErrorRetries: 3, …}`, keys checked by the loader. */
const classCounts = () =>
  z.record(z.string(), count(), { error: 'must be a mapping of error class to count' });

/** Settings LiteLLM accepts in both router_settings and litellm_settings (router_settings wins). */
const reliability = {
  /** Tried after a group's retries are spent. */
  fallbacks: fallbackList().optional(),
  /** Tried when the prompt does not fit (a provider's context length error, or `model_info.max_input_tokens`). */
  context_window_fallbacks: fallbackList().optional(),
  /** Tried when a provider refuses the content under its policy. */
  content_policy_fallbacks: fallbackList().optional(),
  /** Fallbacks for every group without its own. */
  default_fallbacks: z.array(text()).optional(),
  /** The longest fallback chain; @default 5 */
  max_fallbacks: positiveCount().optional(),
};

export const routerSettingsSchema = z.object({
  /** @default 'simple-shuffle' */
  routing_strategy: z
    .enum(ROUTING_STRATEGIES, { error: `must be one of ${ROUTING_STRATEGIES.join(', ')}` })
    .optional(),
  /** Retries on other deployments after a retryable failure; @default 2 */
  num_retries: count().optional(),
  /** Default upstream timeout in seconds; @default 600 */
  timeout: positive().optional(),
  /** Failures a deployment may have in a minute before it cools down; @default 3 */
  allowed_fails: count().optional(),
  /** Seconds a failing deployment is skipped; @default 5 */
  cooldown_time: nonNegative().optional(),
  /** @default false */
  disable_cooldowns: bool().optional(),
  /** Other names for model groups: `{alias: group}` or `{alias: {model, hidden}}`. */
  model_group_alias: modelGroupAlias.optional(),
  ...reliability,
  /** Retries per error class (`RateLimitErrorRetries: 3`), in place of num_retries for that class. */
  retry_policy: classCounts().optional(),
  /** Failures per error class (`TimeoutErrorAllowedFails: 10`) a deployment may have in a minute before it cools down. */
  allowed_fails_policy: classCounts().optional(),
  /** Arguments of the routing strategy (latency-based-routing: `ttl`, `lowest_latency_buffer`). */
  routing_strategy_args: z.record(z.string(), z.unknown(), { error: 'must be a mapping' }).optional(),
  /** The `priority` of a request that gives none (lower waits less); @default last */
  default_priority: count().optional(),
  /** Seconds a retry of the same deployment waits at least; @default 0 */
  retry_after: nonNegative().optional(),
  redis_host: text().optional(),
  /** @default 6379 */
  redis_port: positiveCount().optional(),
  redis_password: text().optional(),
  redis_url: text().optional(),
});

export const litellmSettingsSchema = z.object({
  /** Same as router_settings.num_retries (which wins). */
  num_retries: count().optional(),
  /** Default upstream timeout in seconds (router_settings.timeout wins). */
  request_timeout: positive().optional(),
  /** Accepted for compatibility; `prometheus` metrics are always served at /metrics. */
  callbacks: z.array(text()).optional(),
  /** Same as the router_settings of the same names (which win). */
  ...reliability,
});

export const generalSettingsSchema = z.object({
  /** Admin key; @default LITELLM_MASTER_KEY, else none (the gateway is open) */
  master_key: text().min(1, { error: 'must not be empty' }).optional(),
  /** Largest request body accepted; @default 10 */
  max_request_size_mb: positive().optional(),
  /** Seconds a `/health` report is reused before deployments are checked again; @default 60 */
  health_check_interval: positive().optional(),
});

/** Fleetgate's own settings (LiteLLM ignores this section). */
export const fleetgateSettingsSchema = z.object({
  /** Longest a request waits on Redis before this replica uses its local share; @default 100 */
  redis_command_timeout_ms: positiveCount().optional(),
  /** Seconds a stopping replica keeps serving with readiness 503 before closing its port; @default 0 */
  shutdown_delay_seconds: nonNegative().optional(),
  /** Seconds a stopping replica waits for in-flight requests; @default 25 */
  shutdown_grace_seconds: nonNegative().optional(),
  /** Separates fleets (or test runs) sharing one Redis; becomes the keys' hash tag; @default fleetgate */
  redis_namespace: text()
    .regex(/^[\w.-]{1,64}$/, { error: 'must be 1-64 letters, digits, ".", "_" or "-"' })
    .optional(),
  /**
   * Seconds a request that finds no room may wait for it, in line by LiteLLM's `priority`, before it
   * gets the 429; @default 0 (no waiting)
   */
  queue_wait_seconds: nonNegative().optional(),
  /** Requests that may wait at once on one replica; more get the 429 at once; @default 1000 */
  queue_max_waiting: positiveCount().optional(),
  /** Seconds an in-flight slot outlives a replica that died holding it; @default 30 */
  inflight_lease_seconds: positive().optional(),
  /**
   * Milliseconds every admission stays counted beyond the 60 s window, so a request that reaches
   * its provider that much later than it was admitted still lands in a window the fleet held to the
   * limit; @default 500
   */
  provider_margin_ms: count()
    .pipe(z.number().max(60_000, { error: 'must be at most 60000' }))
    .optional(),
  /**
   * Completion tokens reserved in TPM windows for a request that sets no `max_tokens` /
   * `max_completion_tokens` (settlement corrects it to the real usage); @default 256
   */
  reserve_completion_tokens: count().optional(),
  /**
   * A cost map in LiteLLM's format (its `model_prices_and_context_window.json`), for the prices of
   * deployments whose config gives none; @default none (such deployments spend 0)
   */
  model_cost_map: text().min(1, { error: 'must be a file path' }).optional(),
  /** A key that may read the fleet page and nothing else; @default FLEETGATE_VIEWER_KEY, else none */
  fleet_viewer_key: text().min(1, { error: 'must not be empty' }).optional(),
});

export const configSchema = z.object(
  {
    model_list: z.array(modelEntrySchema, { error: 'must be a list of deployments' }).default([]),
    router_settings: routerSettingsSchema.default({}),
    litellm_settings: litellmSettingsSchema.default({}),
    general_settings: generalSettingsSchema.default({}),
    fleetgate_settings: fleetgateSettingsSchema.default({}),
    /** LiteLLM sets these in the environment; here they only feed `os.environ/…` references. */
    environment_variables: z
      .record(
        z.string(),
        z.preprocess((v) => (v == null ? v : String(v)), text()),
      )
      .optional(),
  },
  { error: 'the config must be a mapping (model_list, router_settings, …)' },
);

export type ConfigFile = z.output<typeof configSchema>;
export type ModelEntry = z.output<typeof modelEntrySchema>;
export type LitellmParams = z.output<typeof litellmParamsSchema>;
