import { describe, expect, it } from 'vitest';
import { errorClass, policyCount } from './error-class.js';
import { type FallbackPolicy, fallbackChain, fallbackKind, NO_FALLBACKS } from './fallbacks.js';

describe('fallback chains', () => {
  const policy: FallbackPolicy = {
    general: new Map([
      ['gpt-4', ['claude', 'gpt-4', 'gemini']],
      ['claude', ['gpt-4']],
    ]),
    contextWindow: new Map([['gpt-4', ['gpt-4-128k']]]),
    contentPolicy: new Map(),
    defaults: ['cheap'],
    maxFallbacks: 2,
  };

  it('follow the kind of failure, as LiteLLM chooses them', () => {
    expect(fallbackChain(policy, 'gpt-4', 'general')).toEqual(['claude', 'gemini']);
    expect(fallbackChain(policy, 'gpt-4', 'context_window')).toEqual(['gpt-4-128k']);
    // Context window fallbacks are configured, but not for this group: none, not the general ones.
    expect(fallbackChain(policy, 'claude', 'context_window')).toEqual([]);
    // No content policy fallbacks at all: the general ones.
    expect(fallbackChain(policy, 'claude', 'content_policy')).toEqual(['gpt-4']);
    expect(fallbackChain(policy, 'mistral', 'general')).toEqual(['cheap']);
    expect(fallbackChain(NO_FALLBACKS, 'x', 'general')).toEqual([]);
  });

  it('know a failure by its reason', () => {
    expect(fallbackKind({ kind: 'http', status: 400, reason: 'context_window' })).toBe('context_window');
    expect(fallbackKind({ kind: 'http', status: 400, reason: 'content_policy' })).toBe('content_policy');
    expect(fallbackKind({ kind: 'timeout' })).toBe('general');
    expect(fallbackKind(undefined)).toBe('general');
  });
});

describe('error classes', () => {
  it("name a failure as LiteLLM's exceptions do", () => {
    expect(errorClass({ kind: 'timeout' })).toBe('TimeoutError');
    expect(errorClass({ kind: 'connect' })).toBe('InternalServerError');
    expect(errorClass({ kind: 'http', status: 429 })).toBe('RateLimitError');
    expect(errorClass({ kind: 'http', status: 401 })).toBe('AuthenticationError');
    expect(errorClass({ kind: 'http', status: 403 })).toBe('AuthenticationError');
    expect(errorClass({ kind: 'http', status: 408 })).toBe('TimeoutError');
    expect(errorClass({ kind: 'http', status: 400, reason: 'content_policy' })).toBe(
      'ContentPolicyViolationError',
    );
    expect(errorClass({ kind: 'http', status: 422 })).toBe('BadRequestError');
    expect(errorClass({ kind: 'http', status: 503 })).toBe('ServiceUnavailableError');
    expect(errorClass({ kind: 'http', status: 500 })).toBe('InternalServerError');
  });

  it("read a policy's count, subclasses falling back to their parent's", () => {
    const policy = { BadRequestError: 1, InternalServerError: 4, RateLimitError: 0 };
    expect(policyCount(policy, 'RateLimitError')).toBe(0);
    expect(policyCount(policy, 'ContextWindowExceededError')).toBe(1);
    expect(policyCount(policy, 'ServiceUnavailableError')).toBe(4);
    expect(policyCount(policy, 'TimeoutError')).toBeUndefined();
    expect(policyCount(undefined, 'TimeoutError')).toBeUndefined();
  });
});
