import type { AccountRecord, BudgetPeriod, StoredAccount } from '@fleetgate/ratelimit';
import { teamAccountId } from '../keys/directory.js';

/** A member of a team, as LiteLLM's `members_with_roles` holds it. */
export interface TeamMember {
  role: 'admin' | 'user';
  user_id: string | null;
  user_email: string | null;
}

/**
 * A team as LiteLLM's admin API shows it (its `LiteLLM_TeamTable` fields that Fleetgate acts on or
 * keeps). Stored as the team account's document; the fields admission enforces (blocked, budget)
 * are derived from it on every write.
 */
export interface TeamDoc {
  team_id: string;
  team_alias: string | null;
  models: string[];
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  max_budget: number | null;
  budget_duration: string | null;
  metadata: Record<string, unknown>;
  members_with_roles: TeamMember[];
  blocked: boolean;
  created_at: string;
  updated_at: string;
  /** LiteLLM fields kept for display only (tags, guardrails, model_aliases, …). */
  extra?: Record<string, unknown>;
}

export function toTeamAccount(
  doc: TeamDoc,
  budget: BudgetPeriod | undefined,
  createdAt: number,
): AccountRecord {
  return {
    id: teamAccountId(doc.team_id),
    blocked: doc.blocked,
    maxBudget: doc.max_budget ?? undefined,
    budget,
    createdAt,
    doc: JSON.stringify(doc),
  };
}

export function teamDocOf(account: AccountRecord): TeamDoc {
  return JSON.parse(account.doc) as TeamDoc;
}

/** What `/team/new`, `/team/info` (team_info), `/team/update` (data) and `/team/list` show. */
export function teamInfo(account: StoredAccount): Record<string, unknown> {
  const { extra, ...doc } = teamDocOf(account);
  return {
    organization_id: null,
    admins: [],
    members: [],
    ...extra,
    ...doc,
    spend: account.spend,
    budget_reset_at: account.budget ? new Date(account.budget.resetAt).toISOString() : null,
    model_id: null,
  };
}
