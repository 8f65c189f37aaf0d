import { describe, expect, it } from 'vitest';
import type { Admission, FleetStore, Subject } from './types.js';

/**
 * One behaviour contract, run against every FleetStore: the memory store on a fake clock and the
 * Redis store on real time with short windows. Times are asserted loosely enough for real time
 * (Redis's clock keeps running between calls) and exactly where only the fake clock can tell.
 */
export interface StoreHarness {
  readonly store: FleetStore;
  /** Lets `ms` of store time pass (fake clock: instantly; Redis: by sleeping). */
  advance(ms: number): Promise<void>;
  /** Window geometry the store was built with. */
  readonly windowMs: number;
  readonly bucketMs: number;
  readonly leaseMs: number;
  /** True when the clock is exact (fake). */
  readonly exactClock: boolean;
}

let seq = 0;
const subject = (limits: Subject['limits'], name = 'd'): Subject => ({ id: `${name}${++seq}`, limits });
const lease = () => `lease-${++seq}`;

function admitted(a: Admission): Extract<Admission, { admitted: true }> {
  if (!a.admitted) throw new Error(`expected admission, got ${a.reason} (retry after ${a.retryAfterMs} ms)`);
  return a;
}

function blocked(a: Admission): Extract<Admission, { admitted: false }> {
  if (a.admitted) throw new Error(`expected a block, got admission of candidate ${a.index}`);
  return a;
}

export function describeFleetStore(name: string, make: () => Promise<StoreHarness>): void {
  describe(`${name} conformance`, () => {
    it('admits exactly rpm requests in a window, then says when the oldest leaves', async () => {
      const h = await make();
      const d = subject({ rpm: 3 });
      for (let i = 0; i < 3; i++)
        admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      const b = blocked(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      expect(b.reason).toBe('no_capacity');
      // Counted in buckets: the oldest leaves once its bucket is a whole window old.
      expect(b.retryAfterMs).toBeGreaterThan(h.windowMs * 0.5);
      expect(b.retryAfterMs).toBeLessThanOrEqual(h.windowMs + h.bucketMs);
      await h.advance(b.retryAfterMs + 5);
      admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
    });

    it('reports the window left after each admission', async () => {
      const h = await make();
      const d = subject({ rpm: 5, tpm: 1000 });
      const a = admitted(await h.store.admit({ candidates: [d], tokens: 100, leaseId: lease() }));
      expect(a.states[0]?.requests).toMatchObject({ limit: 5, remaining: 4 });
      expect(a.states[0]?.tokens).toMatchObject({ limit: 1000, remaining: 900 });
      expect(a.states[0]?.requests?.resetMs).toBeGreaterThan(0);
      expect(a.states[0]?.requests?.resetMs).toBeLessThanOrEqual(h.windowMs + h.bucketMs);
      const b = admitted(await h.store.admit({ candidates: [d], tokens: 50, leaseId: lease() }));
      expect(b.states[0]?.requests?.remaining).toBe(3);
      expect(b.states[0]?.tokens?.remaining).toBe(850);
    });

    it('never holds more than rpm in any rolling window while requests keep coming', async () => {
      const h = await make();
      const rpm = 4;
      const d = subject({ rpm });
      const step = Math.floor(h.windowMs / 6);
      let admittedCount = 0;
      const perStep: number[] = [];
      for (let s = 0; s < 14; s++) {
        let n = 0;
        for (let i = 0; i < 3; i++) {
          const a = await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() });
          if (a.admitted) n++;
        }
        perStep.push(n);
        admittedCount += n;
        await h.advance(step);
      }
      // Any 6 consecutive steps span less than one window: together they may hold at most rpm.
      for (let i = 0; i + 6 <= perStep.length; i++) {
        const inWindow = perStep.slice(i, i + 5).reduce((a, b) => a + b, 0);
        expect(inWindow).toBeLessThanOrEqual(rpm);
      }
      expect(admittedCount).toBeGreaterThanOrEqual(rpm * 2);
    });

    it('picks by usage: the emptiest window relative to its limits first, tiers first of all', async () => {
      const h = await make();
      const a = subject({ rpm: 10 });
      const b = subject({ rpm: 4 });
      const pick = { by: 'usage', tiers: [0, 0] } as const;
      for (let i = 0; i < 2; i++)
        admitted(await h.store.admit({ candidates: [a], tokens: 0, leaseId: lease() }));
      // a is 2/10 full, b empty: b first (a key's gate in front changes nothing of that).
      const gate = subject({ rpm: 100 }, 'k');
      const first = admitted(
        await h.store.admit({ candidates: [a, b], gates: [gate], tokens: 0, leaseId: lease(), pick }),
      );
      expect(first.index).toBe(1);
      expect(first.states[1]?.requests?.remaining).toBe(99);
      admitted(await h.store.admit({ candidates: [b], tokens: 0, leaseId: lease() }));
      // b is now 2/4 full: a (2/10) first.
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(0);
      // A lower tier comes first however full it is.
      const tiered = { by: 'usage', tiers: [1, 0] } as const;
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick: tiered }))
          .index,
      ).toBe(1);
      admitted(await h.store.admit({ candidates: [b], tokens: 0, leaseId: lease() }));
      // b is full (4/4): the walk goes on to a.
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick: tiered }))
          .index,
      ).toBe(0);
    });

    it('picks by in-flight count, fleet-wide, as requests start and settle', async () => {
      const h = await make();
      const a = subject({ maxParallel: 100 });
      const b = subject({ maxParallel: 100 });
      const pick = { by: 'in_flight', tiers: [0, 0] } as const;
      const held = [];
      for (let i = 0; i < 2; i++)
        held.push(admitted(await h.store.admit({ candidates: [a], tokens: 0, leaseId: lease() })));
      const toB = admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick }));
      expect(toB.index).toBe(1);
      for (const x of held) await h.store.settle(x.ticket, 0, 'success');
      // a has none in flight now, b one.
      expect(
        admitted(await h.store.admit({ candidates: [b, a], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(1);
    });

    it('picks by latency: the lowest average per token, or to first token for a stream, within a buffer', async () => {
      const h = await make();
      const a = subject({});
      const b = subject({});
      const c = subject({});
      const sample = async (d: Subject, msPerToken: number, ttftMs: number) => {
        const x = admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
        await h.store.settle(x.ticket, 0, 'success', undefined, { msPerToken, ttftMs, alpha: 0.5 });
      };
      await sample(a, 100, 10);
      await sample(b, 5, 50);
      const pick = { by: 'latency', tiers: [0, 0] } as const;
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(1);
      const stream = { ...pick, stream: true };
      expect(
        admitted(await h.store.admit({ candidates: [b, a], tokens: 0, leaseId: lease(), pick: stream }))
          .index,
      ).toBe(1);
      // A moving average: b's next samples move it half way each time (alpha 0.5) until it is slower than a.
      await sample(b, 300, 50);
      await sample(b, 300, 50);
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(0);
      // Within the buffer both count as the lowest: the order given decides.
      await sample(a, 200, 10);
      expect(
        admitted(
          await h.store.admit({
            candidates: [b, a],
            tokens: 0,
            leaseId: lease(),
            pick: { ...pick, buffer: 0.6 },
          }),
        ).index,
      ).toBe(0);
      // A candidate with no samples is tried first.
      expect(
        admitted(await h.store.admit({ candidates: [a, c], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(1);
    });

    it('forgets latency samples older than the TTL', async () => {
      const h = await make();
      const a = subject({});
      const b = subject({});
      for (const [d, ms] of [
        [a, 50],
        [b, 10],
      ] as const) {
        const x = admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
        await h.store.settle(x.ticket, 0, 'success', undefined, { msPerToken: ms, alpha: 0.2 });
      }
      const pick = { by: 'latency', tiers: [0, 0], ttlMs: 200 } as const;
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(1);
      await h.advance(300);
      // Both forgotten: both score 0, the order given decides.
      expect(
        admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease(), pick })).index,
      ).toBe(0);
    });

    it('smooths: no rolling slice holds more than its share, and says when a tenth frees', async () => {
      const h = await make();
      const slice = { ms: 200, max: 3 };
      const d = subject({ rpm: 1000, slice });
      for (let i = 0; i < 3; i++)
        admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      const b = blocked(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      expect(b.reason).toBe('no_capacity');
      expect(b.retryAfterMs).toBeGreaterThan(0);
      expect(b.retryAfterMs).toBeLessThanOrEqual(slice.ms * 1.1 + 5);
      await h.advance(b.retryAfterMs + 5);
      admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      // Steady offers, two every 25 ms for a second: any 7 steps (under one slice) hold at most 3.
      const e = subject({ rpm: 1000, slice });
      const perStep: number[] = [];
      for (let step = 0; step < 40; step++) {
        let n = 0;
        for (let i = 0; i < 2; i++)
          if ((await h.store.admit({ candidates: [e], tokens: 0, leaseId: lease() })).admitted) n++;
        perStep.push(n);
        await h.advance(25);
      }
      for (let i = 0; i + 7 <= perStep.length; i++)
        expect(perStep.slice(i, i + 7).reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(slice.max);
      expect(perStep.reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(10);
      // A gate out of its slice refuses as a gate out of requests.
      const gate = subject({ slice: { ms: 10_000, max: 1 } }, 'k');
      admitted(
        await h.store.admit({ candidates: [subject({})], gates: [gate], tokens: 0, leaseId: lease() }),
      );
      const g = blocked(
        await h.store.admit({ candidates: [subject({})], gates: [gate], tokens: 0, leaseId: lease() }),
      );
      expect(g.reason).toBe('gate_rpm');
      expect(g.gateIndex).toBe(0);
    });

    it('walks candidates in order and reserves in the first with room', async () => {
      const h = await make();
      const full = subject({ rpm: 1 });
      const spare = subject({ rpm: 10 });
      expect(
        admitted(await h.store.admit({ candidates: [full, spare], tokens: 0, leaseId: lease() })).index,
      ).toBe(0);
      const second = admitted(
        await h.store.admit({ candidates: [full, spare], tokens: 0, leaseId: lease() }),
      );
      expect(second.index).toBe(1);
      expect(second.ticket.subjects[0]?.id).toBe(spare.id);
      expect(second.states[0]?.requests?.remaining).toBe(9);
    });

    it('blocks on the candidate that frees soonest when none has room', async () => {
      const h = await make();
      const a = subject({ rpm: 1 });
      const b = subject({ rpm: 1 });
      admitted(await h.store.admit({ candidates: [a], tokens: 0, leaseId: lease() }));
      await h.advance(Math.floor(h.windowMs / 2));
      admitted(await h.store.admit({ candidates: [b], tokens: 0, leaseId: lease() }));
      const x = blocked(await h.store.admit({ candidates: [b, a], tokens: 0, leaseId: lease() }));
      expect(x.reason).toBe('no_capacity');
      expect(x.retryAfterMs).toBeLessThanOrEqual(Math.ceil(h.windowMs / 2) + h.bucketMs + 5);
    });

    it('skips a cooled-down candidate, and says so when every candidate cools down', async () => {
      const h = await make();
      const a = subject({});
      const b = subject({});
      await h.store.coolDown(a.id, h.windowMs);
      expect(admitted(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease() })).index).toBe(
        1,
      );
      await h.store.coolDown(b.id, h.windowMs / 2);
      const x = blocked(await h.store.admit({ candidates: [a, b], tokens: 0, leaseId: lease() }));
      expect(x.reason).toBe('cooldown');
      expect(x.retryAfterMs).toBeGreaterThan(h.windowMs / 4);
      expect(x.retryAfterMs).toBeLessThanOrEqual(h.windowMs / 2);
      const [left] = await h.store.cooldowns([a.id]);
      expect(left).toBeGreaterThan(h.windowMs / 2);
    });

    it('never shortens a running cooldown', async () => {
      const h = await make();
      const a = subject({});
      await h.store.coolDown(a.id, h.windowMs);
      await h.store.coolDown(a.id, 10);
      const [left] = await h.store.cooldowns([a.id]);
      expect(left).toBeGreaterThan(h.windowMs - 200);
      await h.store.coolDown(a.id, h.windowMs * 2);
      const [longer] = await h.store.cooldowns([a.id]);
      expect(longer).toBeGreaterThan(h.windowMs * 2 - 200);
    });

    it('lets a cooldown expire', async () => {
      const h = await make();
      const a = subject({});
      await h.store.coolDown(a.id, 100);
      await h.advance(150);
      admitted(await h.store.admit({ candidates: [a], tokens: 0, leaseId: lease() }));
      expect(await h.store.cooldowns([a.id])).toEqual([0]);
    });

    it('reserves tokens, then settles them to real usage', async () => {
      const h = await make();
      const d = subject({ tpm: 1000 });
      const first = admitted(await h.store.admit({ candidates: [d], tokens: 600, leaseId: lease() }));
      blocked(await h.store.admit({ candidates: [d], tokens: 600, leaseId: lease() }));
      await h.store.settle(first.ticket, 100, 'success');
      const second = admitted(await h.store.admit({ candidates: [d], tokens: 600, leaseId: lease() }));
      expect(second.states[0]?.tokens?.remaining).toBe(300);
      // Usage above the estimate is counted too: the window holds what was really used.
      await h.store.settle(second.ticket, 850, 'success');
      const x = blocked(await h.store.admit({ candidates: [d], tokens: 100, leaseId: lease() }));
      expect(x.retryAfterMs).toBeLessThanOrEqual(h.windowMs + h.bucketMs);
    });

    it('settles a reservation whose bucket has closed since, and forgets it with its window', async () => {
      const h = await make();
      const d = subject({ tpm: 1000 });
      const early = admitted(await h.store.admit({ candidates: [d], tokens: 600, leaseId: lease() }));
      await h.advance(h.bucketMs * 2 + 5);
      admitted(await h.store.admit({ candidates: [d], tokens: 100, leaseId: lease() }));
      // The early request used 100 tokens, not 600: its (closed) bucket gives 500 back.
      await h.store.settle(early.ticket, 100, 'success');
      const big = admitted(await h.store.admit({ candidates: [d], tokens: 700, leaseId: lease() }));
      expect(big.states[0]?.tokens?.remaining).toBe(100);
      blocked(await h.store.admit({ candidates: [d], tokens: 101, leaseId: lease() }));
      await h.advance(h.windowMs + h.bucketMs + 5);
      expect(
        admitted(await h.store.admit({ candidates: [d], tokens: 1000, leaseId: lease() })).states[0]?.tokens
          ?.remaining,
      ).toBe(0);
    });

    it('forgets tokens once they leave the window', async () => {
      const h = await make();
      const d = subject({ tpm: 100 });
      admitted(await h.store.admit({ candidates: [d], tokens: 100, leaseId: lease() }));
      const x = blocked(await h.store.admit({ candidates: [d], tokens: 1, leaseId: lease() }));
      expect(x.reason).toBe('no_capacity');
      await h.advance(x.retryAfterMs + 5);
      admitted(await h.store.admit({ candidates: [d], tokens: 100, leaseId: lease() }));
    });

    it('caps requests in flight and frees a slot when the request settles', async () => {
      const h = await make();
      const d = subject({ maxParallel: 2 });
      const one = admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      blocked(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
      await h.store.settle(one.ticket, 0, 'success');
      admitted(await h.store.admit({ candidates: [d], tokens: 0, leaseId: lease() }));
    });

    it('checks gates first and reserves them together with the chosen candidate', async () => {
      const h = await make();
      const key = subject({ rpm: 2 }, 'k');
      const d = subject({ rpm: 1 });
      const e = subject({});
      const a = admitted(await h.store.admit({ candidates: [d], gates: [key], tokens: 0, leaseId: lease() }));
      expect(a.states.map((s) => s.requests?.remaining)).toEqual([0, 1]);
      // d is full: nothing is reserved anywhere, so the key keeps its last request.
      blocked(await h.store.admit({ candidates: [d], gates: [key], tokens: 0, leaseId: lease() }));
      admitted(await h.store.admit({ candidates: [e], gates: [key], tokens: 0, leaseId: lease() }));
      const g = blocked(await h.store.admit({ candidates: [e], gates: [key], tokens: 0, leaseId: lease() }));
      expect(g.reason).toBe('gate_rpm');
      expect(g.gateIndex).toBe(0);
      expect(g.retryAfterMs).toBeGreaterThan(0);
    });

    it('blocks on a gate out of tokens or parallel slots', async () => {
      const h = await make();
      const tokens = subject({ tpm: 10 }, 'k');
      const parallel = subject({ maxParallel: 1 }, 'k');
      const d = subject({});
      expect(
        blocked(await h.store.admit({ candidates: [d], gates: [tokens], tokens: 11, leaseId: lease() }))
          .reason,
      ).toBe('gate_tpm');
      admitted(await h.store.admit({ candidates: [d], gates: [parallel], tokens: 0, leaseId: lease() }));
      const p = blocked(
        await h.store.admit({ candidates: [d], gates: [tokens, parallel], tokens: 0, leaseId: lease() }),
      );
      expect(p.reason).toBe('gate_parallel');
      expect(p.gateIndex).toBe(1);
    });

    it('counts the calls of the chosen candidate at admission and its failures at settlement', async () => {
      const h = await make();
      const d = subject({ tpm: 1_000_000 });
      const settleWith = async (outcome: 'success' | 'failure' | 'none') => {
        const a = admitted(await h.store.admit({ candidates: [d], tokens: 5, leaseId: lease() }));
        return h.store.settle(a.ticket, 3, outcome);
      };
      expect(await settleWith('success')).toBeUndefined();
      expect(await settleWith('failure')).toEqual({ failures: 1, total: 2 });
      expect(await settleWith('none')).toBeUndefined();
      expect(await settleWith('failure')).toEqual({ failures: 2, total: 4 });
    });

    it('answers an empty candidate list with no capacity', async () => {
      const h = await make();
      const x = blocked(await h.store.admit({ candidates: [], tokens: 0, leaseId: lease() }));
      expect(x.reason).toBe('no_capacity');
    });
  });
}
