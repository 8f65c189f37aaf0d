import { describe, expect, it } from 'vitest';
import { type AccountRecord, type AccountStore, addMonths, nextReset } from './accounts.js';
import type { Admission, FleetStore } from './types.js';

/** One contract for account storage and for admission with an account, run on both stores. */
export interface AccountHarness {
  readonly accounts: AccountStore;
  readonly store: FleetStore;
  /** The store's clock now (ms). */
  now(): number;
}

let seq = 0;
const record = (over: Partial<AccountRecord> = {}): AccountRecord => ({
  id: `acct-${++seq}-${Math.random().toString(36).slice(2)}`,
  blocked: false,
  createdAt: Date.now() + seq,
  doc: JSON.stringify({ n: seq }),
  ...over,
});
const d = () => ({ id: `d:${++seq}`, limits: {} });
const admit = (h: AccountHarness, id: string, cost: number) =>
  h.store.admit({ candidates: [d()], tokens: 0, leaseId: `l${++seq}`, account: { id, cost } });

function refused(a: Admission) {
  if (a.admitted) throw new Error('expected a refusal');
  return a;
}

export function describeAccounts(name: string, make: () => Promise<AccountHarness>): void {
  describe(`${name} accounts`, () => {
    it('creates, reads, finds by alias, lists newest first', async () => {
      const h = await make();
      const a = record({ alias: `alias-${seq}`, maxBudget: 10, expiresAt: 4_000_000_000_000 });
      expect(await h.accounts.create(a, 1.5)).toBe('created');
      expect(await h.accounts.create(a, 0)).toBe('exists');
      expect(await h.accounts.create(record({ alias: a.alias }), 0)).toBe('alias_taken');
      expect(await h.accounts.get(a.id)).toMatchObject({ ...a, spend: 1.5 });
      expect(await h.accounts.byAlias(a.alias!)).toBe(a.id);
      const b = record({ createdAt: a.createdAt + 1 });
      await h.accounts.create(b, 0);
      const page = await h.accounts.list(0, 1000);
      expect(page.ids.indexOf(b.id)).toBeLessThan(page.ids.indexOf(a.id));
      expect(page.total).toBeGreaterThanOrEqual(2);
    });

    it('updates fields, keeps spend unless told, moves the alias, keeps aliases unique', async () => {
      const h = await make();
      const a = record({ alias: `a-${seq}` });
      const b = record({ alias: `b-${seq}` });
      await h.accounts.create(a, 2);
      await h.accounts.create(b, 0);
      expect(await h.accounts.update({ ...a, alias: b.alias })).toBe('alias_taken');
      expect(await h.accounts.update({ ...a, alias: `c-${seq}`, blocked: true, maxBudget: 5 })).toBe(
        'updated',
      );
      expect(await h.accounts.get(a.id)).toMatchObject({
        alias: `c-${seq}`,
        blocked: true,
        maxBudget: 5,
        spend: 2,
      });
      expect(await h.accounts.byAlias(`c-${seq}`)).toBe(a.id);
      expect(await h.accounts.byAlias(a.alias!)).toBeUndefined();
      expect(await h.accounts.update({ ...a, alias: undefined, maxBudget: undefined }, 0)).toBe('updated');
      expect(await h.accounts.get(a.id)).toMatchObject({ alias: undefined, maxBudget: undefined, spend: 0 });
      expect(await h.accounts.update(record())).toBe('missing');
    });

    it('deletes and rekeys: the old id is gone at once, spend and alias carry over', async () => {
      const h = await make();
      const a = record({ alias: `r-${seq}` });
      await h.accounts.create(a, 3);
      const newId = `${a.id}-new`;
      expect(await h.accounts.rekey(a.id, newId)).toBe('rekeyed');
      expect(await h.accounts.get(a.id)).toBeUndefined();
      expect(await h.accounts.get(newId)).toMatchObject({ id: newId, spend: 3, alias: a.alias });
      expect(await h.accounts.byAlias(a.alias!)).toBe(newId);
      refused(await admit(h, a.id, 0));
      expect(await h.accounts.delete([newId, 'nope'])).toEqual([newId]);
      expect(await h.accounts.byAlias(a.alias!)).toBeUndefined();
      expect(refused(await admit(h, newId, 0)).reason).toBe('account_missing');
    });

    it('admits a valid account and charges it, settling the estimate to the real cost', async () => {
      const h = await make();
      const a = record({ maxBudget: 1 });
      await h.accounts.create(a, 0);
      const first = await admit(h, a.id, 0.25);
      if (!first.admitted) throw new Error(first.reason);
      expect(first.spend).toBeCloseTo(0.25);
      await h.store.settle(first.ticket, 0, 'success', 0.1);
      expect((await h.accounts.get(a.id))?.spend).toBeCloseTo(0.1);
      // A request whose replica died is never settled: it stays charged its estimate.
      const orphan = await admit(h, a.id, 0.5);
      expect(orphan.admitted).toBe(true);
      expect((await h.accounts.get(a.id))?.spend).toBeCloseTo(0.6);
      const last = await admit(h, a.id, 0.5);
      expect(last.admitted).toBe(true);
      const over = refused(await admit(h, a.id, 0.01));
      expect(over).toMatchObject({ reason: 'account_budget', limitValue: 1 });
      expect(over.spend).toBeCloseTo(1.1);
    });

    it('refuses blocked and expired accounts, saying when it expired', async () => {
      const h = await make();
      const blocked = record({ blocked: true });
      const expired = record({ expiresAt: h.now() - 1_000 });
      await h.accounts.create(blocked, 0);
      await h.accounts.create(expired, 0);
      expect(refused(await admit(h, blocked.id, 0)).reason).toBe('account_blocked');
      expect(refused(await admit(h, expired.id, 0))).toMatchObject({
        reason: 'account_expired',
        limitValue: expired.expiresAt,
      });
    });

    it('resets spend when the budget period turns, stepping by calendar months', async () => {
      const h = await make();
      const resetAt = addMonths(h.now(), -3);
      const a = record({ maxBudget: 1, budget: { resetAt, every: { months: 1 } } });
      await h.accounts.create(a, 5);
      const admitted = await admit(h, a.id, 0.2);
      if (!admitted.admitted) throw new Error(admitted.reason);
      expect(admitted.spend).toBeCloseTo(0.2);
      const stored = await h.accounts.get(a.id);
      expect(stored?.budget?.resetAt).toBe(nextReset({ resetAt, every: { months: 1 } }, h.now()));
      expect(stored?.budget?.resetAt).toBeGreaterThan(h.now());
    });

    it('charges a request that straddles a reset to the new period at its real cost', async () => {
      const h = await make();
      const a = record({ budget: { resetAt: h.now() + 60_000, every: { ms: 86_400_000 } } });
      await h.accounts.create(a, 0);
      const r = await admit(h, a.id, 0.5);
      if (!r.admitted) throw new Error(r.reason);
      // The period turns while the request runs (a reset on schedule zeroes the spend).
      await h.accounts.update({ ...a, budget: { resetAt: h.now() - 1, every: { ms: 86_400_000 } } }, 0);
      await h.store.settle(
        { ...r.ticket, account: { ...r.ticket.account!, period: a.budget!.resetAt } },
        0,
        'success',
        0.3,
      );
      expect((await h.accounts.get(a.id))?.spend).toBeCloseTo(0.3);
    });
  });
}
