/** How often an account's spend resets: every `ms`, or every `months` calendar months (UTC). */
export type BudgetEvery = { readonly ms: number } | { readonly months: number };

/** A budget that resets: the next reset, and how the ones after it follow. */
export interface BudgetPeriod {
  readonly resetAt: number;
  readonly every: BudgetEvery;
}

/**
 * Something that spends and may be refused, as the fleet stores it: a virtual key, a team, a user.
 * What admission enforces (blocked, expiry, budget and its schedule) plus the caller's own document
 * (the gateway keeps its LiteLLM-shaped record there). A key's id is only ever the hash of its secret.
 */
export interface AccountRecord {
  readonly id: string;
  /** Unique within the fleet when set (a key's alias). */
  readonly alias?: string | undefined;
  readonly blocked: boolean;
  readonly expiresAt?: number | undefined;
  readonly maxBudget?: number | undefined;
  readonly budget?: BudgetPeriod | undefined;
  readonly createdAt: number;
  readonly doc: string;
  /**
   * Accounts this one belongs to (a key's team and user). Deleting a parent deletes its members with
   * it, in the same atomic step. Ids must not contain a newline. @default none
   */
  readonly parents?: readonly string[] | undefined;
}

export interface StoredAccount extends AccountRecord {
  /** Spend in the current budget period (already reset if a reset was due). */
  readonly spend: number;
}

/** A record to create, with its starting spend and the collection that lists it. */
export interface NewAccount {
  readonly record: AccountRecord;
  readonly spend: number;
  /** @default the store's own collection */
  readonly collection?: string | undefined;
}

/** Parents among a record's that must exist when it is written (a key's team must; its user need not). */
export interface WriteOptions {
  readonly mustExist?: readonly string[] | undefined;
}

export type CreateResult = 'created' | 'exists' | 'alias_taken' | 'parent_missing';
export type UpdateResult = 'updated' | 'missing' | 'alias_taken' | 'parent_missing';
export type RekeyResult = 'rekeyed' | 'missing' | 'exists';

/** The outcome of creating several records at once: all were created, or none (and which one failed). */
export interface CreateAllResult {
  readonly result: CreateResult;
  /** The record (or, for parent_missing, the parent) that failed; undefined when all were created. */
  readonly id?: string | undefined;
}

/**
 * Where accounts live: Redis for a fleet (durable with AOF, changes seen by every replica), memory
 * for a single replica without Redis. Every change is announced so replicas drop cached copies.
 * One store serves several collections (keys, teams, users): they share records, relations and the
 * change announcements, and each lists only its own.
 */
export interface AccountStore {
  create(record: AccountRecord, spend: number, options?: WriteOptions): Promise<CreateResult>;
  /** Creates every record or none (a user and its first key): atomic. */
  createAll(entries: readonly NewAccount[], options?: WriteOptions): Promise<CreateAllResult>;
  get(id: string): Promise<StoredAccount | undefined>;
  byAlias(alias: string): Promise<string | undefined>;
  /** Replaces the record's fields (spend stays unless given); the alias and the parents may change. */
  update(record: AccountRecord, spend?: number, options?: WriteOptions): Promise<UpdateResult>;
  /**
   * Deletes these ids and, with each, every account that belongs to it (a team's keys); returns the
   * ids asked for that existed.
   */
  delete(ids: readonly string[]): Promise<string[]>;
  /** Gives the record a new id (a regenerated key): same spend, alias, limits, parents; the old id is gone at once. */
  rekey(oldId: string, newId: string): Promise<RekeyResult>;
  /** Ids of this collection, newest first, and how many there are. */
  list(offset: number, count: number): Promise<{ ids: string[]; total: number }>;
  /** Ids of the accounts that belong to this one (a team's or a user's keys), in no particular order. */
  members(id: string): Promise<string[]>;
  /** Calls `onChange(id)` for every change anywhere in the fleet ('*' when changes may have been missed). */
  watch(onChange: (id: string) => void): () => void;
  /** The same store, listing another collection (lower-case letters; '' is the default one). */
  collection(name: string): AccountStore;
}

/** A collection's name as stores accept it: '' (the default) or lower-case letters. */
export function checkCollection(name: string): string {
  if (!/^[a-z]*$/.test(name)) throw new Error(`collection must be lower-case letters, got "${name}"`);
  return name;
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
