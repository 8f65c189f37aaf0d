import { describe, expect, it } from 'vitest';
import { createTickGroup, createTickQueue } from './tick-queue.js';

const tick = () => new Promise((r) => setImmediate(r));

describe('tick queues', () => {
  it('hand a tick’s items to flush together, once, at the end of the tick', async () => {
    const flushed: number[][] = [];
    const q = createTickQueue((b: number[]) => void flushed.push(b), 100);
    q.push(1);
    q.push(2);
    expect(flushed).toEqual([]);
    await tick();
    q.push(3);
    await tick();
    expect(flushed).toEqual([[1, 2], [3]]);
  });

  it('flush at once when max items wait', () => {
    const flushed: number[][] = [];
    const q = createTickQueue((b: number[]) => void flushed.push(b), 2);
    q.push(1);
    q.push(2);
    expect(flushed).toEqual([[1, 2]]);
  });

  it('in a group, are drained in one end-of-tick call, in the order they joined', async () => {
    const log: string[] = [];
    const group = createTickGroup((run) => {
      log.push('open');
      run();
      log.push('close');
    });
    const settle = createTickQueue((b: string[]) => void log.push(`settle ${b.join(',')}`), 100, { group });
    const admit = createTickQueue((b: string[]) => void log.push(`admit ${b.join(',')}`), 100, { group });
    admit.push('a1');
    settle.push('s1');
    admit.push('a2');
    await tick();
    expect(log).toEqual(['open', 'settle s1', 'admit a1,a2', 'close']);
    log.length = 0;
    admit.push('a3');
    await tick();
    await tick();
    expect(log).toEqual(['open', 'admit a3', 'close']);
  });
});

describe('lazy items', () => {
  it('wait for the next eager flush of their group, and no longer than lazyMs', async () => {
    const log: string[] = [];
    const group = createTickGroup();
    const settle = createTickQueue((b: string[]) => void log.push(`settle ${b.join(',')}`), 100, {
      group,
      lazyMs: 40,
    });
    const admit = createTickQueue((b: string[]) => void log.push(`admit ${b.join(',')}`), 100, { group });
    settle.push('s1', true);
    await tick();
    await tick();
    expect(log).toEqual([]);
    admit.push('a1');
    await tick();
    expect(log).toEqual(['settle s1', 'admit a1']);
    log.length = 0;
    const pushed = performance.now();
    settle.push('s2', true);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual([]);
    await expect.poll(() => log, { timeout: 1_000, interval: 5 }).toEqual(['settle s2']);
    expect(performance.now() - pushed).toBeGreaterThanOrEqual(35);
  });

  it('go at the end of the tick when an eager item joins them', async () => {
    const flushed: string[][] = [];
    const q = createTickQueue((b: string[]) => void flushed.push(b), 100, { lazyMs: 10_000 });
    q.push('lazy', true);
    q.push('eager');
    await tick();
    expect(flushed).toEqual([['lazy', 'eager']]);
  });
});
