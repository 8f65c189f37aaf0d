import { describe, expect, it } from 'vitest';
import { orderByCost, shuffleByWeight } from './shuffle.js';

/** A deterministic uniform source (mulberry32), so distributions are checked without flakiness. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function firstPickShare(
  deployments: Parameters<typeof shuffleByWeight>[0],
  runs = 20_000,
): Record<string, number> {
  const random = seeded(42);
  const counts: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    const id = shuffleByWeight(deployments, random)[0]!.id;
    counts[id] = (counts[id] ?? 0) + 1;
  }
  for (const k of Object.keys(counts)) counts[k] = counts[k]! / runs;
  return counts;
}

describe('shuffleByWeight', () => {
  it('picks first in proportion to weight, as simple-shuffle does', () => {
    const share = firstPickShare([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 3 },
    ]);
    expect(share['a']).toBeCloseTo(0.25, 1);
    expect(share['b']).toBeCloseTo(0.75, 1);
  });

  it('falls back to rpm, then tpm, when no weight is set', () => {
    const byRpm = firstPickShare([
      { id: 'a', rpm: 100, tpm: 9_000 },
      { id: 'b', rpm: 300, tpm: 1_000 },
    ]);
    expect(byRpm['b']).toBeCloseTo(0.75, 1);
    const byTpm = firstPickShare([
      { id: 'a', tpm: 1_000 },
      { id: 'b', tpm: 4_000 },
    ]);
    expect(byTpm['b']).toBeCloseTo(0.8, 1);
  });

  it('is uniform without weights and returns every deployment once', () => {
    const deployments = [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }];
    const share = firstPickShare(deployments);
    for (const id of ['a', 'b', 'c', 'd']) expect(share[id]).toBeCloseTo(0.25, 1);
    const ranked = shuffleByWeight(deployments, seeded(1));
    expect(ranked.map((d) => d.id).sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('puts lower order tiers first and deployments without order last', () => {
    const random = seeded(7);
    for (let i = 0; i < 100; i++) {
      const ranked = shuffleByWeight(
        [{ id: 'none' }, { id: 'tier2a', order: 2 }, { id: 'tier1', order: 1 }, { id: 'tier2b', order: 2 }],
        random,
      ).map((d) => d.id);
      expect(ranked[0]).toBe('tier1');
      expect(ranked.slice(1, 3).sort()).toEqual(['tier2a', 'tier2b']);
      expect(ranked[3]).toBe('none');
    }
  });

  it('ranks a zero-weight deployment after every weighted one', () => {
    const random = seeded(3);
    for (let i = 0; i < 100; i++) {
      expect(
        shuffleByWeight(
          [
            { id: 'zero', weight: 0 },
            { id: 'one', weight: 1 },
          ],
          random,
        )[0]!.id,
      ).toBe('one');
    }
  });
});

describe('orderByCost', () => {
  it('puts the cheapest first inside each order tier, unpriced deployments last', () => {
    const ds = [
      { id: 'dear', inputCostPerToken: 3e-6, outputCostPerToken: 1e-5 },
      { id: 'unpriced' },
      { id: 'cheap', inputCostPerToken: 1e-7, outputCostPerToken: 2e-7 },
      { id: 'backup', order: 2, inputCostPerToken: 0, outputCostPerToken: 0 },
      { id: 'mid', order: 1, inputCostPerToken: 1e-6, outputCostPerToken: 1e-6 },
    ];
    expect(orderByCost(ds, Math.random).map((d) => d.id)).toEqual([
      'mid',
      'backup',
      'cheap',
      'dear',
      'unpriced',
    ]);
  });
});
