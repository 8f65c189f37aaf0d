import { describe, expect, it } from 'vitest';
import { NumberRing } from './ring-buffer.js';

describe('NumberRing', () => {
  it('grows up to its capacity, then drops the oldest', () => {
    const ring = new NumberRing(5, 2);
    for (let i = 1; i <= 4; i++) ring.push(i);
    expect(ring.toArray()).toEqual([1, 2, 3, 4]);
    for (let i = 5; i <= 8; i++) ring.push(i);
    expect(ring.size).toBe(5);
    expect(ring.toArray()).toEqual([4, 5, 6, 7, 8]);
    expect(ring.at(0)).toBe(4);
    expect(ring.toArray(2)).toEqual([7, 8]);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
  });
});
