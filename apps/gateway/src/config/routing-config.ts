import {
  type ClassPolicy,
  compilePatterns,
  ERROR_CLASSES,
  type ErrorClass,
  type FallbackPolicy,
  isPattern,
  matchPattern,
} from '@fleetgate/routing';
import type { DeploymentProblem } from './deployments.js';
import type { ConfigFile, ROUTING_STRATEGIES } from './schema.js';

export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

/** The routing strategy and its arguments (`routing_strategy_args`). */
export interface StrategySettings {
  readonly name: RoutingStrategy;
  /** latency-based-routing: latencies older than this are forgotten. @default 3600000 (LiteLLM's 1 h) */
  readonly latencyTtlMs: number;
  /** latency-based-routing: deployments within (1 + buffer) × the lowest latency are equally good. @default 0 */
  readonly latencyBuffer: number;
  /** latency-based-routing: weight of a new sample in the moving average, 2 / (max_latency_list_size + 1). @default 2/11 */
  readonly latencyAlpha: number;
}

/** Everything about retries, fallbacks and strategy the config says, checked. */
export interface RoutingConfig {
  readonly fallbacks: FallbackPolicy;
  readonly retryPolicy: ClassPolicy | undefined;
  readonly allowedFailsPolicy: ClassPolicy | undefined;
  readonly strategy: StrategySettings;
}

/** The strategy arguments LiteLLM documents, per strategy; any other is a startup error. */
const STRATEGY_ARGS: Readonly<Record<RoutingStrategy, readonly string[]>> = {
  'simple-shuffle': [],
  'least-busy': [],
  'usage-based-routing': [],
  'usage-based-routing-v2': [],
  'latency-based-routing': ['ttl', 'lowest_latency_buffer', 'max_latency_list_size'],
  'cost-based-routing': [],
};

type Section = 'router_settings' | 'litellm_settings';

/**
 * Reads routing from both sections as LiteLLM does (router_settings wins over litellm_settings), and
 * reports every problem at its path: a fallback naming a model no group serves, a policy key that is
 * not `<ErrorClass>Retries` / `<ErrorClass>AllowedFails`, strategy arguments the strategy does not take.
 */
export function routingConfig(
  config: ConfigFile,
  groups: ReadonlySet<string>,
  problems: DeploymentProblem[],
): RoutingConfig {
  const rs = config.router_settings;
  const ls = config.litellm_settings;
  // A fallback may name a model that only a wildcard group (`*`, `openai/*`) serves.
  const patterns = compilePatterns([...groups].filter(isPattern).map((name) => [name, name] as const));
  const known = (name: string) => groups.has(name) || matchPattern(patterns, name) !== undefined;
  const pick = <
    K extends 'fallbacks' | 'context_window_fallbacks' | 'content_policy_fallbacks' | 'default_fallbacks',
  >(
    key: K,
  ): { section: Section; value: ConfigFile['router_settings'][K] } =>
    rs[key] !== undefined
      ? { section: 'router_settings', value: rs[key] }
      : { section: 'litellm_settings', value: ls[key] };
  const general = fallbackMap(pick('fallbacks'), 'fallbacks', known, problems);
  const defaults = pick('default_fallbacks');
  const defaultList = [...(defaults.value ?? []), ...(general.get('*') ?? [])];
  (defaults.value ?? []).forEach((name, i) => {
    if (!known(name))
      problems.push({
        path: [defaults.section, 'default_fallbacks', i],
        message: `unknown model group "${name}"`,
      });
  });
  general.delete('*');
  return {
    fallbacks: {
      general,
      contextWindow: fallbackMap(
        pick('context_window_fallbacks'),
        'context_window_fallbacks',
        known,
        problems,
      ),
      contentPolicy: fallbackMap(
        pick('content_policy_fallbacks'),
        'content_policy_fallbacks',
        known,
        problems,
      ),
      defaults: defaultList,
      maxFallbacks: rs.max_fallbacks ?? ls.max_fallbacks ?? 5,
    },
    retryPolicy: classPolicy(rs.retry_policy, 'retry_policy', 'Retries', problems),
    allowedFailsPolicy: classPolicy(
      rs.allowed_fails_policy,
      'allowed_fails_policy',
      'AllowedFails',
      problems,
    ),
    strategy: strategySettings(rs.routing_strategy ?? 'simple-shuffle', rs.routing_strategy_args, problems),
  };
}

function fallbackMap(
  { section, value }: { section: Section; value: ReadonlyArray<Record<string, string[]>> | undefined },
  key: string,
  known: (name: string) => boolean,
  problems: DeploymentProblem[],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  (value ?? []).forEach((entry, i) => {
    for (const [group, targets] of Object.entries(entry)) {
      for (const name of group === '*' ? targets : [group, ...targets]) {
        if (!known(name))
          problems.push({ path: [section, key, i, group], message: `unknown model group "${name}"` });
      }
      out.set(group, targets);
    }
  });
  return out;
}

function classPolicy(
  value: Record<string, number> | undefined,
  key: string,
  suffix: string,
  problems: DeploymentProblem[],
): ClassPolicy | undefined {
  if (!value) return undefined;
  const out: Partial<Record<ErrorClass, number>> = {};
  for (const [name, n] of Object.entries(value)) {
    const cls = name.endsWith(suffix) ? (name.slice(0, -suffix.length) as ErrorClass) : undefined;
    if (cls && ERROR_CLASSES.includes(cls)) out[cls] = n;
    else {
      problems.push({
        path: ['router_settings', key, name],
        message: `unknown key; expected one of ${ERROR_CLASSES.map((c) => `${c}${suffix}`).join(', ')}`,
      });
    }
  }
  return out;
}

function strategySettings(
  name: RoutingStrategy,
  args: Record<string, unknown> | undefined,
  problems: DeploymentProblem[],
): StrategySettings {
  const at = (k: string) => ['router_settings', 'routing_strategy_args', k];
  const allowed = STRATEGY_ARGS[name];
  const num = (k: string, min: number): number | undefined => {
    const v = args?.[k];
    if (v === undefined) return undefined;
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n === 'number' && Number.isFinite(n) && n >= min) return n;
    problems.push({ path: at(k), message: `must be a number, ${min} or more` });
    return undefined;
  };
  for (const k of Object.keys(args ?? {})) {
    if (!allowed.includes(k)) {
      problems.push({
        path: at(k),
        message: allowed.length
          ? `not an argument of ${name} (it takes ${allowed.join(', ')})`
          : `${name} takes no arguments`,
      });
    }
  }
  const listSize = allowed.includes('max_latency_list_size') ? num('max_latency_list_size', 1) : undefined;
  return {
    name,
    latencyTtlMs: ((allowed.includes('ttl') ? num('ttl', 1) : undefined) ?? 3600) * 1000,
    latencyBuffer:
      (allowed.includes('lowest_latency_buffer') ? num('lowest_latency_buffer', 0) : undefined) ?? 0,
    latencyAlpha: 2 / ((listSize ?? 10) + 1),
  };
}
