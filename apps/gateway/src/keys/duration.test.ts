import { describe, expect, it } from 'vitest';
import { after, firstReset, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads LiteLLM units and refuses anything else', () => {
    expect(parseDuration('30s')).toEqual({ ms: 30_000 });
    expect(parseDuration('30m')).toEqual({ ms: 1_800_000 });
    expect(parseDuration('30h')).toEqual({ ms: 108_000_000 });
    expect(parseDuration('30d')).toEqual({ ms: 2_592_000_000 });
    expect(parseDuration('2w')).toEqual({ ms: 1_209_600_000 });
    expect(parseDuration('1mo')).toEqual({ months: 1 });
    for (const bad of ['', '30', '1y', '30min', '1.5h', '-1d', '0d', '1H', 'soon'])
      expect(parseDuration(bad)).toBeUndefined();
  });
});

describe('budget resets', () => {
  const at = Date.UTC(2026, 10, 28, 13, 20); // a Saturday
  it('aligns the first reset to the calendar', () => {
    expect(firstReset(at, '1d', { ms: 86_400_000 })).toBe(Date.UTC(2026, 10, 29));
    expect(firstReset(at, '7d', { ms: 7 * 86_400_000 })).toBe(Date.UTC(2026, 10, 30)); // Monday
    expect(firstReset(at, '30d', { ms: 30 * 86_400_000 })).toBe(Date.UTC(2026, 11, 1));
    expect(firstReset(at, '1mo', { months: 1 })).toBe(Date.UTC(2026, 11, 1));
    expect(firstReset(at, '6h', { ms: 6 * 3_600_000 })).toBe(Date.UTC(2026, 10, 28, 18));
  });

  it('steps by calendar months, clamping the day', () => {
    expect(after(Date.UTC(2027, 0, 31), { months: 1 })).toBe(Date.UTC(2027, 1, 28));
    expect(after(Date.UTC(2026, 11, 15), { months: 2 })).toBe(Date.UTC(2027, 1, 15));
  });
});
