/**
 * Redis key layout. Every key of a namespace carries the same `{hash tag}`, so on Redis Cluster they
 * all live in one slot and one script may touch a key's windows and every candidate deployment's
 * windows at once — admission is a single atomic call.
 *
 *   fleetgate:v1:{ns}:state:<subject>     HASH  the hot fields, read and written by every admission:
 *                                               TPM total 't', oldest counted bucket 'c', current bucket
 *                                               'cb' and its tokens 'cv'; this minute's outcomes ('m',
 *                                               'calls', 'fail'); 'cool' (cooldown end)
 *                                               TTL ≥ window + 2 buckets + 120 s, ≥ the cooldown
 *   fleetgate:v1:{ns}:ring:<subject>      HASH  TPM buckets before the current one: bucket → tokens
 *                                               (written when a bucket closes)  TTL window + 2 buckets
 *   fleetgate:v1:{ns}:rpm:<subject>       LIST  admission times, newest first     TTL window
 *   fleetgate:v1:{ns}:inflight:<subject>  ZSET  lease id → expiry                 TTL lease
 *   fleetgate:v1:{ns}:replicas            ZSET  replica id → expiry               TTL 2 × heartbeat TTL
 *
 * A script is handed only the keys a subject's limits use (state always, the ring with a tpm limit,
 * the rpm log with an rpm limit, the lease set with a parallel limit): every key passed costs the
 * client and Redis work. The ring is apart from the state so the hash every admission reads stays a
 * few fields long: Redis keeps small hashes as listpacks, scanned linearly on every field access.
 */
export interface SubjectKeys {
  readonly state: string;
  readonly ring: string;
  readonly rpm: string;
  readonly inflight: string;
}

export interface KeyLayout {
  readonly prefix: string;
  subject(id: string): SubjectKeys;
  readonly replicas: string;
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
        keys = {
          state: `${prefix}state:${id}`,
          ring: `${prefix}ring:${id}`,
          rpm: `${prefix}rpm:${id}`,
          inflight: `${prefix}inflight:${id}`,
        };
        // Bounded: subjects are deployments and keys in use; a runaway set is dropped, not kept forever.
        if (cache.size >= 100_000) cache.clear();
        cache.set(id, keys);
      }
      return keys;
    },
    replicas: `${prefix}replicas`,
  };
}
