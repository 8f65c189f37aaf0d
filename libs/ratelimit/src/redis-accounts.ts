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
import { type AccountState, packAccount, unpackAccount } from './scripts/account-state.js';
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
  /**
   * The clock a record's due budget reset is judged by when it is read: Redis's, as the fleet
   * store estimates it (`RedisFleetStore.now`), so reads agree with the scripts. @default Date.now
   */
  readonly now?: () => number;
}

type ScriptCall = (...args: Array<string | number | Buffer>) => Promise<unknown>;
type Scripts = Record<'create' | 'update' | 'remove' | 'rekey', ScriptCall>;

/** What the collections of one store share: its scripts, and this process's watchers. */
interface Shared {
  readonly scripts: Scripts;
  readonly watchers: Set<(id: string) => void>;
}

/** How many times a write is retried when a record's alias or parents changed under it. */
const ATTEMPTS = 5;

/**
 * Accounts in Redis, next to the windows they are limited by. Every change bumps a version key;
 * each replica reads it every `pollMs` and drops its cached records when it moved — so a deleted,
 * blocked or changed key is seen everywhere within `pollMs` plus one round trip (and at once by the
 * replica that made the change, whose watchers are told when its write returns), and admission
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
  return redisCollection(
    client,
    options,
    { scripts, watchers: new Set() },
    checkCollection(options.collection ?? ''),
  );
}

function redisCollection(
  client: RedisClient,
  options: RedisAccountsOptions,
  shared: Shared,
  collection: string,
): AccountStore {
  const { scripts } = shared;
  /** A change made through this process is announced here at once; other replicas learn it by polling. */
  const changed = <T>(result: T): T => {
    for (const w of shared.watchers) w('*');
    return result;
  };
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
    const h = await client.hgetallBuffer(recordKey(id));
    return fromHash(id, h, (options.now ?? Date.now)());
  };

  async function createAll(
    entries: readonly NewAccount[],
    options: WriteOptions = {},
  ): Promise<CreateAllResult> {
    const must = new Set(options.mustExist ?? []);
    const keys: string[] = [version];
    const args: Array<string | number | Buffer> = [entries.length];
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
    return changed({ result: reply[0], id: reply[1] });
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
        const [aliasBytes, state, legacyResetAt, parentsBytes] = await client.hmgetBuffer(
          recordKey(record.id),
          'alias',
          'a',
          'reset_at',
          'parents',
        );
        const oldAlias = aliasBytes?.toString() ?? '';
        const oldParents = parentsBytes?.toString() ?? '';
        const resetAt = state
          ? unpackAccount(state).resetAt
          : legacyResetAt
            ? Number(legacyResetAt.toString())
            : undefined;
        const newAlias = record.alias ?? '';
        const keys = [recordKey(record.id), aliasKey(oldAlias), aliasKey(newAlias), version];
        for (const p of splitParents(oldParents)) keys.push(membersKey(p));
        for (const p of parents) keys.push(recordKey(p), membersKey(p));
        const result = (await scripts.update(
          keys.length,
          ...keys,
          oldAlias,
          newAlias,
          spend === undefined ? '' : String(spend),
          budgetArg(record.budget, resetAt),
          oldParents,
          parents.join('\n'),
          parents.map((p) => (must.has(p) ? '1' : '0')).join(''),
          record.blocked ? '1' : '0',
          record.expiresAt === undefined ? '' : String(record.expiresAt),
          record.maxBudget === undefined ? '' : String(record.maxBudget),
          ...descriptive(record),
        )) as UpdateResult | 'retry';
        if (result !== 'retry') return changed(result);
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
      return changed(deleted);
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
        if (result !== 'retry') return changed(result);
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
      shared.watchers.add(onChange);
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
      return () => {
        clearInterval(timer);
        shared.watchers.delete(onChange);
      };
    },
    collection: (name) => redisCollection(client, options, shared, checkCollection(name)),
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

/** The record as HSET field/value pairs: its packed state (account-state.ts) and the rest. */
function toFields(r: AccountRecord, spend: number): Array<string | number | Buffer> {
  const state = packAccount({
    spend,
    blocked: r.blocked,
    expiresAt: r.expiresAt,
    maxBudget: r.maxBudget,
    resetAt: r.budget?.resetAt,
    everyMs: r.budget && 'ms' in r.budget.every ? r.budget.every.ms : undefined,
    everyMonths: r.budget && 'months' in r.budget.every ? r.budget.every.months : undefined,
  });
  return ['a', state, ...descriptive(r)];
}

/** The fields that describe a record rather than limit it. */
function descriptive(r: AccountRecord): Array<string | number> {
  const f: Array<string | number> = ['id', r.id, 'created', r.createdAt, 'doc', r.doc];
  if (r.alias !== undefined) f.push('alias', r.alias);
  return f;
}

/**
 * What the update does with the budget: keep the stored reset time when the schedule is unchanged
 * (admission may have moved it on since it was read), replace it when it changed, drop it when gone.
 */
function budgetArg(budget: BudgetPeriod | undefined, storedResetAt: number | undefined): string {
  if (!budget) return 'none';
  if (storedResetAt !== undefined && budget.resetAt === storedResetAt) return 'keep';
  const every = budget.every;
  return `${budget.resetAt}:${'ms' in every ? every.ms : ''}:${'months' in every ? every.months : ''}`;
}

/** A record as stored: the packed state, or (written before it) the text fields it replaced. */
function fromHash(id: string, raw: Record<string, Buffer>, now: number): StoredAccount | undefined {
  const text = (name: string) => raw[name]?.toString();
  const num = (name: string) => (raw[name] === undefined ? undefined : Number(raw[name].toString()));
  let state: AccountState;
  if (raw['a']) {
    state = unpackAccount(raw['a']);
  } else {
    if (raw['spend'] === undefined) return undefined;
    state = {
      spend: num('spend') ?? 0,
      blocked: text('blocked') === '1',
      expiresAt: num('expires'),
      maxBudget: num('max_budget'),
      resetAt: num('reset_at'),
      everyMs: num('every_ms'),
      everyMonths: num('every_mo'),
    };
  }
  let budget: BudgetPeriod | undefined;
  if (state.resetAt !== undefined) {
    const every = state.everyMs !== undefined ? { ms: state.everyMs } : { months: state.everyMonths ?? 1 };
    budget = { resetAt: state.resetAt, every };
  }
  let spend = state.spend;
  // A reset admission has not applied yet still counts: show what the next admission will see.
  if (budget && now >= budget.resetAt) {
    budget = { ...budget, resetAt: nextReset(budget, now) };
    spend = 0;
  }
  const parents = text('parents');
  return {
    id,
    alias: text('alias'),
    blocked: state.blocked,
    expiresAt: state.expiresAt,
    maxBudget: state.maxBudget,
    budget,
    createdAt: num('created') ?? 0,
    doc: text('doc') ?? '{}',
    parents: parents === undefined ? undefined : splitParents(parents),
    spend,
  };
}
