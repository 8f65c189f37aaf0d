import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { groupDeployments } from '@fleetgate/routing';
import { GoogleTokenCache } from '../providers/google/token-cache.js';
import { type CostMap, parseCostMap, withMappedPrices } from './cost-map.js';
import { buildDeployment, type Deployment, type DeploymentProblem } from './deployments.js';
import { type MissingEnv, resolveEnvRefs } from './env-refs.js';
import type { GatewayConfig, RedisSettings } from './gateway-config.js';
import { routingConfig } from './routing-config.js';
import { type ConfigFile, configSchema } from './schema.js';
import { knownKeysAt, schemaReads } from './schema-paths.js';
import { closestKey, droppedKeys } from './unknown-keys.js';
import {
  type ConfigPath,
  formatPath,
  parseYamlSource,
  type YamlSource,
  YamlSyntaxError,
} from './yaml-source.js';

/** Startup stops with these lines, each `file:line path: message`. */
export class ConfigError extends Error {
  constructor(readonly lines: readonly string[]) {
    super(lines.join('\n'));
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DEFAULT_TIMEOUT_S = 600;
const DEFAULT_MAX_REQUEST_MB = 10;

/** Reads, resolves and validates a LiteLLM `config.yaml`. Throws ConfigError with every problem found. */
export function loadConfig(file: string, env: Env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError([`${file}: cannot read the config file (${code ?? String(error)})`]);
  }
  return parseConfig(file, text, env);
}

/** The same as loadConfig, from text already read (tests, and configs built in code). */
export function parseConfig(file: string, text: string, env: Env): GatewayConfig {
  let source: YamlSource;
  try {
    source = parseYamlSource(file, text);
  } catch (error) {
    if (error instanceof YamlSyntaxError) throw new ConfigError([error.message]);
    throw error;
  }
  const raw = source.data ?? {};
  const at = (path: readonly PropertyKey[], message: string) =>
    `${file}:${source.lineOf(path)} ${formatPath(path)}: ${message}`;

  const missing: MissingEnv[] = [];
  // LiteLLM exports `environment_variables:` before it reads anything, so they count as environment here too.
  const fullEnv = { ...env, ...configEnvironment(raw) };
  const resolved = resolveEnvRefs(raw, fullEnv, missing);
  // Only references Fleetgate reads must be set; those in keys it ignores are named in the warning.
  const used = missing.filter((m) => schemaReads(configSchema, m.path));
  if (used.length > 0) {
    throw new ConfigError(used.map((m) => at(m.path, `environment variable ${m.name} is not set`)));
  }
  const unsetRefs = missing.filter((m) => !used.includes(m));
  const parsed = configSchema.safeParse(resolved);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => at(issue.path, issue.message)));
  }
  const config = parsed.data;
  const problems: DeploymentProblem[] = [];
  const timeoutS =
    config.router_settings.timeout ?? config.litellm_settings.request_timeout ?? DEFAULT_TIMEOUT_S;
  const costMap = readCostMap(file, config, env, problems);
  const deployments: Deployment[] = [];
  const defaults = {
    timeoutS,
    env: fullEnv,
    readFile: (path: string) => readFileSync(path, 'utf8'),
    googleTokens: new GoogleTokenCache(),
  };
  config.model_list.forEach((entry, i) => {
    const d = buildDeployment(entry, i, defaults, problems);
    if (d) deployments.push(costMap ? withMappedPrices(d, costMap) : d);
  });
  problems.push(...duplicateIds(deployments));
  const groups = groupDeployments(deployments);
  const aliases = new Map<string, string>();
  const hiddenAliases = new Set<string>();
  for (const [alias, target] of Object.entries(config.router_settings.model_group_alias ?? {})) {
    const group = typeof target === 'string' ? target : target.model;
    if (!groups.has(group)) {
      problems.push({
        path: ['router_settings', 'model_group_alias', alias],
        message: `unknown model group "${group}"`,
      });
    }
    aliases.set(alias, group);
    if (typeof target !== 'string' && target.hidden) hiddenAliases.add(alias);
  }
  const routing = routingConfig(config, new Set(groups.keys()), problems);
  const redis = redisSettings(config, env, problems);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => at(p.path, p.message)));

  return {
    file,
    deployments,
    groups,
    aliases,
    hiddenAliases,
    masterKey: config.general_settings.master_key ?? nonEmpty(env['LITELLM_MASTER_KEY']),
    routing,
    queue: {
      waitMs: (config.fleetgate_settings.queue_wait_seconds ?? 0) * 1000,
      maxWaiting: config.fleetgate_settings.queue_max_waiting ?? 1000,
      defaultPriority: config.router_settings.default_priority ?? Number.MAX_SAFE_INTEGER,
    },
    viewerKey: config.fleetgate_settings.fleet_viewer_key ?? nonEmpty(env['FLEETGATE_VIEWER_KEY']),
    numRetries: config.router_settings.num_retries ?? config.litellm_settings.num_retries ?? 2,
    retryAfterMs: (config.router_settings.retry_after ?? 0) * 1000,
    allowedFails: config.router_settings.allowed_fails,
    cooldownTimeMs: (config.router_settings.cooldown_time ?? 5) * 1000,
    disableCooldowns: config.router_settings.disable_cooldowns ?? false,
    maxRequestBytes: Math.floor(
      (config.general_settings.max_request_size_mb ?? DEFAULT_MAX_REQUEST_MB) * 1024 * 1024,
    ),
    healthCheckIntervalMs: (config.general_settings.health_check_interval ?? 60) * 1000,
    redis,
    redisNamespace:
      config.fleetgate_settings.redis_namespace ?? nonEmpty(env['FLEETGATE_REDIS_NAMESPACE']) ?? 'fleetgate',
    redisCommandTimeoutMs:
      config.fleetgate_settings.redis_command_timeout_ms ??
      positiveInt(env['FLEETGATE_REDIS_TIMEOUT_MS']) ??
      100,
    shutdownGraceMs: (config.fleetgate_settings.shutdown_grace_seconds ?? 25) * 1000,
    shutdownDelayMs: (config.fleetgate_settings.shutdown_delay_seconds ?? 0) * 1000,
    leaseMs: Math.ceil((config.fleetgate_settings.inflight_lease_seconds ?? 30) * 1000),
    providerMarginMs: config.fleetgate_settings.provider_margin_ms ?? 500,
    reserveCompletionTokens: config.fleetgate_settings.reserve_completion_tokens ?? 256,
    warnings: warnings(droppedKeys(resolved, config), config, deployments, unsetRefs, at),
  };
}

/** `fleetgate_settings.model_cost_map` (or FLEETGATE_MODEL_COST_MAP), relative to the config file. */
function readCostMap(
  file: string,
  config: ConfigFile,
  env: Env,
  problems: DeploymentProblem[],
): CostMap | undefined {
  const given = config.fleetgate_settings.model_cost_map ?? nonEmpty(env['FLEETGATE_MODEL_COST_MAP']);
  if (given === undefined) return undefined;
  const path = isAbsolute(given) ? given : resolve(dirname(file), given);
  try {
    return parseCostMap(readFileSync(path, 'utf8'));
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    problems.push({ path: ['fleetgate_settings', 'model_cost_map'], message: `cannot use ${path}: ${why}` });
    return undefined;
  }
}

function configEnvironment(raw: unknown): Record<string, string> {
  const section = (raw as { environment_variables?: unknown } | null)?.environment_variables;
  if (!section || typeof section !== 'object') return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(section)) if (v != null) out[k] = String(v);
  return out;
}

function duplicateIds(deployments: readonly Deployment[]): DeploymentProblem[] {
  const seen = new Map<string, number>();
  const out: DeploymentProblem[] = [];
  deployments.forEach((d, i) => {
    const first = seen.get(d.id);
    if (first === undefined) seen.set(d.id, i);
    else
      out.push({
        path: ['model_list', i],
        message: `deployment id "${d.id}" is used twice (model_list[${first}] too); give each its own model_info.id`,
      });
  });
  return out;
}

/**
 * Where Redis is, in LiteLLM's spellings first: `REDIS_URL` (or router_settings.redis_url), then
 * router_settings.redis_host/port/password (or REDIS_HOST/PORT/PASSWORD). Sentinel and Cluster, which
 * LiteLLM configures in its cache settings, come from REDIS_SENTINEL_NODES + REDIS_SERVICE_NAME and
 * REDIS_CLUSTER_NODES (`host:port,host:port`).
 */
function redisSettings(
  config: ConfigFile,
  env: Env,
  problems: DeploymentProblem[],
): RedisSettings | undefined {
  const rs = config.router_settings;
  const password = nonEmpty(rs.redis_password) ?? nonEmpty(env['REDIS_PASSWORD']);
  const url = nonEmpty(env['REDIS_URL']) ?? nonEmpty(rs.redis_url);
  if (url) {
    if (!/^rediss?:\/\//.test(url)) {
      problems.push({
        path: ['router_settings', 'redis_url'],
        message: `REDIS_URL must start with redis:// or rediss://, got "${url.split('@').pop()}"`,
      });
      return undefined;
    }
    return { kind: 'url', url, password: URL.canParse(url) && new URL(url).password ? undefined : password };
  }
  const cluster = nonEmpty(env['REDIS_CLUSTER_NODES']);
  if (cluster)
    return { kind: 'cluster', nodes: hostPorts(cluster, 'REDIS_CLUSTER_NODES', problems), password };
  const sentinels = nonEmpty(env['REDIS_SENTINEL_NODES']);
  if (sentinels) {
    return {
      kind: 'sentinel',
      sentinels: hostPorts(sentinels, 'REDIS_SENTINEL_NODES', problems),
      name: nonEmpty(env['REDIS_SERVICE_NAME']) ?? 'mymaster',
      password,
      sentinelPassword: nonEmpty(env['REDIS_SENTINEL_PASSWORD']),
    };
  }
  const host = nonEmpty(rs.redis_host) ?? nonEmpty(env['REDIS_HOST']);
  if (!host) return undefined;
  const port = rs.redis_port ?? positiveInt(env['REDIS_PORT']) ?? 6379;
  return { kind: 'host', host, port, password };
}

function hostPorts(
  list: string,
  name: string,
  problems: DeploymentProblem[],
): Array<{ host: string; port: number }> {
  return list.split(',').map((entry) => {
    const [host, port] = entry.trim().split(':');
    const p = positiveInt(port);
    if (!host || p === undefined)
      problems.push({ path: [], message: `${name}: "${entry}" is not host:port` });
    return { host: host ?? '', port: p ?? 0 };
  });
}

function positiveInt(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  const n = Number(v);
  return n > 0 ? n : undefined;
}

function warnings(
  ignoredPaths: readonly ConfigPath[],
  config: ConfigFile,
  deployments: readonly Deployment[],
  unsetRefs: readonly MissingEnv[],
  at: (path: readonly PropertyKey[], message: string) => string,
): string[] {
  const out: string[] = [];
  const ignored = new Map<string, number>();
  // Provider keys a deployment's provider does not read first: they stand in model_list, before other sections.
  const paths: ConfigPath[] = [];
  deployments.forEach((d, i) => {
    for (const key of d.ignoredParams) paths.push(['model_list', i, 'litellm_params', key]);
  });
  paths.push(...ignoredPaths);
  for (const path of paths) {
    // A key one or two typos away from one Fleetgate acts on (`rmp`, `router_setings`) is almost
    // certainly that key: say so on its own line, with the file and line, not among the ignored.
    const key = path[path.length - 1];
    const meant =
      typeof key === 'string' ? closestKey(key, knownKeysAt(configSchema, path.slice(0, -1))) : undefined;
    if (meant) {
      out.push(at(path, `unknown key, ignored: did you mean "${meant}"?`));
      continue;
    }
    const name = formatPath(path, { anyIndex: true });
    ignored.set(name, (ignored.get(name) ?? 0) + 1);
  }
  for (const cb of config.litellm_settings.callbacks ?? []) {
    if (cb !== 'prometheus') ignored.set(`litellm_settings.callbacks: ${cb}`, 1);
  }
  if (ignored.size > 0) {
    const names = [...ignored].map(([k, n]) => (n > 1 ? `${k} (${n}×)` : k));
    out.push(`config keys Fleetgate does not act on (accepted, ignored): ${names.join(', ')}`);
  }
  if (unsetRefs.length > 0) {
    const names = [...new Set(unsetRefs.map((m) => `${m.name} (${formatPath(m.path)})`))];
    out.push(`os.environ/ references to unset variables, in keys Fleetgate ignores: ${names.join(', ')}`);
  }
  const unpriced = deployments.filter(
    (d) => d.inputCostPerToken === undefined && d.outputCostPerToken === undefined,
  );
  if (unpriced.length > 0) {
    out.push(
      `deployments without prices (keys, teams and users spend 0 on them; set input_cost_per_token / output_cost_per_token or fleetgate_settings.model_cost_map): ${unpriced.map((d) => d.modelGroup).join(', ')}`,
    );
  }
  if (deployments.length === 0) out.push('model_list is empty: every model request will be refused');
  return out;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}
