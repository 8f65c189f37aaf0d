import type { Deployment } from './deployments.js';
import type { RoutingConfig } from './routing-config.js';

/** Where the shared fleet state lives; absent means the in-memory store of a single replica. */
export type RedisSettings =
  /** `password` is REDIS_PASSWORD / redis_password, used when the URL carries none. */
  | { readonly kind: 'url'; readonly url: string; readonly password: string | undefined }
  | {
      readonly kind: 'host';
      readonly host: string;
      readonly port: number;
      readonly password: string | undefined;
    }
  | {
      readonly kind: 'sentinel';
      readonly sentinels: ReadonlyArray<{ host: string; port: number }>;
      /** The master group name Sentinel monitors. */
      readonly name: string;
      readonly password: string | undefined;
      readonly sentinelPassword: string | undefined;
    }
  | {
      readonly kind: 'cluster';
      readonly nodes: ReadonlyArray<{ host: string; port: number }>;
      readonly password: string | undefined;
    };

/** Everything the gateway runs on, validated once at startup. */
export interface GatewayConfig {
  /** The config file, for messages. */
  readonly file: string;
  readonly deployments: readonly Deployment[];
  /** Model group → its deployments, in config order. */
  readonly groups: ReadonlyMap<string, readonly Deployment[]>;
  /** `model_group_alias`: alias → model group. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Aliases hidden from `/models`. */
  readonly hiddenAliases: ReadonlySet<string>;
  /** `general_settings.master_key` or `LITELLM_MASTER_KEY`; undefined leaves the gateway open. */
  readonly masterKey: string | undefined;
  /** How long a request may wait for room (0: not at all), how many may wait per replica, and the default priority. */
  readonly queue: { readonly waitMs: number; readonly maxWaiting: number; readonly defaultPriority: number };
  /** Strategy, fallbacks, retry and allowed-fails policies. */
  readonly routing: RoutingConfig;
  /** @default 2 */
  readonly numRetries: number;
  /** `router_settings.retry_after`: the least a retry of the same deployment waits. @default 0 */
  readonly retryAfterMs: number;
  /** `allowed_fails` when the config sets it (then failures beyond it in a minute cool down); else LiteLLM's default rules. */
  readonly allowedFails: number | undefined;
  /** @default 5000 */
  readonly cooldownTimeMs: number;
  readonly disableCooldowns: boolean;
  /** @default 10 MiB */
  readonly maxRequestBytes: number;
  /** How long a `/health` report is reused. @default 60000 */
  readonly healthCheckIntervalMs: number;
  readonly redis: RedisSettings | undefined;
  /** Keys live under `fleetgate:v1:{namespace}:`. @default 'fleetgate' */
  readonly redisNamespace: string;
  /** Longest any request waits on Redis before the replica uses its local share. @default 100 */
  readonly redisCommandTimeoutMs: number;
  /** How long a dead replica's in-flight slots stay held. @default 30000 */
  readonly leaseMs: number;
  /** How much longer than the window every admission stays counted (provider-side margin). @default 500 */
  readonly providerMarginMs: number;
  /** Completion tokens reserved for a request without `max_tokens`. @default 256 */
  readonly reserveCompletionTokens: number;
  /** Serving on with readiness 503 after SIGTERM, before the port closes. @default 0 */
  readonly shutdownDelayMs: number;
  /** Seconds a stopping replica waits for in-flight requests. @default 25 */
  readonly shutdownGraceMs: number;
  /** A read-only key for the fleet page (`/fleet/state`) and nothing else. @default none (master key only) */
  readonly viewerKey: string | undefined;
  /** One line per warning, printed once at startup. */
  readonly warnings: readonly string[];
}
