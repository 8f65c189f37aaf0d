import type { RoutableDeployment } from './deployment.js';
import { orderByCost, type Random, shuffleByWeight } from './shuffle.js';

/** LiteLLM's `router_settings.routing_strategy` names. */
export type StrategyName =
  | 'simple-shuffle'
  | 'least-busy'
  | 'usage-based-routing'
  | 'usage-based-routing-v2'
  | 'latency-based-routing'
  | 'cost-based-routing';

export interface Strategy {
  readonly name: StrategyName;
  /** latency-based-routing: samples older than this are forgotten (ms). */
  readonly latencyTtlMs: number;
  /** latency-based-routing: within (1 + buffer) × the lowest latency counts as the lowest. */
  readonly latencyBuffer: number;
}

/**
 * How the fleet store ranks a group's candidates by shared numbers inside the admission call
 * (structurally the store's `PickRule`): what to rank by, each candidate's `order` tier, and for
 * latency whether the request streams, the buffer and the samples' TTL.
 */
export interface FleetPick {
  readonly by: 'usage' | 'in_flight' | 'latency';
  readonly tiers: readonly number[];
  readonly stream?: boolean;
  readonly buffer?: number;
  readonly ttlMs?: number;
}

/**
 * A group's candidates in the order admission gets them, and for the strategies that need the
 * fleet's numbers, how the store ranks them (undefined for the others: it walks the order given).
 *
 * - simple-shuffle: `order` tiers, then a weighted random permutation (weight, rpm or tpm).
 * - cost-based-routing: tiers, then the cheapest first (orderByCost).
 * - usage-based-routing(-v2): tiers, then the emptiest window relative to its limits, fleet-wide.
 * - least-busy: tiers, then the fewest requests in flight, fleet-wide.
 * - latency-based-routing: tiers, then the lowest moving average of latency per output token (time
 *   to first token for a stream), within `lowest_latency_buffer`.
 * The stateful ones get the simple-shuffle order as well: it breaks their ties at random, weighted.
 */
export function routeOrder<T extends RoutableDeployment>(
  strategy: Strategy,
  deployments: readonly T[],
  random: Random,
  stream: boolean,
): { ordered: readonly T[]; pick: FleetPick | undefined } {
  if (deployments.length <= 1) return { ordered: deployments, pick: undefined };
  if (strategy.name === 'cost-based-routing')
    return { ordered: orderByCost(deployments, random), pick: undefined };
  const ordered = shuffleByWeight(deployments, random);
  const by = pickBy(strategy.name);
  if (!by) return { ordered, pick: undefined };
  const tiers = tiersOf(ordered);
  if (by !== 'latency') return { ordered, pick: { by, tiers } };
  return {
    ordered,
    pick: { by, tiers, stream, buffer: strategy.latencyBuffer, ttlMs: strategy.latencyTtlMs },
  };
}

function pickBy(name: StrategyName): FleetPick['by'] | undefined {
  switch (name) {
    case 'usage-based-routing':
    case 'usage-based-routing-v2':
      return 'usage';
    case 'least-busy':
      return 'in_flight';
    case 'latency-based-routing':
      return 'latency';
    default:
      return undefined;
  }
}

/** Each deployment's tier as a rank 0–15 of its `order` (the list is already in tier order). */
function tiersOf(ordered: readonly RoutableDeployment[]): number[] {
  const tiers = new Array<number>(ordered.length);
  let tier = 0;
  for (let j = 0; j < ordered.length; j++) {
    if (j > 0 && ordered[j]!.order !== ordered[j - 1]!.order) tier = Math.min(15, tier + 1);
    tiers[j] = tier;
  }
  return tiers;
}

/** Whether the strategy needs every deployment's in-flight count kept (least-busy). */
export function tracksInFlight(strategy: Strategy): boolean {
  return strategy.name === 'least-busy';
}

/** Whether settlements report latency samples (latency-based-routing). */
export function samplesLatency(strategy: Strategy): boolean {
  return strategy.name === 'latency-based-routing';
}
