import {
  type AccountRecord,
  type AccountStore,
  type BudgetPeriod,
  type CreateResult,
  nextReset,
  type RekeyResult,
  type StoredAccount,
  type UpdateResult,
} from './accounts.js';
import { createKeyLayout } from './keys.js';
import type { RedisClient } from './redis-store.js';
import {
  ACCOUNT_CREATE_LUA,
  ACCOUNT_DELETE_LUA,
  ACCOUNT_REKEY_LUA,
  ACCOUNT_UPDATE_LUA,
} from './scripts/accounts.js';

export interface RedisAccountsOptions {
  /** The fleet's namespace (as the fleet store's). @default 'fleetgate' */
  readonly namespace?: string;
  /** How often replicas look for changes; a change reaches every replica within this. @default 250 */
  readonly pollMs?: number;
}

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;

/**
 * Accounts in Redis, next to the windows they are limited by. Every change bumps a version key;
 * each replica reads it every `pollMs` and drops its cached records when it moved — so a deleted,
 * blocked or changed key is seen everywhere within `pollMs` plus one round trip, and admission
 * (which reads the record itself) refuses a deleted or blocked key at once regardless.
 */
export function createRedisAccounts(client: RedisClient, options: RedisAccountsOptions = {}): AccountStore {
  const layout = createKeyLayout(options.namespace ?? 'fleetgate');
  const prefix = layout.prefix;
  const recordKey = layout.account;
  const aliasKey = (alias: string) => `${prefix}alias:${alias}`;
  const index = `${prefix}accounts`;
  const version = `${prefix}accounts:version`;
  const define = (name: string, lua: string): ScriptCall => {
    client.defineCommand(name, { lua });
    return (client as unknown as Record<string, ScriptCall>)[name]!.bind(client) as ScriptCall;
  };
  const create = define('fleetgateAccountCreate', ACCOUNT_CREATE_LUA);
  const update = define('fleetgateAccountUpdate', ACCOUNT_UPDATE_LUA);
  const remove = define('fleetgateAccountDelete', ACCOUNT_DELETE_LUA);
  const rekey = define('fleetgateAccountRekey', ACCOUNT_REKEY_LUA);

  const read = async (id: string): Promise<StoredAccount | undefined> => {
    const h = await client.hgetall(recordKey(id));
    return h['spend'] === undefined ? undefined : fromHash(id, h, Date.now());
  };

  return {
    async create(record, spend): Promise<CreateResult> {
      const alias = record.alias ?? '';
      const fields = toFields(record, spend);
      return (await create(
        4,
        recordKey(record.id),
        aliasKey(alias),
        index,
        version,
        record.id,
        alias,
        record.createdAt,
        ...fields,
      )) as CreateResult;
    },
    get: read,
    async byAlias(alias) {
      return (await client.get(aliasKey(alias))) ?? undefined;
    },
    async update(record, spend): Promise<UpdateResult> {
      for (let attempt = 0; attempt < 5; attempt++) {
        const current = await client.hmget(recordKey(record.id), 'alias', 'reset_at');
        const oldAlias = current[0] ?? '';
        const newAlias = record.alias ?? '';
        const budget = budgetArg(record.budget, current[1]);
        const fields = toFields(record, undefined, false);
        const result = (await update(
          4,
          recordKey(record.id),
          aliasKey(oldAlias),
          aliasKey(newAlias),
          version,
          oldAlias,
          newAlias,
          spend === undefined ? '' : String(spend),
          budget,
          ...fields,
        )) as UpdateResult | 'retry';
        if (result !== 'retry') return result;
      }
      throw new Error(`account ${record.id} kept changing alias under the update`);
    },
    async delete(ids) {
      const deleted: string[] = [];
      for (const id of ids) {
        const alias = (await client.hget(recordKey(id), 'alias')) ?? '';
        if (Number(await remove(4, recordKey(id), aliasKey(alias), index, version, id, alias)) === 1)
          deleted.push(id);
      }
      return deleted;
    },
    async rekey(oldId, newId): Promise<RekeyResult> {
      const alias = (await client.hget(recordKey(oldId), 'alias')) ?? '';
      return (await rekey(
        5,
        recordKey(oldId),
        recordKey(newId),
        aliasKey(alias),
        index,
        version,
        oldId,
        newId,
        alias,
      )) as RekeyResult;
    },
    async list(offset, count) {
      const [ids, total] = await Promise.all([
        client.zrevrange(index, offset, offset + count - 1),
        client.zcard(index),
      ]);
      return { ids, total };
    },
    watch(onChange) {
      let last: string | null | undefined;
      const timer = setInterval(() => {
        client.get(version).then(
          (v) => {
            if (last !== undefined && v !== last) onChange('*');
            last = v;
          },
          () => {
            // Redis away: nothing to learn now; the next read that succeeds will compare again.
          },
        );
      }, options.pollMs ?? 250);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

/** The record as HSET field/value pairs (the budget schedule too, unless the update handles it). */
function toFields(r: AccountRecord, spend: number | undefined, withBudget = true): Array<string | number> {
  const f: Array<string | number> = [
    'id',
    r.id,
    'blocked',
    r.blocked ? '1' : '0',
    'created',
    r.createdAt,
    'doc',
    r.doc,
  ];
  if (spend !== undefined) f.push('spend', spend);
  if (r.alias !== undefined) f.push('alias', r.alias);
  if (r.expiresAt !== undefined) f.push('expires', r.expiresAt);
  if (r.maxBudget !== undefined) f.push('max_budget', r.maxBudget);
  if (r.budget && withBudget) {
    f.push('reset_at', r.budget.resetAt);
    f.push(
      ...('ms' in r.budget.every ? ['every_ms', r.budget.every.ms] : ['every_mo', r.budget.every.months]),
    );
  }
  return f;
}

/**
 * What the update does with the budget: keep the stored reset time when the schedule is unchanged
 * (admission may have moved it on since it was read), replace it when it changed, drop it when gone.
 */
function budgetArg(budget: BudgetPeriod | undefined, storedResetAt: string | null | undefined): string {
  if (!budget) return 'none';
  if (storedResetAt !== null && storedResetAt !== undefined && budget.resetAt === Number(storedResetAt))
    return 'keep';
  const every = budget.every;
  return `${budget.resetAt}:${'ms' in every ? every.ms : ''}:${'months' in every ? every.months : ''}`;
}

function fromHash(id: string, h: Record<string, string>, now: number): StoredAccount {
  let budget: BudgetPeriod | undefined;
  if (h['reset_at'] !== undefined) {
    const every =
      h['every_ms'] !== undefined ? { ms: Number(h['every_ms']) } : { months: Number(h['every_mo'] ?? 1) };
    budget = { resetAt: Number(h['reset_at']), every };
  }
  let spend = Number(h['spend'] ?? 0);
  // A reset admission has not applied yet still counts: show what the next admission will see.
  if (budget && now >= budget.resetAt) {
    budget = { ...budget, resetAt: nextReset(budget, now) };
    spend = 0;
  }
  return {
    id,
    alias: h['alias'],
    blocked: h['blocked'] === '1',
    expiresAt: h['expires'] === undefined ? undefined : Number(h['expires']),
    maxBudget: h['max_budget'] === undefined ? undefined : Number(h['max_budget']),
    budget,
    createdAt: Number(h['created'] ?? 0),
    doc: h['doc'] ?? '{}',
    spend,
  };
}
