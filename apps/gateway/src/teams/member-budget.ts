import type { AccountRecord, BudgetPeriod, StoredAccount } from '@fleetgate/ratelimit';
import { memberAccountId, teamAccountId, userAccountId } from '../keys/directory.js';

/**
 * A user's budget inside a team (LiteLLM's `max_budget_in_team`, its team membership's budget
 * table), stored as an account of its own: admission checks and charges it with the key, its team
 * and its user, for keys of that team and that user only. It exists exactly while the membership
 * has a budget. Its parents are the team and the user, so deleting either deletes it in the same
 * atomic step.
 */
export interface MemberBudgetDoc {
  team_id: string;
  user_id: string;
  max_budget_in_team: number;
  budget_duration: string | null;
  created_at: string;
  updated_at: string;
}

export function toMemberAccount(
  doc: MemberBudgetDoc,
  budget: BudgetPeriod | undefined,
  createdAt: number,
): AccountRecord {
  return {
    id: memberAccountId(doc.team_id, doc.user_id),
    blocked: false,
    maxBudget: doc.max_budget_in_team,
    budget,
    createdAt,
    doc: JSON.stringify(doc),
    parents: [teamAccountId(doc.team_id), userAccountId(doc.user_id)],
  };
}

export function memberDocOf(account: AccountRecord): MemberBudgetDoc {
  return JSON.parse(account.doc) as MemberBudgetDoc;
}

/**
 * A membership as LiteLLM shows it (`LiteLLM_TeamMembership` with its `litellm_budget_table`), in
 * `/team/info` and `/user/info`'s `team_memberships`. The budget id is the member account's id.
 */
export function membershipInfo(account: StoredAccount): Record<string, unknown> {
  const doc = memberDocOf(account);
  return {
    user_id: doc.user_id,
    team_id: doc.team_id,
    budget_id: account.id,
    spend: account.spend,
    litellm_budget_table: {
      budget_id: account.id,
      max_budget: doc.max_budget_in_team,
      soft_budget: null,
      max_parallel_requests: null,
      tpm_limit: null,
      rpm_limit: null,
      model_max_budget: null,
      budget_duration: doc.budget_duration,
      budget_reset_at: account.budget ? new Date(account.budget.resetAt).toISOString() : null,
      created_at: doc.created_at,
      updated_at: doc.updated_at,
    },
  };
}
