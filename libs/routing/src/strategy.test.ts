import { describe, expect, it } from 'vitest';
import { routeOrder, type Strategy, type StrategyName } from './strategy.js';

const strategy = (name: StrategyName): Strategy => ({ name, latencyTtlMs: 60_000, latencyBuffer: 0.1 });
const random = () => 0.5;
const deployments = [{ id: 'a', order: 2 }, { id: 'b', order: 1 }, { id: 'c', order: 1 }, { id: 'd' }];

describe('routeOrder', () => {
  it('gives stateful strategies the tiered shuffle order and a pick rule with each one’s tier', () => {
    const { ordered, pick } = routeOrder(strategy('usage-based-routing-v2'), deployments, random, false);
    expect(ordered.map((d) => d.order)).toEqual([1, 1, 2, undefined]);
    expect(pick).toEqual({ by: 'usage', tiers: [0, 0, 1, 2] });
    expect(routeOrder(strategy('usage-based-routing'), deployments, random, false).pick?.by).toBe('usage');
    expect(routeOrder(strategy('least-busy'), deployments, random, false).pick?.by).toBe('in_flight');
  });

  it('passes latency-based-routing its buffer, TTL and whether the request streams', () => {
    const { pick } = routeOrder(strategy('latency-based-routing'), deployments, random, true);
    expect(pick).toMatchObject({ by: 'latency', stream: true, buffer: 0.1, ttlMs: 60_000 });
  });

  it('leaves simple-shuffle, cost-based-routing and a group of one to the order given', () => {
    expect(routeOrder(strategy('simple-shuffle'), deployments, random, false).pick).toBeUndefined();
    expect(routeOrder(strategy('cost-based-routing'), deployments, random, false).pick).toBeUndefined();
    const one = routeOrder(strategy('least-busy'), [deployments[0]!], random, false);
    expect(one).toEqual({ ordered: [deployments[0]], pick: undefined });
  });

  it('caps tiers at 15, the store’s limit', () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ id: `d${i}`, order: i }));
    expect(routeOrder(strategy('least-busy'), many, random, false).pick?.tiers.at(-1)).toBe(15);
  });
});
