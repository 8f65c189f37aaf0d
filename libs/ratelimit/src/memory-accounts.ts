import {
  type AccountRecord,
  type AccountStore,
  type CreateAllResult,
  type CreateResult,
  checkCollection,
  type NewAccount,
  nextReset,
  type RekeyResult,
  type StoredAccount,
  type UpdateResult,
  type WriteOptions,
} from './accounts.js';
import type { BlockReason } from './types.js';

interface Entry {
  record: AccountRecord;
  spend: number;
  readonly collection: string;
}

/** What every collection of one memory store shares: the records, their relations, the watchers. */
interface Space {
  readonly entries: Map<string, Entry>;
  readonly aliases: Map<string, string>;
  /** Account id → ids of the accounts that belong to it. */
  readonly members: Map<string, Set<string>>;
  readonly watchers: Set<(id: string) => void>;
}

/** The result of checking an account before admission, as admit.lua answers it. */
export type AccountCheck =
  | { readonly ok: true; readonly spend: number; readonly period: number }
  | {
      readonly ok: false;
      readonly reason: BlockReason;
      readonly spend?: number;
      readonly limitValue?: number;
    };

/**
 * Accounts in process memory: a single replica without Redis (they do not survive a restart, and
 * the gateway says so at startup). Also the memory store's source for account checks, with the
 * same rules as admit.lua. `collection()` gives views on the same records that list their own.
 */
export class MemoryAccounts implements AccountStore {
  private readonly space: Space;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly name = '',
    space?: Space,
  ) {
    this.space = space ?? { entries: new Map(), aliases: new Map(), members: new Map(), watchers: new Set() };
  }

  collection(name: string): MemoryAccounts {
    return new MemoryAccounts(this.now, checkCollection(name), this.space);
  }

  async create(record: AccountRecord, spend: number, options?: WriteOptions): Promise<CreateResult> {
    return (await this.createAll([{ record, spend }], options)).result;
  }

  async createAll(entries: readonly NewAccount[], options: WriteOptions = {}): Promise<CreateAllResult> {
    const { entries: all, aliases } = this.space;
    const creating = new Set<string>();
    const newAliases = new Set<string>();
    for (const { record } of entries) {
      if (all.has(record.id) || creating.has(record.id)) return { result: 'exists', id: record.id };
      creating.add(record.id);
      const alias = record.alias;
      if (alias !== undefined) {
        if (aliases.has(alias) || newAliases.has(alias)) return { result: 'alias_taken', id: record.id };
        newAliases.add(alias);
      }
    }
    for (const { record } of entries) {
      for (const p of record.parents ?? []) {
        if (options.mustExist?.includes(p) && !all.has(p) && !creating.has(p))
          return { result: 'parent_missing', id: p };
      }
    }
    for (const { record, spend, collection } of entries) {
      all.set(record.id, { record, spend, collection: collection ?? this.name });
      if (record.alias !== undefined) aliases.set(record.alias, record.id);
      for (const p of record.parents ?? []) this.membersOf(p).add(record.id);
      this.changed(record.id);
    }
    return { result: 'created' };
  }

  async get(id: string): Promise<StoredAccount | undefined> {
    const e = this.space.entries.get(id);
    if (!e) return undefined;
    this.resetIfDue(e);
    return { ...e.record, spend: e.spend };
  }

  async byAlias(alias: string): Promise<string | undefined> {
    return this.space.aliases.get(alias);
  }

  async update(record: AccountRecord, spend?: number, options: WriteOptions = {}): Promise<UpdateResult> {
    const { entries, aliases } = this.space;
    const e = entries.get(record.id);
    if (!e) return 'missing';
    if (record.alias !== undefined && record.alias !== e.record.alias && aliases.has(record.alias)) {
      return 'alias_taken';
    }
    for (const p of record.parents ?? []) {
      if (options.mustExist?.includes(p) && !entries.has(p)) return 'parent_missing';
    }
    // A reset that fell due is applied first, so the new schedule never carries the old period's spend.
    this.resetIfDue(e);
    if (e.record.alias !== undefined) aliases.delete(e.record.alias);
    if (record.alias !== undefined) aliases.set(record.alias, record.id);
    for (const p of e.record.parents ?? []) this.space.members.get(p)?.delete(record.id);
    for (const p of record.parents ?? []) this.membersOf(p).add(record.id);
    e.record = record;
    if (spend !== undefined) e.spend = spend;
    this.changed(record.id);
    return 'updated';
  }

  async delete(ids: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const id of ids) {
      if (!this.space.entries.has(id)) continue;
      // Members first (one level, as the Redis script): a team's keys go with it.
      for (const m of this.space.members.get(id) ?? []) this.drop(m);
      this.space.members.delete(id);
      this.drop(id);
      deleted.push(id);
    }
    return deleted;
  }

  async rekey(oldId: string, newId: string): Promise<RekeyResult> {
    const { entries, aliases } = this.space;
    const e = entries.get(oldId);
    if (!e) return 'missing';
    if (entries.has(newId)) return 'exists';
    entries.delete(oldId);
    e.record = { ...e.record, id: newId };
    entries.set(newId, e);
    if (e.record.alias !== undefined) aliases.set(e.record.alias, newId);
    for (const p of e.record.parents ?? []) {
      const set = this.membersOf(p);
      set.delete(oldId);
      set.add(newId);
    }
    this.changed(oldId);
    this.changed(newId);
    return 'rekeyed';
  }

  async list(offset: number, count: number): Promise<{ ids: string[]; total: number }> {
    const all = [...this.space.entries.values()]
      .filter((e) => e.collection === this.name)
      .sort((a, b) => b.record.createdAt - a.record.createdAt)
      .map((e) => e.record.id);
    return { ids: all.slice(offset, offset + count), total: all.length };
  }

  async members(id: string): Promise<string[]> {
    return [...(this.space.members.get(id) ?? [])];
  }

  watch(onChange: (id: string) => void): () => void {
    this.space.watchers.add(onChange);
    return () => this.space.watchers.delete(onChange);
  }

  /** Checks an account and, when it may spend, reserves `cost` (admit.lua's rules). */
  charge(id: string, cost: number, commit: boolean, enforceBudget = true): AccountCheck {
    const e = this.space.entries.get(id);
    if (!e) return { ok: false, reason: 'account_missing' };
    if (e.record.blocked) return { ok: false, reason: 'account_blocked' };
    const t = this.now();
    if (e.record.expiresAt !== undefined && t >= e.record.expiresAt) {
      return { ok: false, reason: 'account_expired', limitValue: e.record.expiresAt };
    }
    this.resetIfDue(e);
    if (enforceBudget && e.record.maxBudget !== undefined && e.spend >= e.record.maxBudget) {
      return { ok: false, reason: 'account_budget', spend: e.spend, limitValue: e.record.maxBudget };
    }
    if (commit) e.spend += Math.max(0, cost);
    return { ok: true, spend: e.spend, period: e.record.budget?.resetAt ?? 0 };
  }

  /** Moves a reservation to the real cost (settle.lua's rules). */
  settle(id: string, reserved: number, actual: number, period: number): void {
    const e = this.space.entries.get(id);
    if (!e) return;
    this.resetIfDue(e);
    const same = (e.record.budget?.resetAt ?? 0) === period;
    e.spend = Math.max(0, e.spend + (same ? actual - reserved : actual));
  }

  private membersOf(id: string): Set<string> {
    let set = this.space.members.get(id);
    if (!set) {
      set = new Set();
      this.space.members.set(id, set);
    }
    return set;
  }

  /** Removes one record with its alias and its place in its parents' member sets. */
  private drop(id: string): void {
    const e = this.space.entries.get(id);
    if (!e) return;
    this.space.entries.delete(id);
    const alias = e.record.alias;
    if (alias !== undefined && this.space.aliases.get(alias) === id) this.space.aliases.delete(alias);
    for (const p of e.record.parents ?? []) this.space.members.get(p)?.delete(id);
    this.changed(id);
  }

  private resetIfDue(e: Entry): void {
    const budget = e.record.budget;
    const t = this.now();
    if (budget && t >= budget.resetAt) {
      e.record = { ...e.record, budget: { ...budget, resetAt: nextReset(budget, t) } };
      e.spend = 0;
    }
  }

  private changed(id: string): void {
    for (const w of this.space.watchers) w(id);
  }
}
