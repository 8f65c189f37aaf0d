import { describe, expect, it } from 'vitest';
import { type AttemptFailure, isRetryable } from './attempt.js';
import { type CooldownInput, decideCooldown } from './cooldown.js';

const policy = { cooldownMs: 5_000, disabled: false };
const http = (status: number, retryAfterMs?: number): AttemptFailure => ({
  kind: 'http',
  status,
  retryAfterMs,
});
const input = (failure: AttemptFailure, over: Partial<CooldownInput> = {}): CooldownInput => ({
  failure,
  groupSize: 2,
  failures: 1,
  total: 1,
  ...over,
});

describe('decideCooldown (LiteLLM defaults)', () => {
  it('cools a 429 at once when the group has another deployment, not when it is alone', () => {
    expect(decideCooldown(policy, input(http(429)))).toBe(5_000);
    expect(decideCooldown(policy, input(http(429), { groupSize: 1 }))).toBe(0);
  });

  it('cools 401 and 404 at once, even alone', () => {
    expect(decideCooldown(policy, input(http(401), { groupSize: 1 }))).toBe(5_000);
    expect(decideCooldown(policy, input(http(404)))).toBe(5_000);
  });

  it('cools 5xx, 408, timeouts and connection failures only when over half of at least 5 calls failed', () => {
    for (const failure of [
      http(500),
      http(503),
      http(408),
      { kind: 'timeout' } as const,
      { kind: 'connect' } as const,
    ]) {
      expect(decideCooldown(policy, input(failure, { failures: 4, total: 4 }))).toBe(0);
      expect(decideCooldown(policy, input(failure, { failures: 3, total: 6 }))).toBe(0);
      expect(decideCooldown(policy, input(failure, { failures: 3, total: 5 }))).toBe(5_000);
    }
  });

  it('spares a lone deployment from the ratio rule until it fails everything at scale', () => {
    expect(decideCooldown(policy, input(http(500), { groupSize: 1, failures: 5, total: 5 }))).toBe(0);
    expect(decideCooldown(policy, input(http(500), { groupSize: 1, failures: 1000, total: 1000 }))).toBe(
      5_000,
    );
  });

  it('never cools for client errors', () => {
    for (const status of [400, 403, 413, 422]) {
      expect(decideCooldown(policy, input(http(status), { failures: 10, total: 10 }))).toBe(0);
    }
  });

  it('lets an upstream retry-after longer than the cooldown win, and a shorter one not', () => {
    expect(decideCooldown(policy, input(http(429, 30_000)))).toBe(30_000);
    expect(decideCooldown(policy, input(http(429, 1_000)))).toBe(5_000);
  });

  it('honours per-deployment cooldown_time, disable_cooldowns and a zero cooldown', () => {
    expect(decideCooldown(policy, input(http(429), { deploymentCooldownMs: 60_000 }))).toBe(60_000);
    expect(decideCooldown(policy, input(http(429), { deploymentCooldownMs: 0 }))).toBe(0);
    expect(decideCooldown({ ...policy, disabled: true }, input(http(401)))).toBe(0);
  });

  it('with allowed_fails set, cools down once the minute holds more failures than allowed', () => {
    const strict = { ...policy, allowedFails: 3 };
    expect(decideCooldown(strict, input(http(500), { failures: 3, total: 3 }))).toBe(0);
    expect(decideCooldown(strict, input(http(500), { failures: 4, total: 4, groupSize: 1 }))).toBe(5_000);
    // Explicit allowed_fails replaces the special cases, as in LiteLLM's allowed-fails mode.
    expect(decideCooldown(strict, input(http(429), { failures: 1, total: 1 }))).toBe(0);
  });
});

describe('isRetryable', () => {
  it('retries rate limits, timeouts, server errors and connection failures, nothing else', () => {
    for (const s of [429, 408, 500, 502, 503, 504]) expect(isRetryable(http(s))).toBe(true);
    for (const s of [400, 401, 403, 404, 422]) expect(isRetryable(http(s))).toBe(false);
    expect(isRetryable({ kind: 'connect' })).toBe(true);
    expect(isRetryable({ kind: 'timeout' })).toBe(true);
  });
});

describe('allowed_fails_policy', () => {
  const policy = {
    cooldownMs: 5000,
    disabled: false,
    allowedFailsPolicy: { RateLimitError: 10, AuthenticationError: 0 },
  };
  it("cools down past the count of the failure's class, other classes by the default rules", () => {
    const at = (failure: Parameters<typeof decideCooldown>[1]['failure'], failures: number) =>
      decideCooldown(policy, { failure, groupSize: 2, failures, total: 20 });
    // 429s: the policy's 10 replaces "at once when the group has another deployment".
    expect(at({ kind: 'http', status: 429 }, 10)).toBe(0);
    expect(at({ kind: 'http', status: 429 }, 11)).toBe(5000);
    expect(at({ kind: 'http', status: 401 }, 1)).toBe(5000);
    // 500s are not in the policy: the ratio rule (more than half of at least 5 calls).
    expect(at({ kind: 'http', status: 500 }, 10)).toBe(0);
    expect(at({ kind: 'http', status: 500 }, 11)).toBe(5000);
  });
});
