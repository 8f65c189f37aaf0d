import type { RoutableDeployment } from './deployment.js';

/** A source of uniform random numbers in [0, 1); injected so tests are deterministic. */
export type Random = () => number;

type WeightField = 'weight' | 'rpm' | 'tpm';

/**
 * Orders the deployments of one model group the way LiteLLM's simple-shuffle picks them, but as a
 * whole ranking instead of a single pick, because admission walks the list until a deployment has
 * room: `order` tiers first (ascending), and inside a tier a weighted random permutation whose
 * first element is distributed exactly like simple-shuffle's pick. The weight is `weight` if any
 * deployment of the tier sets it, else `rpm`, else `tpm`, else uniform. A deployment without the
 * chosen field weighs 0 and goes last, as in LiteLLM.
 */
export function shuffleByWeight<T extends RoutableDeployment>(
  deployments: readonly T[],
  random: Random,
): T[] {
  if (deployments.length <= 1) return deployments.slice();
  const tiers = groupByOrder(deployments);
  const out: T[] = [];
  for (const tier of tiers) appendWeightedPermutation(tier, random, out);
  return out;
}

/**
 * cost-based-routing: `order` tiers first, then the cheapest deployment (input + output price per
 * token; unpriced ones last, as LiteLLM treats a missing price as unknown) first inside a tier;
 * deployments of the same price in the weighted random order simple-shuffle would give them.
 */
export function orderByCost<T extends RoutableDeployment>(deployments: readonly T[], random: Random): T[] {
  const price = (d: T) =>
    d.inputCostPerToken === undefined && d.outputCostPerToken === undefined
      ? Number.POSITIVE_INFINITY
      : (d.inputCostPerToken ?? 0) + (d.outputCostPerToken ?? 0);
  const out: T[] = [];
  for (const tier of groupByOrder(deployments)) {
    const byPrice = new Map<number, T[]>();
    for (const d of tier) {
      const same = byPrice.get(price(d));
      if (same) same.push(d);
      else byPrice.set(price(d), [d]);
    }
    for (const p of [...byPrice.keys()].sort((a, b) => a - b))
      appendWeightedPermutation(byPrice.get(p)!, random, out);
  }
  return out;
}

function groupByOrder<T extends RoutableDeployment>(deployments: readonly T[]): T[][] {
  let sameOrder = true;
  const first = deployments[0]?.order;
  for (const d of deployments) if (d.order !== first) sameOrder = false;
  if (sameOrder) return [deployments.slice()];
  const byOrder = new Map<number, T[]>();
  for (const d of deployments) {
    // Deployments without `order` come after every explicit tier, like LiteLLM's default.
    const key = d.order ?? Number.POSITIVE_INFINITY;
    const tier = byOrder.get(key);
    if (tier) tier.push(d);
    else byOrder.set(key, [d]);
  }
  return [...byOrder.keys()].sort((a, b) => a - b).map((k) => byOrder.get(k)!);
}

function weightField(tier: readonly RoutableDeployment[]): WeightField | undefined {
  for (const field of ['weight', 'rpm', 'tpm'] as const) {
    if (tier.some((d) => (d[field] ?? 0) > 0)) return field;
  }
  return undefined;
}

/**
 * Efraimidis–Spirakis sampling without replacement: each item draws u^(1/w) and the list is sorted by
 * that key, descending (compared as ln(u)/w, which orders the same and keeps precision for large
 * weights). The first item is picked with probability w / Σw, which is simple-shuffle's pick; the
 * rest follow in the same weighted way.
 */
function appendWeightedPermutation<T extends RoutableDeployment>(tier: T[], random: Random, out: T[]): void {
  const field = weightField(tier);
  const keyed = tier.map((d) => {
    const w = field ? (d[field] ?? 0) : 1;
    const key = w > 0 ? Math.log(random()) / w : Number.NEGATIVE_INFINITY;
    return { d, key };
  });
  keyed.sort((a, b) => b.key - a.key);
  for (const k of keyed) out.push(k.d);
}
