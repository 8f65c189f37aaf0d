import type { RoutableDeployment } from './deployment.js';
import { compilePatterns, isPattern, type ModelPattern, matchPattern } from './model-pattern.js';

/** What grouping needs of a deployment beyond routing: its group, access groups and retries. */
export interface GroupableDeployment extends RoutableDeployment {
  /** The `model_name` clients ask for. */
  readonly modelGroup: string;
  /** `model_info.access_groups`. */
  readonly accessGroups: readonly string[];
  /** `litellm_params.num_retries`, over the router's. */
  readonly numRetries?: number | undefined;
}

/** A model group as the request path uses it; built once at startup. */
export interface ModelGroup<T extends GroupableDeployment = GroupableDeployment> {
  readonly name: string;
  readonly deployments: readonly T[];
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
export interface Route<T extends GroupableDeployment = GroupableDeployment> {
  readonly group: ModelGroup<T>;
  /** Undefined for a group named exactly (or through an alias). */
  readonly captures: readonly string[] | undefined;
}

export interface ModelGroups<T extends GroupableDeployment> {
  /**
   * The route of a client's `model`: a group named exactly, then `model_group_alias`, then the most
   * specific wildcard group that matches it.
   */
  resolve(model: string): Route<T> | undefined;
  /** A group by its own name (no alias, no pattern matching). */
  group(name: string): ModelGroup<T> | undefined;
  /** Names a client may ask for by name: groups (wildcards excluded) and visible aliases. */
  readonly publicNames: readonly string[];
  /** Every group, wildcards included, in config order. */
  readonly groups: readonly ModelGroup<T>[];
  /** Every access group named by a deployment. */
  readonly accessGroups: readonly string[];
}

export interface GroupSettings {
  /** `model_group_alias`: alias → group. An alias never hides a group of the same name. */
  readonly aliases: ReadonlyMap<string, string>;
  /** Aliases not listed in `publicNames`. */
  readonly hiddenAliases: ReadonlySet<string>;
  /** The router's `num_retries`. */
  readonly numRetries: number;
}

/** Deployments by `model_name`, each group's in config order, groups in order of first appearance. */
export function groupDeployments<T extends { readonly modelGroup: string }>(
  deployments: readonly T[],
): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const d of deployments) {
    const group = groups.get(d.modelGroup);
    if (group) group.push(d);
    else groups.set(d.modelGroup, [d]);
  }
  return groups;
}

/**
 * LiteLLM's model groups over a config's deployments: what each group is (limits summed, prices,
 * access groups, retries), and how a requested model name finds its group — exactly, through an
 * alias, or through the most specific wildcard group (`*`, `provider/*`).
 */
export function buildModelGroups<T extends GroupableDeployment>(
  deployments: readonly T[],
  settings: GroupSettings,
): ModelGroups<T> {
  const groups = new Map<string, ModelGroup<T>>();
  for (const [name, members] of groupDeployments(deployments)) {
    const rpms = members.map((d) => d.rpm);
    groups.set(name, {
      name,
      deployments: members,
      jointRpm: rpms.every((r) => r !== undefined) ? rpms.reduce((a, b) => a + (b ?? 0), 0) : undefined,
      maxInputCost: Math.max(0, ...members.map((d) => d.inputCostPerToken ?? 0)),
      maxOutputCost: Math.max(0, ...members.map((d) => d.outputCostPerToken ?? 0)),
      accessGroups: new Set(members.flatMap((d) => d.accessGroups)),
      wildcard: isPattern(name),
      numRetries: members.find((d) => d.numRetries !== undefined)?.numRetries ?? settings.numRetries,
    });
  }
  // Exact names and aliases resolve to one prebuilt route each: the common case allocates nothing.
  const exact = new Map<string, Route<T>>();
  for (const group of groups.values()) exact.set(group.name, { group, captures: undefined });
  for (const [alias, target] of settings.aliases) {
    const group = groups.get(target);
    if (group && !exact.has(alias)) exact.set(alias, { group, captures: undefined });
  }
  const patterns: ModelPattern<ModelGroup<T>>[] = compilePatterns(
    [...groups.values()].filter((g) => g.wildcard).map((g) => [g.name, g] as const),
  );
  const publicNames = [
    ...[...groups.values()].filter((g) => !g.wildcard).map((g) => g.name),
    ...[...settings.aliases.keys()].filter((a) => !settings.hiddenAliases.has(a)),
  ];
  return {
    resolve(model) {
      const hit = exact.get(model);
      if (hit || patterns.length === 0) return hit;
      const match = matchPattern(patterns, model);
      return match && { group: match.pattern.value, captures: match.captures };
    },
    group: (name) => groups.get(name),
    publicNames: [...new Set(publicNames)],
    groups: [...groups.values()],
    accessGroups: [...new Set(deployments.flatMap((d) => d.accessGroups))],
  };
}
