/**
 * Redis key layout. Every key of a namespace carries the same `{hash tag}`, so on Redis Cluster they
 * all live in one slot and one script may touch a key's windows and every candidate deployment's
 * windows at once — admission is a single atomic call. (One slot serves well over 50,000 admissions
 * a second, far beyond what a fleet of gateways sends one group of deployments.)
 *
 *   fleetgate:v1:{ns}:rpm:<subject>       LIST   admission times, newest first     TTL window
 *   fleetgate:v1:{ns}:tpm:<subject>       HASH   tokens per bucket, 't', 'c'       TTL window + 2 buckets
 *   fleetgate:v1:{ns}:inflight:<subject>  ZSET   lease id → expiry                 TTL lease
 *   fleetgate:v1:{ns}:cooldown:<subject>  STRING '1'                               TTL cooldown
 *   fleetgate:v1:{ns}:outcomes:<subject>  HASH   m, ok, fail (this minute)         TTL 120 s
 *   fleetgate:v1:{ns}:replicas            ZSET   replica id → expiry               TTL 2 × heartbeat TTL
 */
export interface KeyLayout {
  readonly prefix: string;
  /** rpm, tpm, in-flight, cooldown — the four keys admit.lua takes per subject. */
  subject(id: string): readonly [string, string, string, string];
  outcomes(id: string): string;
  readonly replicas: string;
}

export function createKeyLayout(namespace: string): KeyLayout {
  if (namespace.includes('{') || namespace.includes('}')) {
    throw new Error(`namespace must not contain braces: ${namespace}`);
  }
  const prefix = `fleetgate:v1:{${namespace}}:`;
  const cache = new Map<string, readonly [string, string, string, string]>();
  return {
    prefix,
    subject(id) {
      let keys = cache.get(id);
      if (!keys) {
        keys = [
          `${prefix}rpm:${id}`,
          `${prefix}tpm:${id}`,
          `${prefix}inflight:${id}`,
          `${prefix}cooldown:${id}`,
        ];
        // Bounded: subjects are deployments and keys in use; a runaway set is dropped, not kept forever.
        if (cache.size >= 100_000) cache.clear();
        cache.set(id, keys);
      }
      return keys;
    },
    outcomes: (id) => `${prefix}outcomes:${id}`,
    replicas: `${prefix}replicas`,
  };
}
