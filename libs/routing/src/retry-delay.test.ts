import { describe, expect, it } from 'vitest';
import { retryDelayMs } from './retry-delay.js';

describe('retryDelayMs', () => {
  const noJitter = () => 0;
  it('backs off exponentially from 0.5 s, capped at 8 s', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map((retry) => retryDelayMs({ retry, random: noJitter }))).toEqual([
      500, 1000, 2000, 4000, 8000, 8000, 8000,
    ]);
  });

  it('spreads retries by shortening the wait by up to a quarter', () => {
    expect(retryDelayMs({ retry: 1, random: () => 0.999999 })).toBeCloseTo(375, 0);
    expect(retryDelayMs({ retry: 3, random: () => 0.5 })).toBe(1750);
  });

  it("waits for the upstream's retry-after between 0 and 60 s, and ignores longer ones", () => {
    expect(retryDelayMs({ retry: 1, retryAfterMs: 3000, random: noJitter })).toBe(3000);
    expect(retryDelayMs({ retry: 1, retryAfterMs: 120_000, random: noJitter })).toBe(500);
    expect(retryDelayMs({ retry: 2, retryAfterMs: 0, random: noJitter })).toBe(1000);
  });

  it('never waits less than router_settings.retry_after', () => {
    expect(retryDelayMs({ retry: 1, minMs: 2000, random: noJitter })).toBe(2000);
    expect(retryDelayMs({ retry: 5, minMs: 2000, random: noJitter })).toBe(8000);
  });
});
