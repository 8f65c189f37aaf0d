import type { AccountRecord, StoredAccount } from '@fleetgate/ratelimit';
import { teamAccountId, userAccountId } from './directory.js';

/**
 * A virtual key as LiteLLM's admin API shows it (its `LiteLLM_VerificationToken` fields that
 * Fleetgate acts on or keeps). Stored as the account's document; the fields admission enforces
 * (blocked, expiry, budget) are derived from it on every write.
 */
export interface KeyDoc {
  key_name: string;
  key_alias: string | null;
  models: string[];
  max_budget: number | null;
  budget_duration: string | null;
  rpm_limit: number | null;
  tpm_limit: number | null;
  max_parallel_requests: number | null;
  model_rpm_limit: Record<string, number> | null;
  model_tpm_limit: Record<string, number> | null;
  metadata: Record<string, unknown>;
  user_id: string | null;
  team_id: string | null;
  blocked: boolean;
  /** ISO time, or null: never. */
  expires: string | null;
  /** As given at generation (`30d`), kept for display. */
  duration: string | null;
  created_at: string;
  updated_at: string;
  created_by: string | null;
  updated_by: string | null;
  /** LiteLLM fields kept for display only (aliases, config, tags, …). */
  extra?: Record<string, unknown>;
}

/**
 * The enforced fields of an account, derived from its document. A key belongs to its team and its
 * user (deleting either deletes it); its team must exist, its user need not (as in LiteLLM, a key
 * may name a user_id no /user/new created).
 */
export function toAccount(
  id: string,
  doc: KeyDoc,
  budget: AccountRecord['budget'],
  createdAt: number,
): AccountRecord {
  return {
    id,
    alias: doc.key_alias ?? undefined,
    blocked: doc.blocked,
    expiresAt: doc.expires === null ? undefined : Date.parse(doc.expires),
    maxBudget: doc.max_budget ?? undefined,
    budget,
    createdAt,
    doc: JSON.stringify(doc),
    parents: keyParents(doc),
  };
}

export function keyParents(doc: KeyDoc): string[] {
  const parents: string[] = [];
  if (doc.team_id !== null) parents.push(teamAccountId(doc.team_id));
  if (doc.user_id !== null) parents.push(userAccountId(doc.user_id));
  return parents;
}

/** The parents a key's write requires: its team. */
export function requiredParents(doc: KeyDoc): { mustExist: string[] } {
  return { mustExist: doc.team_id === null ? [] : [teamAccountId(doc.team_id)] };
}

export function docOf(account: AccountRecord): KeyDoc {
  return JSON.parse(account.doc) as KeyDoc;
}

/** `sk-...abcd`, LiteLLM's abbreviation: enough to recognise a key, never enough to use it. */
export function keyName(key: string): string {
  return `sk-...${key.slice(-4)}`;
}

/** What `/key/info` and `/key/list?return_full_object=true` show: the document, live spend and reset. */
export function keyInfo(account: StoredAccount): Record<string, unknown> {
  const { extra, ...doc } = docOf(account);
  return {
    ...extra,
    ...doc,
    token: account.id,
    spend: account.spend,
    budget_reset_at: account.budget ? new Date(account.budget.resetAt).toISOString() : null,
  };
}
