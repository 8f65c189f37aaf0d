import { describe, expect, it } from 'vitest';
import { DELTA_OFFSET, hex12 } from './window.js';

/** The format's definition: the integer part, clamped to [0, 2^48 − 1], as 12 lower-case hex digits. */
function reference(n: number): string {
  const v = Number.isFinite(n) ? Math.min(Math.max(0, Math.floor(n)), 2 ** 48 - 1) : 0;
  return v.toString(16).padStart(12, '0');
}

describe('hex12', () => {
  it('writes the integer part as 12 hex digits, at digit-count boundaries and around the settlement offset', () => {
    const edges = [0, 1, 15, 16, 255, 4095, 2 ** 24 - 1, 2 ** 24, 2 ** 24 + 1, 2 ** 31, 2 ** 32 + 17];
    const values = [
      ...edges,
      DELTA_OFFSET - 5,
      DELTA_OFFSET,
      DELTA_OFFSET + 123_456,
      2 ** 48 - 2,
      2 ** 48 - 1,
    ];
    for (const v of values) {
      expect(hex12(v), String(v)).toBe(reference(v));
      expect(hex12(v)).toHaveLength(12);
    }
    expect(hex12(2 ** 24)).toBe('000001000000');
    expect(hex12(DELTA_OFFSET + 1)).toBe('800000000001');
  });

  it('drops fractions, saturates large values and turns what is not a count into 0', () => {
    expect(hex12(5.9)).toBe('000000000005');
    expect(hex12(0.4)).toBe('000000000000');
    expect(hex12(2 ** 48)).toBe('ffffffffffff');
    expect(hex12(1e300)).toBe('ffffffffffff');
    for (const v of [-1, -0.5, -(2 ** 40), Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(hex12(v), String(v)).toBe('000000000000');
    }
  });

  it('agrees with the definition on values spread over every magnitude', () => {
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 20_000; i++) {
      const v = next() * 2 ** (next() * 50);
      expect(hex12(v)).toBe(reference(v));
    }
  });
});
