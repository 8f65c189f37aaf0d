import {
  type AccountRecord,
  type AccountStore,
  type CreateResult,
  nextReset,
  type RekeyResult,
  type StoredAccount,
  type UpdateResult,
} from './accounts.js';
import type { BlockReason } from './types.js';

interface Entry {
  record: AccountRecord;
  spend: number;
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
 * same rules as admit.lua.
 */
export class MemoryAccounts implements AccountStore {
  private readonly entries = new Map<string, Entry>();
  private readonly aliases = new Map<string, string>();
  private readonly watchers = new Set<(id: string) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  async create(record: AccountRecord, spend: number): Promise<CreateResult> {
    if (this.entries.has(record.id)) return 'exists';
    if (record.alias !== undefined && this.aliases.has(record.alias)) return 'alias_taken';
    this.entries.set(record.id, { record, spend });
    if (record.alias !== undefined) this.aliases.set(record.alias, record.id);
    this.changed(record.id);
    return 'created';
  }

  async get(id: string): Promise<StoredAccount | undefined> {
    const e = this.entries.get(id);
    if (!e) return undefined;
    this.resetIfDue(e);
    return { ...e.record, spend: e.spend };
  }

  async byAlias(alias: string): Promise<string | undefined> {
    return this.aliases.get(alias);
  }

  async update(record: AccountRecord, spend?: number): Promise<UpdateResult> {
    const e = this.entries.get(record.id);
    if (!e) return 'missing';
    if (record.alias !== undefined && record.alias !== e.record.alias && this.aliases.has(record.alias)) {
      return 'alias_taken';
    }
    if (e.record.alias !== undefined) this.aliases.delete(e.record.alias);
    if (record.alias !== undefined) this.aliases.set(record.alias, record.id);
    e.record = record;
    if (spend !== undefined) e.spend = spend;
    this.changed(record.id);
    return 'updated';
  }

  async delete(ids: readonly string[]): Promise<string[]> {
    const deleted: string[] = [];
    for (const id of ids) {
      const e = this.entries.get(id);
      if (!e) continue;
      this.entries.delete(id);
      if (e.record.alias !== undefined && this.aliases.get(e.record.alias) === id)
        this.aliases.delete(e.record.alias);
      deleted.push(id);
      this.changed(id);
    }
    return deleted;
  }

  async rekey(oldId: string, newId: string): Promise<RekeyResult> {
    const e = this.entries.get(oldId);
    if (!e) return 'missing';
    if (this.entries.has(newId)) return 'exists';
    this.entries.delete(oldId);
    e.record = { ...e.record, id: newId };
    this.entries.set(newId, e);
    if (e.record.alias !== undefined) this.aliases.set(e.record.alias, newId);
    this.changed(oldId);
    this.changed(newId);
    return 'rekeyed';
  }

  async list(offset: number, count: number): Promise<{ ids: string[]; total: number }> {
    const all = [...this.entries.values()]
      .sort((a, b) => b.record.createdAt - a.record.createdAt)
      .map((e) => e.record.id);
    return { ids: all.slice(offset, offset + count), total: all.length };
  }

  watch(onChange: (id: string) => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  /** Checks an account and, when it may spend, reserves `cost` (admit.lua's rules). */
  charge(id: string, cost: number, commit: boolean): AccountCheck {
    const e = this.entries.get(id);
    if (!e) return { ok: false, reason: 'account_missing' };
    if (e.record.blocked) return { ok: false, reason: 'account_blocked' };
    const t = this.now();
    if (e.record.expiresAt !== undefined && t >= e.record.expiresAt) {
      return { ok: false, reason: 'account_expired', limitValue: e.record.expiresAt };
    }
    this.resetIfDue(e);
    if (e.record.maxBudget !== undefined && e.spend >= e.record.maxBudget) {
      return { ok: false, reason: 'account_budget', spend: e.spend, limitValue: e.record.maxBudget };
    }
    if (commit) e.spend += Math.max(0, cost);
    return { ok: true, spend: e.spend, period: e.record.budget?.resetAt ?? 0 };
  }

  /** Moves a reservation to the real cost (settle.lua's rules). */
  settle(id: string, reserved: number, actual: number, period: number): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.resetIfDue(e);
    const same = (e.record.budget?.resetAt ?? 0) === period;
    e.spend = Math.max(0, e.spend + (same ? actual - reserved : actual));
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
    for (const w of this.watchers) w(id);
  }
}
