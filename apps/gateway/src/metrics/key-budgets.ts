import type { AccountStore } from '@fleetgate/ratelimit';
import { teamAccountId, userAccountId } from '../keys/directory.js';
import { teamDocOf } from '../teams/team-doc.js';
import type { KeyBudget, TeamBudget, UserBudget } from './fleet-gauges.js';

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

/** The budgets of the teams of the keys this replica served, read from the team records. */
export async function readTeamBudgets(
  teams: AccountStore,
  served: ReadonlyMap<string, string | undefined>,
): Promise<TeamBudget[]> {
  const ids = [...served.keys()];
  const records = await Promise.all(ids.map((id) => teams.get(teamAccountId(id))));
  const out: TeamBudget[] = [];
  records.forEach((r, i) => {
    if (r?.maxBudget === undefined) return;
    out.push({
      id: ids[i]!,
      alias: teamDocOf(r).team_alias ?? served.get(ids[i]!),
      spend: r.spend,
      maxBudget: r.maxBudget,
    });
  });
  return out;
}

/** The budgets of the users of the keys this replica served, read from the user records. */
export async function readUserBudgets(
  users: AccountStore,
  served: ReadonlySet<string>,
): Promise<UserBudget[]> {
  const ids = [...served];
  const records = await Promise.all(ids.map((id) => users.get(userAccountId(id))));
  const out: UserBudget[] = [];
  records.forEach((r, i) => {
    if (r?.maxBudget === undefined) return;
    out.push({ id: ids[i]!, spend: r.spend, maxBudget: r.maxBudget });
  });
  return out;
}
