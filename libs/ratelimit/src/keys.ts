/**
 * Redis key layout. Every key of a namespace carries the same `{hash tag}`, so on Redis Cluster they
 * all live in one slot and one script may touch a key's windows and every candidate deployment's
 * windows at once — admission is a single atomic call.
 *
 *   fleetgate:v1:{ns}:w:<subject>         HASH  a subject's windows, in binary fields (see
 *                                               scripts/window.ts): 's' the state every admission
 *                                               reads and writes (counted totals, the open bucket,
 *                                               this minute's outcomes, the cooldown end); one field
 *                                               per closed bucket still counted (tokens, requests)
 *                                               TTL ≥ window + 2 buckets + 120 s, ≥ the cooldown
 *   fleetgate:v1:{ns}:inflight:<subject>  ZSET  lease id → expiry                 TTL lease
 *   fleetgate:v1:{ns}:replicas            ZSET  replica id → expiry               TTL 2 × heartbeat TTL
 *   fleetgate:v1:{ns}:rec:<owner>:<sec>   HASH  call id → what the call did, for the calls a store
 *                                               made in one second        TTL record TTL (15 s)
 *                                               (a late, resent or resolved call is a no-op)
 *   fleetgate:v1:{ns}:epoch               STRING this Redis's lifetime: a new value means it lost
 *                                               its data, so replicas write back their own windows
 *
 * A script is handed one key per subject, plus the lease set when the subject has a parallel
 * limit: every key passed costs the client and Redis work on every call. The state field is written
 * first, so it sits at the head of the hash's listpack, where a lookup finds it at once.
 */
export interface SubjectKeys {
  readonly window: string;
  readonly inflight: string;
}

export interface KeyLayout {
  readonly prefix: string;
  subject(id: string): SubjectKeys;
  /** An account's (virtual key's) record: see scripts/accounts.ts. */
  account(id: string): string;
  /**
   * The records of the script calls (admission batches, settlement batches, write-backs) one store
   * (`owner`) made in one second (`slice`).
   */
  records(owner: string, slice: number): string;
  readonly replicas: string;
  readonly epoch: string;
}

export function createKeyLayout(namespace: string): KeyLayout {
  if (namespace.includes('{') || namespace.includes('}')) {
    throw new Error(`namespace must not contain braces: ${namespace}`);
  }
  const prefix = `fleetgate:v1:{${namespace}}:`;
  const cache = new Map<string, SubjectKeys>();
  return {
    prefix,
    subject(id) {
      let keys = cache.get(id);
      if (!keys) {
        keys = { window: `${prefix}w:${id}`, inflight: `${prefix}inflight:${id}` };
        // Bounded: subjects are deployments and keys in use; a runaway set is dropped, not kept forever.
        if (cache.size >= 100_000) cache.clear();
        cache.set(id, keys);
      }
      return keys;
    },
    account: (id) => `${prefix}account:${id}`,
    records: (owner, slice) => `${prefix}rec:${owner}:${slice}`,
    replicas: `${prefix}replicas`,
    epoch: `${prefix}epoch`,
  };
}
