import type { Subject } from '@fleetgate/ratelimit';
import type { Deployment } from '../config/deployments.js';
import type { GatewayConfig } from '../config/gateway-config.js';

/** A model group as the request path uses it; built once at startup. */
export interface ModelGroup {
  readonly name: string;
  readonly deployments: readonly Deployment[];
  /** Groups to try, in order, once this one's attempts are spent. */
  readonly fallbacks: readonly string[];
  /** Sum of the deployments' rpm when every one has a limit, for 429 headers. */
  readonly jointRpm: number | undefined;
  /** The dearest deployment's prices (USD per token): budgets reserve at these before one is chosen. */
  readonly maxInputCost: number;
  readonly maxOutputCost: number;
}

export interface ModelRouter {
  /** The group a client's `model` names, directly or through `model_group_alias`. */
  resolve(model: string): ModelGroup | undefined;
  /** Names a client may ask for: groups and visible aliases. */
  readonly publicNames: readonly string[];
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
      fallbacks: config.fallbacks.get(name) ?? [],
      jointRpm: rpms.every((r) => r !== undefined) ? rpms.reduce((a, b) => a + (b ?? 0), 0) : undefined,
      maxInputCost: Math.max(0, ...deployments.map((d) => d.inputCostPerToken ?? 0)),
      maxOutputCost: Math.max(0, ...deployments.map((d) => d.outputCostPerToken ?? 0)),
    });
  }
  const byName = new Map(groups);
  for (const [alias, target] of config.aliases) {
    const group = groups.get(target);
    if (group && !byName.has(alias)) byName.set(alias, group);
  }
  const subjects = new Map<string, Subject>();
  for (const d of config.deployments) {
    subjects.set(d.id, {
      id: `d:${d.id}`,
      limits: { rpm: d.rpm, tpm: d.tpm, maxParallel: d.maxParallelRequests },
    });
  }
  const publicNames = [
    ...groups.keys(),
    ...[...config.aliases.keys()].filter((a) => !config.hiddenAliases.has(a)),
  ];
  return {
    resolve: (model) => byName.get(model),
    publicNames: [...new Set(publicNames)],
    subject: (d) => subjects.get(d.id)!,
  };
}
