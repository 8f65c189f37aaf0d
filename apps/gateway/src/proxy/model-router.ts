import type { Subject } from '@fleetgate/ratelimit';
import {
  buildModelGroups,
  type ModelGroup as GroupOf,
  type ModelGroups,
  type Route as RouteOf,
  tracksInFlight,
} from '@fleetgate/routing';
import type { Deployment } from '../config/deployments.js';
import type { GatewayConfig } from '../config/gateway-config.js';

/** A model group of the config's deployments (libs/routing's model-groups.ts). */
export type ModelGroup = GroupOf<Deployment>;
/** Where a requested model goes (libs/routing's model-groups.ts). */
export type Route = RouteOf<Deployment>;

/** The config's model groups, plus each deployment's fleet-state subject. */
export interface ModelRouter extends ModelGroups<Deployment> {
  /** The fleet-state subject of a deployment (its limits), prebuilt so requests allocate none. */
  subject(deployment: Deployment): Subject;
}

/** A parallel limit no fleet reaches (2^40): it only makes the store count requests in flight. */
const UNREACHABLE_PARALLEL = 2 ** 40;

export function createModelRouter(config: GatewayConfig): ModelRouter {
  const groups = buildModelGroups(config.deployments, {
    aliases: config.aliases,
    hiddenAliases: config.hiddenAliases,
    numRetries: config.numRetries,
  });
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
  return { ...groups, subject: (d) => subjects.get(d.id)! };
}
