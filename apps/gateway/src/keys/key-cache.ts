import type { AccountStore, StoredAccount, Subject } from '@fleetgate/ratelimit';
import { docOf, type KeyDoc } from './key-doc.js';
import { type ModelAccess, modelAccess } from './model-access.js';

/** A key record as requests use it: the stored account, its document, and its window subjects per model group. */
export interface CachedKey {
  readonly account: StoredAccount;
  readonly doc: KeyDoc;
  /** The model groups it may use, compiled from `doc.models`. */
  readonly modelAccess: ModelAccess;
  /** The key's own windows (rpm/tpm/parallel), or undefined when it has none. */
  readonly keyGate: Subject | undefined;
  /** Per model group: the key's windows on that group (model_rpm_limit / model_tpm_limit). */
  readonly groupGates: Map<string, Subject | null>;
}

/**
 * The replica's copy of the key records it has seen. The store announces every change (a version
 * every replica polls every 250 ms): on one, the whole copy is dropped, so an update reaches every
 * replica's next request within about 250 ms; keys change rarely, and a dropped entry costs one
 * read. Whether a key may spend (exists, not blocked or expired, under budget) is not taken from
 * here: admission checks that in Redis, exactly. While Redis is away, keys already here stay usable.
 */
export function createKeyCache(accounts: AccountStore) {
  const entries = new Map<string, CachedKey>();
  const stop = accounts.watch((id) => {
    if (id === '*') entries.clear();
    else entries.delete(id);
  });
  return {
    /** The key, from this replica's copy or the store; undefined when it does not exist. Store errors propagate. */
    async get(hash: string): Promise<CachedKey | undefined> {
      const hit = entries.get(hash);
      if (hit) return hit;
      const account = await accounts.get(hash);
      if (!account) return undefined;
      const doc = docOf(account);
      const hasKeyLimits =
        (doc.rpm_limit ?? 0) > 0 || (doc.tpm_limit ?? 0) > 0 || (doc.max_parallel_requests ?? 0) > 0;
      const entry: CachedKey = {
        account,
        doc,
        modelAccess: modelAccess(doc.models),
        keyGate: hasKeyLimits
          ? {
              id: `k:${hash}`,
              limits: {
                rpm: doc.rpm_limit ?? undefined,
                tpm: doc.tpm_limit ?? undefined,
                maxParallel: doc.max_parallel_requests ?? undefined,
              },
            }
          : undefined,
        groupGates: new Map(),
      };
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
    const rpm = key.doc.model_rpm_limit?.[requested] ?? key.doc.model_rpm_limit?.[group];
    const tpm = key.doc.model_tpm_limit?.[requested] ?? key.doc.model_tpm_limit?.[group];
    gate = rpm || tpm ? { id: `km:${hash}:${group}`, limits: { rpm, tpm } } : null;
    key.groupGates.set(requested, gate);
  }
  return gate ?? undefined;
}
