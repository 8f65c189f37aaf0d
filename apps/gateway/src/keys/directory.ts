import type { AccountStore } from '@fleetgate/ratelimit';

/**
 * The account collections behind the admin API — virtual keys, teams, users — over one account
 * store: they share records, relations (a key belongs to its team and its user) and the change
 * announcements replicas watch, and each lists its own.
 */
export interface Directory {
  readonly keys: AccountStore;
  readonly teams: AccountStore;
  readonly users: AccountStore;
}

export function createDirectory(accounts: AccountStore): Directory {
  return { keys: accounts, teams: accounts.collection('teams'), users: accounts.collection('users') };
}

/**
 * Account ids of teams and users: prefixed, so they never meet a key's (a 64-digit hex hash). The
 * same prefixes name their windows (`t:<team_id>`, `u:<user_id>`) next to a key's (`k:<hash>`).
 */
export const teamAccountId = (teamId: string) => `team:${teamId}`;
export const userAccountId = (userId: string) => `user:${userId}`;
