import { hash } from 'node:crypto';
import { badRequest } from '../errors.js';

const HASH = /^[0-9a-f]{64}$/;
const recent = new Map<string, string>();

/**
 * LiteLLM's key hash: lowercase hex SHA-256 of the whole key, `sk-` included — the `token` its admin
 * API shows and the only form Fleetgate stores. The last few thousand are remembered, so a key in
 * use is hashed once, not on every request.
 */
export function keyHash(key: string): string {
  let h = recent.get(key);
  if (h === undefined) {
    h = hash('sha256', key, 'hex');
    if (recent.size >= 10_000) recent.clear();
    recent.set(key, h);
  }
  return h;
}

/** An admin route's `key`: the key itself (`sk-…`) or its hash, as LiteLLM accepts either. */
export function hashOfRef(ref: string, field = 'key'): string {
  if (ref.startsWith('sk-')) return keyHash(ref);
  if (HASH.test(ref)) return ref;
  throw badRequest(`"${field}" must be a key ("sk-…") or its 64-character hex hash`, field);
}
