import type { AttemptFailure } from './attempt.js';

/**
 * LiteLLM's exception classes, as its `retry_policy` and `allowed_fails_policy` name them. A context
 * window or content policy error is a kind of BadRequestError with a class of its own.
 */
export type ErrorClass =
  | 'BadRequestError'
  | 'AuthenticationError'
  | 'NotFoundError'
  | 'TimeoutError'
  | 'RateLimitError'
  | 'ContentPolicyViolationError'
  | 'ContextWindowExceededError'
  | 'InternalServerError'
  | 'BadGatewayError'
  | 'ServiceUnavailableError';

/** The LiteLLM class of a failed attempt. */
export function errorClass(failure: AttemptFailure): ErrorClass {
  if (failure.kind === 'timeout') return 'TimeoutError';
  if (failure.kind === 'connect') return 'InternalServerError';
  if (failure.reason === 'context_window') return 'ContextWindowExceededError';
  if (failure.reason === 'content_policy') return 'ContentPolicyViolationError';
  const s = failure.status ?? 500;
  if (s === 408 || s === 504) return 'TimeoutError';
  if (s === 429) return 'RateLimitError';
  if (s === 401 || s === 403) return 'AuthenticationError';
  if (s === 404) return 'NotFoundError';
  if (s === 502) return 'BadGatewayError';
  if (s === 503) return 'ServiceUnavailableError';
  if (s >= 500) return 'InternalServerError';
  return 'BadRequestError';
}

/** `retry_policy` / `allowed_fails_policy`: a count per error class (`RateLimitErrorRetries: 3`). */
export type ClassPolicy = Readonly<Partial<Record<ErrorClass, number>>>;

/**
 * The policy's count for a failure's class. A context window or content policy error falls back to
 * the BadRequestError entry and a 502/503 to the InternalServerError one, as LiteLLM's subclasses
 * do; undefined when the policy says nothing.
 */
export function policyCount(policy: ClassPolicy | undefined, cls: ErrorClass): number | undefined {
  if (!policy) return undefined;
  const own = policy[cls];
  if (own !== undefined) return own;
  if (cls === 'ContextWindowExceededError' || cls === 'ContentPolicyViolationError')
    return policy.BadRequestError;
  if (cls === 'BadGatewayError' || cls === 'ServiceUnavailableError') return policy.InternalServerError;
  return undefined;
}

/** The policy key names LiteLLM's config uses, for config parsing: `RateLimitErrorRetries` → RateLimitError. */
export const ERROR_CLASSES: readonly ErrorClass[] = [
  'BadRequestError',
  'AuthenticationError',
  'NotFoundError',
  'TimeoutError',
  'RateLimitError',
  'ContentPolicyViolationError',
  'ContextWindowExceededError',
  'InternalServerError',
  'BadGatewayError',
  'ServiceUnavailableError',
];
