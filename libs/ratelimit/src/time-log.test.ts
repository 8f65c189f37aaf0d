import { describe, expect, it } from 'vitest';
import { TimeLog } from './time-log.js';

describe('TimeLog', () => {
  it('keeps arrival order across wrap-arounds and growth', () => {
    const log = new TimeLog();
    let next = 0;
    let oldest = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 37; i++) log.push(next++);
      oldest += 30;
      expect(log.dropUntil(oldest - 1)).toBe(next - oldest);
      expect(log.at(0)).toBe(oldest);
      expect(log.newest()).toBe(next - 1);
    }
    expect(log.dropUntil(Number.POSITIVE_INFINITY)).toBe(0);
    expect(log.newest()).toBeUndefined();
  });
});
