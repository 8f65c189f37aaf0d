import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createAdmissionQueue } from './admission-queue.js';

class Gone extends EventEmitter {
  aborted = false;
  leave() {
    this.aborted = true;
    this.emit('abort');
  }
}

describe('the admission line', () => {
  it('lets the first in line ask again, then the next as soon as the first leaves', async () => {
    const q = createAdmissionQueue(10);
    const far = performance.now() + 10_000;
    const a = q.join('g', 0, far, new Gone())!;
    const b = q.join('g', 0, far, new Gone())!;
    const order: string[] = [];
    const bTurn = b.turn(5).then((t) => order.push(`b:${t}`));
    await a.turn(5).then((t) => order.push(`a:${t}`));
    expect(order).toEqual(['a:retry']);
    a.leave();
    await bTurn;
    expect(order).toEqual(['a:retry', 'b:retry']);
    b.leave();
    expect(q.size()).toBe(0);
  });

  it('orders by priority (lower first), then by arrival', async () => {
    const q = createAdmissionQueue(10);
    const far = performance.now() + 10_000;
    const low = q.join('g', 5, far, new Gone())!;
    const high = q.join('g', 0, far, new Gone())!;
    const high2 = q.join('g', 0, far, new Gone())!;
    const order: string[] = [];
    const turns = [
      low.turn(0).then(() => order.push('low')),
      high2.turn(0).then(() => order.push('high2')),
      high.turn(0).then(() => order.push('high')),
    ];
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['high']);
    high.leave();
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['high', 'high2']);
    high2.leave();
    await Promise.all(turns);
    expect(order).toEqual(['high', 'high2', 'low']);
    low.leave();
  });

  it('wakes the first in line when a request of its group ends here, not after the hint', async () => {
    const q = createAdmissionQueue(10);
    const w = q.join('g', 0, performance.now() + 10_000, new Gone())!;
    const started = performance.now();
    const turn = w.turn(10_000);
    q.notify('other');
    q.notify('g');
    expect(await turn).toBe('retry');
    expect(performance.now() - started).toBeLessThan(40);
    w.leave();
  });

  it('ends a wait at its deadline, and at once when the client leaves', async () => {
    const q = createAdmissionQueue(10);
    const first = q.join('g', 0, performance.now() + 10_000, new Gone())!;
    const gone = new Gone();
    const second = q.join('g', 0, performance.now() + 60, new Gone())!;
    const third = q.join('g', 0, performance.now() + 10_000, gone)!;
    const started = performance.now();
    const thirdTurn = third.turn(0);
    gone.leave();
    expect(await thirdTurn).toBe('gone');
    expect(await second.turn(0)).toBe('timeout');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    for (const w of [first, second, third]) w.leave();
    expect(q.size()).toBe(0);
  });

  it('refuses to line up more than its cap', () => {
    const q = createAdmissionQueue(2);
    const far = performance.now() + 10_000;
    expect(q.join('a', 0, far, new Gone())).toBeDefined();
    expect(q.join('b', 0, far, new Gone())).toBeDefined();
    expect(q.join('a', 0, far, new Gone())).toBeUndefined();
  });
});
