import type { AccountRecord, BudgetPeriod, StoredAccount } from '@fleetgate/ratelimit';
import { userAccountId } from '../keys/directory.js';

/** LiteLLM's user roles. Kept and shown; only the master key manages (see README). */
export const USER_ROLES = [
  'proxy_admin',
  'proxy_admin_viewer',
  'internal_user',
  'internal_user_viewer',
] as const;
export type UserRole = (typeof USER_ROLES)[number];

/**
 * A user as LiteLLM's admin API shows it (its `LiteLLM_UserTable` fields that Fleetgate acts on or
 * keeps). Stored as the user account's document. A user's teams are not stored here: they are the
 * teams whose members name the user.
 */
export interface UserDoc {
  user_id: string;
  user_alias: string | null;
  user_email: string | null;
  user_role: UserRole;
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  tpm_limit: number | null;
  rpm_limit: number | null;
  max_parallel_requests: number | null;
  metadata: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  extra?: Record<string, unknown>;
}

export function toUserAccount(
  doc: UserDoc,
  budget: BudgetPeriod | undefined,
  createdAt: number,
): AccountRecord {
  return {
    id: userAccountId(doc.user_id),
    blocked: false,
    maxBudget: doc.max_budget ?? undefined,
    budget,
    createdAt,
    doc: JSON.stringify(doc),
  };
}

export function userDocOf(account: AccountRecord): UserDoc {
  return JSON.parse(account.doc) as UserDoc;
}

/** A user's row as `/user/info` (user_info), `/user/update` (data) and `/user/list` show it. */
export function userInfo(account: StoredAccount, teams: readonly string[]): Record<string, unknown> {
  const { extra, ...doc } = userDocOf(account);
  return {
    ...extra,
    ...doc,
    teams,
    spend: account.spend,
    budget_reset_at: account.budget ? new Date(account.budget.resetAt).toISOString() : null,
  };
}
