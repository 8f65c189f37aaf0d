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
  h.store.admit({ candidates: [d()], tokens: 0, leaseId: `l${++seq}`, accounts: [{ id, cost }] });

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
        { ...r.ticket, accounts: [{ ...r.ticket.accounts![0]!, period: a.budget!.resetAt }] },
        0,
        'success',
        0.3,
      );
      expect((await h.accounts.get(a.id))?.spend).toBeCloseTo(0.3);
    });

    it("never carries a finished period's spend into a record changed before an admission reset it", async () => {
      const h = await make();
      const a = record({ maxBudget: 1, budget: { resetAt: h.now() - 1_000, every: { ms: 86_400_000 } } });
      await h.accounts.create(a, 0.9);
      const stored = await h.accounts.get(a.id);
      expect(stored?.spend).toBe(0);
      expect(await h.accounts.update({ ...stored!, maxBudget: 2 })).toBe('updated');
      expect((await h.accounts.get(a.id))?.spend).toBe(0);
      const r = await admit(h, a.id, 0.5);
      if (!r.admitted) throw new Error(r.reason);
      expect(r.spend).toBeCloseTo(0.5);
    });

    it('keeps collections apart in listings while sharing records and relations', async () => {
      const h = await make();
      const teams = h.accounts.collection('teams');
      const team = record({ id: `team:${seq}` });
      expect(await teams.create(team, 0)).toBe('created');
      expect((await teams.list(0, 1000)).ids).toEqual([team.id]);
      expect((await h.accounts.list(0, 1000)).ids).not.toContain(team.id);
      expect(await h.accounts.get(team.id)).toMatchObject({ id: team.id });
      expect(() => h.accounts.collection('Bad')).toThrow(/lower-case/);
    });

    it('refuses a record whose required parent is missing, writing nothing', async () => {
      const h = await make();
      const teams = h.accounts.collection('teams');
      const key = record({ parents: ['team:nowhere', 'user:optional'] });
      expect(await h.accounts.create(key, 0, { mustExist: ['team:nowhere'] })).toBe('parent_missing');
      expect(await h.accounts.get(key.id)).toBeUndefined();
      const team = record({ id: `team:${seq}` });
      await teams.create(team, 0);
      const ok = { ...key, parents: [team.id, 'user:optional'] };
      expect(await h.accounts.create(ok, 0, { mustExist: [team.id] })).toBe('created');
      expect(await h.accounts.get(ok.id)).toMatchObject({ parents: [team.id, 'user:optional'] });
      expect(await h.accounts.members(team.id)).toEqual([ok.id]);
      expect(await h.accounts.members('user:optional')).toEqual([ok.id]);
      // Moving the key to another team that does not exist changes nothing.
      expect(
        await h.accounts.update({ ...ok, parents: ['team:gone'] }, 7, { mustExist: ['team:gone'] }),
      ).toBe('parent_missing');
      expect(await h.accounts.get(ok.id)).toMatchObject({ parents: [team.id, 'user:optional'], spend: 0 });
      expect(await h.accounts.update({ ...ok, parents: ['user:optional'] })).toBe('updated');
      expect(await h.accounts.members(team.id)).toEqual([]);
    });

    it('creates several records all or none', async () => {
      const h = await make();
      const taken = record({ alias: `taken-${seq}` });
      await h.accounts.create(taken, 0);
      const user = record({ id: `user:${seq}` });
      const key = record({ alias: taken.alias, parents: [user.id] });
      expect(
        await h.accounts.createAll(
          [
            { record: user, spend: 0 },
            { record: key, spend: 0 },
          ],
          { mustExist: [user.id] },
        ),
      ).toEqual({ result: 'alias_taken', id: key.id });
      expect(await h.accounts.get(user.id)).toBeUndefined();
      const fine = { ...key, alias: undefined };
      expect(
        await h.accounts.createAll(
          [
            { record: user, spend: 0 },
            { record: fine, spend: 0 },
          ],
          { mustExist: [user.id] },
        ),
      ).toEqual({ result: 'created' });
      expect(await h.accounts.members(user.id)).toEqual([fine.id]);
      // Each record is listed by its own collection.
      const users = h.accounts.collection('users');
      const other = record({ id: `user:${seq}` });
      const itsKey = record({ parents: [other.id] });
      await users.createAll([
        { record: other, spend: 0 },
        { record: itsKey, spend: 0, collection: '' },
      ]);
      expect((await users.list(0, 10_000)).ids).toContain(other.id);
      expect((await users.list(0, 10_000)).ids).not.toContain(itsKey.id);
      expect((await h.accounts.list(0, 10_000)).ids).toContain(itsKey.id);
      await users.delete([other.id]);
      expect((await h.accounts.list(0, 10_000)).ids).not.toContain(itsKey.id);
    });

    it('deletes an account with the accounts that belong to it, and nothing else', async () => {
      const h = await make();
      const team = record({ id: `team:${seq}` });
      const user = `user:${seq}`;
      await h.accounts.create(team, 0);
      const inTeam = record({ alias: `in-${seq}`, parents: [team.id, user] });
      const other = record({ parents: [user] });
      await h.accounts.create(inTeam, 0);
      await h.accounts.create(other, 0);
      expect(await h.accounts.delete([team.id])).toEqual([team.id]);
      expect(await h.accounts.get(inTeam.id)).toBeUndefined();
      expect(await h.accounts.byAlias(inTeam.alias!)).toBeUndefined();
      expect((await h.accounts.list(0, 10_000)).ids).not.toContain(inTeam.id);
      expect(await h.accounts.get(other.id)).toBeDefined();
      expect(await h.accounts.members(user)).toEqual([other.id]);
      expect(refused(await admit(h, inTeam.id, 0)).reason).toBe('account_missing');
    });

    it('rekeys a member: its parents follow the new id', async () => {
      const h = await make();
      const team = record({ id: `team:${seq}` });
      await h.accounts.create(team, 0);
      const key = record({ parents: [team.id] });
      await h.accounts.create(key, 0);
      expect(await h.accounts.rekey(key.id, `${key.id}-2`)).toBe('rekeyed');
      expect(await h.accounts.members(team.id)).toEqual([`${key.id}-2`]);
    });

    it('checks and charges several accounts in one admission, naming the one that refuses', async () => {
      const h = await make();
      const key = record();
      const team = record({ maxBudget: 1 });
      const user = record({ maxBudget: 0 });
      for (const r of [key, team, user]) await h.accounts.create(r, 0);
      const charges = (cost: number, userBudget = false) => [
        { id: key.id, cost },
        { id: team.id, cost },
        { id: user.id, cost, enforceBudget: userBudget },
      ];
      const ask = (cost: number, userBudget?: boolean) =>
        h.store.admit({
          candidates: [d()],
          tokens: 0,
          leaseId: `l${++seq}`,
          accounts: charges(cost, userBudget),
        });
      // The user's budget (0) is not enforced on this request, but the user is charged.
      const first = await ask(0.6);
      if (!first.admitted) throw new Error(first.reason);
      expect(first.spend).toBeCloseTo(0.6);
      expect(first.ticket.accounts?.map((a) => a.id)).toEqual([key.id, team.id, user.id]);
      await h.store.settle(first.ticket, 0, 'success', 0.7);
      for (const r of [key, team, user]) expect((await h.accounts.get(r.id))?.spend).toBeCloseTo(0.7);
      expect(refused(await ask(0.1, true))).toMatchObject({ reason: 'account_budget', accountIndex: 2 });
      expect((await ask(0.4)).admitted).toBe(true);
      const over = refused(await ask(0.1));
      expect(over).toMatchObject({ reason: 'account_budget', accountIndex: 1, limitValue: 1 });
      expect(over.spend).toBeCloseTo(1.1);
      // A refusal charges nobody.
      expect((await h.accounts.get(key.id))?.spend).toBeCloseTo(1.1);
      await h.accounts.update({ ...team, blocked: true });
      expect(refused(await ask(0))).toMatchObject({ reason: 'account_blocked', accountIndex: 1 });
      await h.accounts.delete([user.id]);
      await h.accounts.update({ ...team, blocked: false, maxBudget: undefined });
      expect(refused(await ask(0))).toMatchObject({ reason: 'account_missing', accountIndex: 2 });
    });
  });
}
