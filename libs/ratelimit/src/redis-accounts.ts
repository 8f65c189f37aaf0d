import {
  type AccountRecord,
  type AccountStore,
  type BudgetPeriod,
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
  /** The collection this store lists (see `AccountStore.collection`). @default '' (virtual keys) */
  readonly collection?: string;
}

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
type Scripts = Record<'create' | 'update' | 'remove' | 'rekey', ScriptCall>;

/** How many times a write is retried when a record's alias or parents changed under it. */
const ATTEMPTS = 5;

/**
 * Accounts in Redis, next to the windows they are limited by. Every change bumps a version key;
 * each replica reads it every `pollMs` and drops its cached records when it moved — so a deleted,
 * blocked or changed key is seen everywhere within `pollMs` plus one round trip, and admission
 * (which reads the records itself) refuses a deleted or blocked key or team at once regardless.
 */
export function createRedisAccounts(client: RedisClient, options: RedisAccountsOptions = {}): AccountStore {
  const define = (name: string, lua: string): ScriptCall => {
    client.defineCommand(name, { lua });
    return (client as unknown as Record<string, ScriptCall>)[name]!.bind(client) as ScriptCall;
  };
  const scripts: Scripts = {
    create: define('fleetgateAccountCreate', ACCOUNT_CREATE_LUA),
    update: define('fleetgateAccountUpdate', ACCOUNT_UPDATE_LUA),
    remove: define('fleetgateAccountDelete', ACCOUNT_DELETE_LUA),
    rekey: define('fleetgateAccountRekey', ACCOUNT_REKEY_LUA),
  };
  return redisCollection(client, options, scripts, checkCollection(options.collection ?? ''));
}

function redisCollection(
  client: RedisClient,
  options: RedisAccountsOptions,
  scripts: Scripts,
  collection: string,
): AccountStore {
  const layout = createKeyLayout(options.namespace ?? 'fleetgate');
  const prefix = layout.prefix;
  const recordKey = layout.account;
  const aliasKey = (alias: string) => `${prefix}alias:${alias}`;
  const membersKey = (id: string) => `${prefix}members:${id}`;
  // Keys keep the list they always had; the other collections get their own.
  const listName = (name: string) => (name === '' ? 'accounts' : `list:${checkCollection(name)}`);
  const indexName = listName(collection);
  const index = `${prefix}${indexName}`;
  const version = `${prefix}accounts:version`;

  const read = async (id: string): Promise<StoredAccount | undefined> => {
    const h = await client.hgetall(recordKey(id));
    return h['spend'] === undefined ? undefined : fromHash(id, h, Date.now());
  };

  async function createAll(
    entries: readonly NewAccount[],
    options: WriteOptions = {},
  ): Promise<CreateAllResult> {
    const must = new Set(options.mustExist ?? []);
    const keys: string[] = [version];
    const args: Array<string | number> = [entries.length];
    for (const { record, spend, collection: own } of entries) {
      const alias = record.alias ?? '';
      const parents = checkParents(record.parents);
      const list = own === undefined ? indexName : listName(own);
      keys.push(recordKey(record.id), aliasKey(alias), `${prefix}${list}`);
      args.push(record.id, alias, record.createdAt, list, parents.length);
      for (const p of parents) {
        keys.push(recordKey(p), membersKey(p));
        args.push(p, must.has(p) ? '1' : '0');
      }
      const fields = toFields(record, spend);
      args.push(fields.length, ...fields);
    }
    const reply = (await scripts.create(keys.length, ...keys, ...args)) as [CreateResult, string?];
    return { result: reply[0], id: reply[1] };
  }

  return {
    async create(record, spend, options): Promise<CreateResult> {
      return (await createAll([{ record, spend }], options)).result;
    },
    createAll,
    get: read,
    async byAlias(alias) {
      return (await client.get(aliasKey(alias))) ?? undefined;
    },
    async update(record, spend, options = {}): Promise<UpdateResult> {
      const must = new Set(options.mustExist ?? []);
      const parents = checkParents(record.parents);
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const [oldAlias = '', resetAt, oldParents = ''] = await client.hmget(
          recordKey(record.id),
          'alias',
          'reset_at',
          'parents',
        );
        const newAlias = record.alias ?? '';
        const keys = [recordKey(record.id), aliasKey(oldAlias ?? ''), aliasKey(newAlias), version];
        for (const p of splitParents(oldParents)) keys.push(membersKey(p));
        for (const p of parents) keys.push(recordKey(p), membersKey(p));
        const result = (await scripts.update(
          keys.length,
          ...keys,
          oldAlias ?? '',
          newAlias,
          spend === undefined ? '' : String(spend),
          budgetArg(record.budget, resetAt),
          oldParents ?? '',
          parents.join('\n'),
          parents.map((p) => (must.has(p) ? '1' : '0')).join(''),
          ...toFields(record, undefined, false),
        )) as UpdateResult | 'retry';
        if (result !== 'retry') return result;
      }
      throw new Error(`account ${record.id} kept changing alias or parents under the update`);
    },
    async delete(ids) {
      const deleted: string[] = [];
      for (const id of ids) {
        for (let attempt = 0; ; attempt++) {
          const [alias = '', parents = '', own] = await client.hmget(
            recordKey(id),
            'alias',
            'parents',
            'index',
          );
          const keys = [
            recordKey(id),
            aliasKey(alias ?? ''),
            `${prefix}${own ?? indexName}`,
            version,
            membersKey(id),
            ...splitParents(parents).map(membersKey),
          ];
          const n = Number(
            await scripts.remove(keys.length, ...keys, id, alias ?? '', parents ?? '', prefix),
          );
          if (n >= 0) deleted.push(id);
          if (n !== -2) break;
          if (attempt >= ATTEMPTS) throw new Error(`account ${id} kept changing under the delete`);
        }
      }
      return deleted;
    },
    async rekey(oldId, newId): Promise<RekeyResult> {
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const [alias = '', parents = ''] = await client.hmget(recordKey(oldId), 'alias', 'parents');
        const keys = [
          recordKey(oldId),
          recordKey(newId),
          aliasKey(alias ?? ''),
          index,
          version,
          ...splitParents(parents).map(membersKey),
        ];
        const result = (await scripts.rekey(
          keys.length,
          ...keys,
          oldId,
          newId,
          alias ?? '',
          parents ?? '',
        )) as RekeyResult | 'retry';
        if (result !== 'retry') return result;
      }
      throw new Error(`account ${oldId} kept changing parents under the rekey`);
    },
    async list(offset, count) {
      const [ids, total] = await Promise.all([
        client.zrevrange(index, offset, offset + count - 1),
        client.zcard(index),
      ]);
      return { ids, total };
    },
    members: (id) => client.smembers(membersKey(id)),
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
    collection: (name) => redisCollection(client, options, scripts, checkCollection(name)),
  };
}

function checkParents(parents: readonly string[] | undefined): readonly string[] {
  for (const p of parents ?? []) {
    if (p === '' || p.includes('\n'))
      throw new Error(`parent id must be non-empty without newlines: ${JSON.stringify(p)}`);
  }
  return parents ?? [];
}

const splitParents = (text: string | null | undefined): string[] => (text ? text.split('\n') : []);

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
    parents: h['parents'] === undefined ? undefined : splitParents(h['parents']),
    spend,
  };
}
