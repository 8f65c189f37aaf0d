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
  /** Team member budgets (LiteLLM's `max_budget_in_team`): one account per (team, user) that has one. */
  readonly members: AccountStore;
}

export function createDirectory(accounts: AccountStore): Directory {
  return {
    keys: accounts,
    teams: accounts.collection('teams'),
    users: accounts.collection('users'),
    members: accounts.collection('members'),
  };
}

/**
 * Account ids of teams and users: prefixed, so they never meet a key's (a 64-digit hex hash). The
 * same prefixes name their windows (`t:<team_id>`, `u:<user_id>`) next to a key's (`k:<hash>`).
 */
export const teamAccountId = (teamId: string) => `team:${teamId}`;
export const userAccountId = (userId: string) => `user:${userId}`;

/**
 * The account of a user's budget inside a team. Both ids are URI-encoded so that neither holds a
 * ':' — team "a:b" with user "c" and team "a" with user "b:c" get different ids — and the prefix
 * keeps it apart from keys (hex), teams and users. It names a Redis key, never a window.
 */
export const memberAccountId = (teamId: string, userId: string) =>
  `member:${encodeURIComponent(teamId)}:${encodeURIComponent(userId)}`;

/** Whether an id among a team's or a user's members is a member budget rather than a key. */
export const isMemberAccount = (id: string) => id.startsWith('member:');
