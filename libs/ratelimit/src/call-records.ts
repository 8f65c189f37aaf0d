import type { KeyLayout } from './keys.js';

/**
 * Where one script call leaves its record: a field of its store's record hash for this second. The
 * field is the call's unique id, prefixed with '!' when this call gives the hash its TTL (else ':'):
 * one argument carries both, since every argument of a script call costs Redis and Lua work.
 */
export interface CallRecord {
  readonly key: string;
  readonly field: string;
}

/**
 * Names the script calls of one store and where their records go. Every call leaves a record (see
 * admit.lua, settle.lua, writeback.lua), so that a call sent again, or arriving late after its outcome
 * was resolved, changes nothing. A record per call as a key of its own cost Redis a key creation and
 * an expiry per call (callgrind: ~27,000 instructions for a one-admission call); the calls of one
 * second share one HASH instead, whose TTL is set by the first call of the second — and again by the
 * next call after one that failed, which may not have run.
 */
export function createCallRecords(keys: KeyLayout, owner: string, now: () => number = Date.now) {
  let seq = 0;
  let slice = -1;
  let expireDue = true;
  return {
    next(): CallRecord {
      const s = Math.floor(now() / 1000);
      if (s !== slice) {
        slice = s;
        expireDue = true;
      }
      const field = (expireDue ? '!' : ':') + (++seq).toString(36);
      expireDue = false;
      return { key: keys.records(owner, s), field };
    },
    /** A call failed (it may not have run): the next one sets the TTL of its hash again. */
    failed(): void {
      expireDue = true;
    },
  };
}
