import { randomBytes } from 'node:crypto';
import type { AccountRecord, AccountStore, StoredAccount } from '@fleetgate/ratelimit';
import type { z } from 'zod';
import { badRequest, GatewayError } from '../errors.js';
import type { generateSchema, KeyFields, regenerateSchema } from './admin-schema.js';
import { INERT_FIELDS } from './admin-schema.js';
import { applyBudgetDuration, applyDuration } from './budget-fields.js';
import { teamAccountId } from './directory.js';
import { docOf, type KeyDoc, keyInfo, keyName, requiredParents, toAccount } from './key-doc.js';
import { hashOfRef, keyHash } from './key-hash.js';

type Generate = z.output<typeof generateSchema>;
type Regenerate = z.output<typeof regenerateSchema>;

const notFound = (what = 'Key not found') => new GatewayError(404, 'not_found', what, { param: 'key' });
const aliasTaken = (alias: string | null | undefined) =>
  badRequest(
    `Key with alias '${alias}' already exists. Unique key aliases across all keys are required.`,
    'key_alias',
  );
/** LiteLLM's 400 for a key naming a team that does not exist (its key_generation_check). */
export const noSuchTeam = (teamId: string | null) =>
  badRequest(`Unable to find team object in database. Team ID: ${teamId}`, 'team_id');

/** A key ready to be written: its secret (shown once), the record, its starting spend. */
export interface NewKey {
  readonly key: string;
  readonly record: AccountRecord;
  readonly spend: number;
}

/**
 * The key admin API's logic, over the keys' account store: issue, read, change, rotate, block and
 * delete keys, with LiteLLM's fields and responses. Only hashes are stored; the plain key is
 * returned once. A key with a team is written only if the team exists, in the same atomic step.
 */
export function createKeyAdmin(accounts: AccountStore, now: () => number = Date.now) {
  async function load(ref: string): Promise<StoredAccount> {
    const account = await accounts.get(hashOfRef(ref));
    if (!account) throw notFound();
    return account;
  }

  /** Applies the fields present in `body` to a document; returns the new budget schedule. */
  function apply(doc: KeyDoc, body: Partial<KeyFields>, account: StoredAccount | undefined) {
    const t = now();
    let budget = account?.budget;
    for (const field of [
      'key_alias',
      'rpm_limit',
      'tpm_limit',
      'max_parallel_requests',
      'max_budget',
      'user_id',
      'team_id',
    ] as const) {
      if (body[field] !== undefined) (doc as unknown as Record<string, unknown>)[field] = body[field];
    }
    if (body.models !== undefined) doc.models = body.models;
    if (body.model_rpm_limit !== undefined) doc.model_rpm_limit = body.model_rpm_limit;
    if (body.model_tpm_limit !== undefined) doc.model_tpm_limit = body.model_tpm_limit;
    if (body.metadata !== undefined) doc.metadata = body.metadata ?? {};
    if (body.blocked !== undefined) doc.blocked = body.blocked ?? false;
    if (body.duration !== undefined) {
      const d = applyDuration(body.duration, t);
      doc.expires = d.expires;
      doc.duration = d.text;
    }
    if (body.budget_duration !== undefined) {
      const b = applyBudgetDuration(body.budget_duration, { text: doc.budget_duration, budget }, t);
      budget = b.budget;
      doc.budget_duration = b.text;
    }
    for (const f of INERT_FIELDS) {
      const v = (body as Record<string, unknown>)[f];
      if (v !== undefined) doc.extra = { ...doc.extra, [f]: v };
    }
    doc.updated_at = new Date(t).toISOString();
    return budget;
  }

  function issued(key: string, account: StoredAccount | AccountRecord, spend: number) {
    const info = keyInfo({ ...account, spend } as StoredAccount);
    return { ...info, key, token: account.id, token_id: account.id };
  }

  /** A new key from a /key/generate body (or the key /user/new issues), not yet written. */
  function prepare(body: Generate): NewKey {
    const key = body.key ?? `sk-${randomBytes(16).toString('base64url')}`;
    const t = new Date(now()).toISOString();
    const doc: KeyDoc = {
      key_name: keyName(key),
      key_alias: null,
      models: [],
      max_budget: null,
      budget_duration: null,
      rpm_limit: null,
      tpm_limit: null,
      max_parallel_requests: null,
      model_rpm_limit: null,
      model_tpm_limit: null,
      metadata: {},
      user_id: null,
      team_id: null,
      blocked: false,
      expires: null,
      duration: null,
      created_at: t,
      updated_at: t,
      created_by: 'admin',
      updated_by: 'admin',
    };
    const budget = apply(doc, body, undefined);
    return { key, record: toAccount(keyHash(key), doc, budget, now()), spend: body.spend ?? 0 };
  }

  /** Refuses, before anything is written, a change a rotation could not finish. */
  async function precheck(target: StoredAccount, fields: Partial<KeyFields>) {
    if (fields.key_alias) {
      const holder = await accounts.byAlias(fields.key_alias);
      if (holder !== undefined && holder !== target.id) throw aliasTaken(fields.key_alias);
    }
    if (fields.team_id && !(await accounts.get(teamAccountId(fields.team_id))))
      throw noSuchTeam(fields.team_id);
  }

  return {
    prepare,
    /** The response of an issued key (/key/generate's, and the key part of /user/new's). */
    issued: (k: NewKey) => issued(k.key, k.record, k.spend),

    async generate(body: Generate) {
      const k = prepare(body);
      const doc = docOf(k.record);
      const result = await accounts.create(k.record, k.spend, requiredParents(doc));
      if (result === 'alias_taken') throw aliasTaken(doc.key_alias);
      if (result === 'parent_missing') throw noSuchTeam(doc.team_id);
      if (result === 'exists')
        throw badRequest('a key with this value already exists; choose another or omit "key"', 'key');
      return issued(k.key, k.record, k.spend);
    },

    /** `/key/info`: `ref` is the key or its hash; the caller has been allowed to read it. */
    async info(ref: string) {
      const { token: _token, ...info } = keyInfo(await load(ref));
      return { key: ref, info };
    },

    async update(body: KeyFields) {
      const account = await load(body.key);
      const doc = docOf(account);
      const budget = apply(doc, body, account);
      const record = toAccount(account.id, doc, budget, account.createdAt);
      // The team must exist when the update names it (a key issued before teams existed may name one that does not).
      const result = await accounts.update(record, body.spend, body.team_id ? requiredParents(doc) : {});
      if (result === 'alias_taken') throw aliasTaken(doc.key_alias);
      if (result === 'parent_missing') throw noSuchTeam(doc.team_id);
      if (result === 'missing') throw notFound();
      const stored = (await accounts.get(account.id)) ?? { ...record, spend: body.spend ?? account.spend };
      return { key: body.key, ...keyInfo(stored) };
    },

    async regenerate(ref: string | undefined, body: Regenerate) {
      const target = ref ?? body.key;
      if (!target) throw badRequest('missing required field "key"', 'key');
      const old = await load(target);
      const { key: _k, new_key: _n, ...fields } = body;
      const doc = docOf(old);
      const budget = apply(doc, fields, old);
      await precheck(old, fields);
      const key = body.new_key ?? `sk-${randomBytes(16).toString('base64url')}`;
      const id = keyHash(key);
      const result = await accounts.rekey(old.id, id);
      if (result === 'missing') throw notFound();
      if (result === 'exists') throw badRequest('"new_key" is already in use by another key', 'new_key');
      doc.key_name = keyName(key);
      const record = toAccount(id, doc, budget, old.createdAt);
      const updated = await accounts.update(record, body.spend, body.team_id ? requiredParents(doc) : {});
      if (updated === 'alias_taken') throw aliasTaken(doc.key_alias);
      if (updated === 'parent_missing') throw noSuchTeam(doc.team_id);
      const stored = (await accounts.get(id)) ?? { ...record, spend: old.spend };
      return issued(key, stored, stored.spend);
    },

    async delete(keys: readonly string[] | undefined, aliases: readonly string[] | undefined) {
      if (!keys?.length && !aliases?.length)
        throw badRequest('one of "keys" or "key_aliases" is required', 'keys');
      const ids = new Map<string, string>();
      for (const k of keys ?? []) ids.set(hashOfRef(k, 'keys'), k);
      for (const a of aliases ?? []) {
        const id = await accounts.byAlias(a);
        if (id) ids.set(id, a);
      }
      const deleted = await accounts.delete([...ids.keys()]);
      if (deleted.length === 0) throw notFound('No keys found');
      return { deleted_keys: deleted.map((id) => ids.get(id)!) };
    },

    async block(ref: string, blocked: boolean) {
      const account = await load(ref);
      const doc = docOf(account);
      doc.blocked = blocked;
      doc.updated_at = new Date(now()).toISOString();
      const result = await accounts.update(toAccount(account.id, doc, account.budget, account.createdAt));
      if (result === 'missing') throw notFound();
      return keyInfo({ ...account, blocked, doc: JSON.stringify(doc) });
    },

    async list(query: {
      page: number;
      size: number;
      key_alias?: string;
      user_id?: string;
      team_id?: string;
      full: boolean;
    }) {
      const filtered =
        query.key_alias !== undefined || query.user_id !== undefined || query.team_id !== undefined;
      let ids: string[];
      let total: number;
      let rows: StoredAccount[] | undefined;
      if (!filtered) {
        ({ ids, total } = await accounts.list((query.page - 1) * query.size, query.size));
      } else {
        // Filters read every record: fine for the thousands of keys a fleet holds, not for millions.
        const all = await accounts.list(0, Number.MAX_SAFE_INTEGER);
        const loaded = (await Promise.all(all.ids.map((id) => accounts.get(id)))).filter(
          (a): a is StoredAccount => !!a,
        );
        const match = loaded.filter((a) => {
          const d = docOf(a);
          return (
            (query.key_alias === undefined || d.key_alias === query.key_alias) &&
            (query.user_id === undefined || d.user_id === query.user_id) &&
            (query.team_id === undefined || d.team_id === query.team_id)
          );
        });
        total = match.length;
        rows = match.slice((query.page - 1) * query.size, query.page * query.size);
        ids = rows.map((a) => a.id);
      }
      const keys = query.full
        ? (
            rows ??
            (await Promise.all(ids.map((id) => accounts.get(id)))).filter((a): a is StoredAccount => !!a)
          ).map(keyInfo)
        : ids;
      return {
        keys,
        total_count: total,
        current_page: query.page,
        total_pages: Math.ceil(total / query.size),
      };
    },
  };
}

export type KeyAdmin = ReturnType<typeof createKeyAdmin>;
