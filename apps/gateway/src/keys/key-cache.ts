import type { AccountStore, StoredAccount, Subject } from '@fleetgate/ratelimit';
import { type TeamDoc, teamDocOf } from '../teams/team-doc.js';
import { type UserDoc, userDocOf } from '../users/user-doc.js';
import { memberAccountId, teamAccountId, userAccountId } from './directory.js';
import { docOf, type KeyDoc } from './key-doc.js';
import { type ModelAccess, modelAccess } from './model-access.js';

/** A team or user a key belongs to, as its requests use it. */
export interface CachedOwner<Doc> {
  /** The account admission checks and charges (`team:<id>`, `user:<id>`). */
  readonly accountId: string;
  readonly doc: Doc;
  /** Its own model list (its refusal message names it). */
  readonly models: ModelAccess;
  /** Its windows (rpm/tpm/parallel) shared by all its keys, or undefined when it has none. */
  readonly gate: Subject | undefined;
}

/** Where a limit of 0 sits: LiteLLM refuses every request there (429), so Fleetgate does too. */
export interface ZeroLimit {
  /** LiteLLM's descriptor: api_key, team, user. */
  readonly scope: 'api_key' | 'team' | 'user';
  readonly value: string;
  readonly kind: 'requests' | 'tokens' | 'max_parallel_requests';
}

/** A key record as requests use it: the stored account, its document, its team and user, its windows. */
export interface CachedKey {
  readonly account: StoredAccount;
  readonly doc: KeyDoc;
  /** Every model list the key answers to (its own, its team's, a personal key's user's), compiled. */
  readonly modelAccess: ModelAccess;
  /** The key's own list alone. */
  readonly keyModels: ModelAccess;
  /** The key's own windows (rpm/tpm/parallel), or undefined when it has none. */
  readonly keyGate: Subject | undefined;
  /** Per model group: the key's windows on that group (model_rpm_limit / model_tpm_limit). */
  readonly groupGates: Map<string, Subject | null>;
  /** Its team, when it names one that exists. */
  readonly team: CachedOwner<TeamDoc> | undefined;
  /** Its user, when it names one that exists. */
  readonly user: CachedOwner<UserDoc> | undefined;
  /**
   * The account of its user's budget inside its team (`member:…`), when the key names both and that
   * membership has a budget: admission checks and charges it like the team's and the user's.
   */
  readonly memberAccountId: string | undefined;
  /** The first limit of 0 among the key's, its team's and its user's. */
  readonly zeroLimit: ZeroLimit | undefined;
  /**
   * Model names the key may ask for in place of a model (LiteLLM's key `aliases` over its team's
   * `model_aliases`): alias → model. Undefined when there are none.
   */
  readonly aliases: ReadonlyMap<string, string> | undefined;
}

/**
 * The replica's copy of the key records it has seen, with their teams and users. The store
 * announces every change of any key, team or user (a version every replica polls every 250 ms): on
 * one, the whole copy is dropped, so an update reaches every replica's next request within about
 * 250 ms; such changes are rare, and a dropped entry costs a few reads. Whether a key may spend
 * (it, its team and its user exist, are not blocked or expired, are under budget) is not taken from
 * here: admission checks that in Redis, exactly. While Redis is away, keys already here stay usable.
 */
export function createKeyCache(accounts: AccountStore) {
  const entries = new Map<string, CachedKey>();
  // A team's or a user's change concerns every key that names it: drop everything.
  const stop = accounts.watch(() => entries.clear());
  return {
    /** The key, from this replica's copy or the store; undefined when it does not exist. Store errors propagate. */
    async get(hash: string): Promise<CachedKey | undefined> {
      const hit = entries.get(hash);
      if (hit) return hit;
      const account = await accounts.get(hash);
      if (!account) return undefined;
      const doc = docOf(account);
      const [teamAccount, userAccount, memberAccount] = await Promise.all([
        doc.team_id === null ? undefined : accounts.get(teamAccountId(doc.team_id)),
        doc.user_id === null ? undefined : accounts.get(userAccountId(doc.user_id)),
        doc.team_id === null || doc.user_id === null
          ? undefined
          : accounts.get(memberAccountId(doc.team_id, doc.user_id)),
      ]);
      const entry = cachedKey(hash, account, doc, teamAccount, userAccount, memberAccount?.id);
      if (entries.size >= 100_000) entries.clear();
      entries.set(hash, entry);
      return entry;
    },
    /** Only what is already here (while Redis is away). */
    peek: (hash: string) => entries.get(hash),
    close: stop,
  };
}

export type KeyCache = ReturnType<typeof createKeyCache>;

function cachedKey(
  hash: string,
  account: StoredAccount,
  doc: KeyDoc,
  teamAccount: StoredAccount | undefined,
  userAccount: StoredAccount | undefined,
  memberAccountId: string | undefined,
): CachedKey {
  // A team that does not exist (a key issued before teams were, naming one) limits nothing, as in LiteLLM.
  const team = teamAccount && owner(teamAccount, teamDocOf(teamAccount), 't');
  const user = userAccount && owner(userAccount, userDocOf(userAccount), 'u');
  // LiteLLM: a team key answers to the team's models, a personal key to its user's.
  const narrower = team ? team.models : user?.models;
  const keyModels = modelAccess(doc.models);
  return {
    account,
    doc,
    keyModels,
    modelAccess: modelAccess(doc.models, narrower),
    keyGate: gateOf(`k:${hash}`, doc),
    groupGates: new Map(),
    team,
    user,
    memberAccountId,
    zeroLimit:
      zeroIn('api_key', hash, doc) ??
      (team && zeroIn('team', team.doc.team_id, team.doc)) ??
      (user && zeroIn('user', user.doc.user_id, user.doc)),
    aliases: aliasesOf(team?.doc.extra?.['model_aliases'], doc.extra?.['aliases']),
  };
}

/** A team's `model_aliases` with the key's own `aliases` over them; undefined when both are empty. */
function aliasesOf(...maps: unknown[]): ReadonlyMap<string, string> | undefined {
  let out: Map<string, string> | undefined;
  for (const m of maps) {
    if (!m || typeof m !== 'object') continue;
    for (const [alias, model] of Object.entries(m)) {
      if (typeof model !== 'string') continue;
      out ??= new Map();
      out.set(alias, model);
    }
  }
  return out;
}

function owner<Doc extends TeamDoc | UserDoc>(
  account: StoredAccount,
  doc: Doc,
  prefix: 't' | 'u',
): CachedOwner<Doc> {
  const name = 'team_id' in doc ? doc.team_id : doc.user_id;
  return {
    accountId: account.id,
    doc,
    models: modelAccess(doc.models),
    gate: gateOf(`${prefix}:${name}`, doc),
  };
}

interface Limited {
  readonly rpm_limit: number | null;
  readonly tpm_limit: number | null;
  readonly max_parallel_requests: number | null;
}

/** The windows of a key, team or user; only positive limits make one (0 refuses before admission). */
function gateOf(id: string, doc: Limited): Subject | undefined {
  const positive = (v: number | null) => (v !== null && v > 0 ? v : undefined);
  const limits = {
    rpm: positive(doc.rpm_limit),
    tpm: positive(doc.tpm_limit),
    maxParallel: positive(doc.max_parallel_requests),
  };
  return limits.rpm || limits.tpm || limits.maxParallel ? { id, limits } : undefined;
}

function zeroIn(scope: ZeroLimit['scope'], value: string, doc: Limited): ZeroLimit | undefined {
  if (doc.rpm_limit === 0) return { scope, value, kind: 'requests' };
  if (doc.tpm_limit === 0) return { scope, value, kind: 'tokens' };
  if (doc.max_parallel_requests === 0) return { scope, value, kind: 'max_parallel_requests' };
  return undefined;
}

/**
 * The key's windows on one model group, built once per (key, group): a model limit is looked up by
 * the name the client used, then by the group it resolved to (aliases), as LiteLLM keys them by name.
 */
export function groupGate(
  key: CachedKey,
  hash: string,
  requested: string,
  group: string,
): Subject | undefined {
  let gate = key.groupGates.get(requested);
  if (gate === undefined) {
    const rpm = modelLimit(key.doc.model_rpm_limit, requested, group);
    const tpm = modelLimit(key.doc.model_tpm_limit, requested, group);
    gate = rpm || tpm ? { id: `km:${hash}:${group}`, limits: { rpm, tpm } } : null;
    key.groupGates.set(requested, gate);
  }
  return gate ?? undefined;
}

/** Which per-model limit of the key is 0 for this model (LiteLLM refuses every request there). */
export function zeroModelLimit(
  key: CachedKey,
  requested: string,
  group: string,
): ZeroLimit['kind'] | undefined {
  if (modelLimit(key.doc.model_rpm_limit, requested, group) === 0) return 'requests';
  if (modelLimit(key.doc.model_tpm_limit, requested, group) === 0) return 'tokens';
  return undefined;
}

function modelLimit(
  limits: Record<string, number> | null,
  requested: string,
  group: string,
): number | undefined {
  return limits?.[requested] ?? limits?.[group];
}
