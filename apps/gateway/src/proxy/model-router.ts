import type { Subject } from '@fleetgate/ratelimit';
import {
  compilePatterns,
  isPattern,
  type ModelPattern,
  matchPattern,
  tracksInFlight,
} from '@fleetgate/routing';
import type { Deployment } from '../config/deployments.js';
import type { GatewayConfig } from '../config/gateway-config.js';

/** A parallel limit no fleet reaches (2^40): it only makes the store count requests in flight. */
const UNREACHABLE_PARALLEL = 2 ** 40;

/** A model group as the request path uses it; built once at startup. */
export interface ModelGroup {
  readonly name: string;
  readonly deployments: readonly Deployment[];
  /** Sum of the deployments' rpm when every one has a limit, for 429 headers. */
  readonly jointRpm: number | undefined;
  /** The dearest deployment's prices (USD per token): budgets reserve at these before one is chosen. */
  readonly maxInputCost: number;
  readonly maxOutputCost: number;
  /** `model_info.access_groups` of its deployments: a key listing one of these may use the group. */
  readonly accessGroups: ReadonlySet<string>;
  /** The name is a wildcard (`*`, `openai/*`): it serves every model it matches. */
  readonly wildcard: boolean;
  /** Retries after a failure: a deployment's `num_retries` (the first that sets one), else the router's. */
  readonly numRetries: number;
}

/** Where a requested model goes: its group, and for a wildcard group what each `*` matched. */
export interface Route {
  readonly group: ModelGroup;
  /** Undefined for a group named exactly (or through an alias). */
  readonly captures: readonly string[] | undefined;
}

export interface ModelRouter {
  /**
   * The route of a client's `model`: a group named exactly, then `model_group_alias`, then the most
   * specific wildcard group that matches it.
   */
  resolve(model: string): Route | undefined;
  /** Names a client may ask for by name: groups (wildcards excluded) and visible aliases. */
  readonly publicNames: readonly string[];
  /** Every group, wildcards included, in config order. */
  readonly groups: readonly ModelGroup[];
  /** Every access group named by a deployment. */
  readonly accessGroups: readonly string[];
  /** The fleet-state subject of a deployment (its limits), prebuilt so requests allocate none. */
  subject(deployment: Deployment): Subject;
}

export function createModelRouter(config: GatewayConfig): ModelRouter {
  const groups = new Map<string, ModelGroup>();
  for (const [name, deployments] of config.groups) {
    const rpms = deployments.map((d) => d.rpm);
    groups.set(name, {
      name,
      deployments,
      jointRpm: rpms.every((r) => r !== undefined) ? rpms.reduce((a, b) => a + (b ?? 0), 0) : undefined,
      maxInputCost: Math.max(0, ...deployments.map((d) => d.inputCostPerToken ?? 0)),
      maxOutputCost: Math.max(0, ...deployments.map((d) => d.outputCostPerToken ?? 0)),
      accessGroups: new Set(deployments.flatMap((d) => d.accessGroups)),
      wildcard: isPattern(name),
      numRetries: deployments.find((d) => d.numRetries !== undefined)?.numRetries ?? config.numRetries,
    });
  }
  // Exact names and aliases resolve to one prebuilt route each: the common case allocates nothing.
  const exact = new Map<string, Route>();
  for (const group of groups.values()) exact.set(group.name, { group, captures: undefined });
  for (const [alias, target] of config.aliases) {
    const group = groups.get(target);
    if (group && !exact.has(alias)) exact.set(alias, { group, captures: undefined });
  }
  const patterns: ModelPattern<ModelGroup>[] = compilePatterns(
    [...groups.values()].filter((g) => g.wildcard).map((g) => [g.name, g] as const),
  );
  const subjects = new Map<string, Subject>();
  // least-busy ranks by the fleet's in-flight counts, kept for subjects with a parallel limit: a
  // deployment without one gets a limit no fleet reaches.
  const inFlight = tracksInFlight(config.routing.strategy) ? UNREACHABLE_PARALLEL : undefined;
  for (const d of config.deployments) {
    subjects.set(d.id, {
      id: `d:${d.id}`,
      limits: { rpm: d.rpm, tpm: d.tpm, maxParallel: d.maxParallelRequests ?? inFlight, slice: d.slice },
    });
  }
  const publicNames = [
    ...[...groups.values()].filter((g) => !g.wildcard).map((g) => g.name),
    ...[...config.aliases.keys()].filter((a) => !config.hiddenAliases.has(a)),
  ];
  return {
    resolve(model) {
      const hit = exact.get(model);
      if (hit || patterns.length === 0) return hit;
      const match = matchPattern(patterns, model);
      return match && { group: match.pattern.value, captures: match.captures };
    },
    publicNames: [...new Set(publicNames)],
    groups: [...groups.values()],
    accessGroups: [...new Set(config.deployments.flatMap((d) => d.accessGroups))],
    subject: (d) => subjects.get(d.id)!,
  };
}
