import type { AccountStore } from '@fleetgate/ratelimit';
import type { KeyBudget } from './fleet-gauges.js';

/**
 * The budgets of the keys this replica served, read from their records (fleet-wide spend) when
 * Prometheus scrapes: deleted keys and keys without a budget have no series.
 */
export async function readKeyBudgets(
  accounts: AccountStore,
  served: ReadonlyMap<string, string | undefined>,
): Promise<KeyBudget[]> {
  const hashes = [...served.keys()];
  const records = await Promise.all(hashes.map((h) => accounts.get(h)));
  const out: KeyBudget[] = [];
  records.forEach((r, i) => {
    if (r?.maxBudget === undefined) return;
    out.push({
      hash: hashes[i]!,
      alias: r.alias ?? served.get(hashes[i]!),
      spend: r.spend,
      maxBudget: r.maxBudget,
    });
  });
  return out;
}
