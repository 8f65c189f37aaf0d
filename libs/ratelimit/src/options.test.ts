import { describe, expect, it } from 'vitest';
import { geometry, MAX_BUCKETS } from './options.js';

describe('window geometry', () => {
  it('counts the buckets a window spans and refuses windows the scripts cannot walk', () => {
    expect(geometry({})).toEqual({ windowMs: 60_000, bucketMs: 500, leaseMs: 30_000, marginMs: 0, k: 120 });
    // A provider margin is counted in whole buckets on top of the window.
    expect(geometry({ marginMs: 500 }).k).toBe(121);
    expect(geometry({ marginMs: 501 }).k).toBe(122);
    expect(() => geometry({ marginMs: -1 })).toThrow(/marginMs/);
    expect(geometry({ windowMs: 1_000, bucketMs: 1 }).k).toBe(MAX_BUCKETS);
    expect(() => geometry({ windowMs: 20_000, bucketMs: 1 })).toThrow(/at most 1000/);
    expect(() => geometry({ windowMs: 100, bucketMs: 200 })).toThrow(/must not exceed/);
    expect(() => geometry({ leaseMs: 0 })).toThrow(/positive integer/);
  });
});
