/** How often an account's spend resets: every `ms`, or every `months` calendar months (UTC). */
export type BudgetEvery = { readonly ms: number } | { readonly months: number };

/** A budget that resets: the next reset, and how the ones after it follow. */
export interface BudgetPeriod {
  readonly resetAt: number;
  readonly every: BudgetEvery;
}

/**
 * A budgeted credential (a virtual key) as the fleet stores it: what admission enforces, plus the
 * caller's own document (the gateway keeps its LiteLLM-shaped record there). Only a hash of the
 * secret is ever the id.
 */
export interface AccountRecord {
  readonly id: string;
  readonly alias?: string | undefined;
  readonly blocked: boolean;
  readonly expiresAt?: number | undefined;
  readonly maxBudget?: number | undefined;
  readonly budget?: BudgetPeriod | undefined;
  readonly createdAt: number;
  readonly doc: string;
}

export interface StoredAccount extends AccountRecord {
  /** Spend in the current budget period (already reset if a reset was due). */
  readonly spend: number;
}

export type CreateResult = 'created' | 'exists' | 'alias_taken';
export type UpdateResult = 'updated' | 'missing' | 'alias_taken';
export type RekeyResult = 'rekeyed' | 'missing' | 'exists';

/**
 * Where accounts live: Redis for a fleet (durable with AOF, changes seen by every replica), memory
 * for a single replica without Redis. Every change is announced so replicas drop cached copies.
 */
export interface AccountStore {
  create(record: AccountRecord, spend: number): Promise<CreateResult>;
  get(id: string): Promise<StoredAccount | undefined>;
  byAlias(alias: string): Promise<string | undefined>;
  /** Replaces the record's fields (spend stays unless given); the alias may change. */
  update(record: AccountRecord, spend?: number): Promise<UpdateResult>;
  /** Deletes these ids; returns those that existed. */
  delete(ids: readonly string[]): Promise<string[]>;
  /** Gives the record a new id (a regenerated key): same spend, alias and limits; the old id is gone at once. */
  rekey(oldId: string, newId: string): Promise<RekeyResult>;
  /** Ids, newest first, and how many there are. */
  list(offset: number, count: number): Promise<{ ids: string[]; total: number }>;
  /** Calls `onChange(id)` for every change anywhere in the fleet ('*' when changes may have been missed). */
  watch(onChange: (id: string) => void): () => void;
}

/** The next reset after `from` (exclusive) stepping from `resetAt` by `every`. Pure; UTC. */
export function nextReset(period: BudgetPeriod, from: number): number {
  let at = period.resetAt;
  if ('ms' in period.every) {
    const step = period.every.ms;
    if (at <= from) at += (Math.floor((from - at) / step) + 1) * step;
    return at;
  }
  while (at <= from) at = addMonths(at, period.every.months);
  return at;
}

/** `t` plus `n` calendar months (UTC), the day clamped to the target month's length. */
export function addMonths(t: number, n: number): number {
  const d = new Date(t);
  const month = d.getUTCMonth() + n;
  const year = d.getUTCFullYear() + Math.floor(month / 12);
  const m = ((month % 12) + 12) % 12;
  const last = new Date(Date.UTC(year, m + 1, 0)).getUTCDate();
  return Date.UTC(
    year,
    m,
    Math.min(d.getUTCDate(), last),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    d.getUTCMilliseconds(),
  );
}
