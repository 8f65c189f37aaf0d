import type { Random } from './shuffle.js';

/** LiteLLM's INITIAL_RETRY_DELAY and MAX_RETRY_DELAY, in ms. */
const INITIAL_MS = 500;
const MAX_MS = 8_000;
/** An upstream `retry-after` longer than this is not waited for (LiteLLM's rule). */
const LONGEST_RETRY_AFTER_MS = 60_000;

export interface RetryDelayInput {
  /** 1 for the first retry, 2 for the second, … */
  readonly retry: number;
  /** The failed attempt's upstream `retry-after`, when it sent one. */
  readonly retryAfterMs?: number | undefined;
  /** `router_settings.retry_after`: never wait less than this. @default 0 */
  readonly minMs?: number | undefined;
  readonly random: Random;
}

/**
 * How long to wait before retrying a deployment that just failed, when there is no other deployment
 * to try instead: the upstream's `retry-after` when it is between 0 and 60 s, else exponential
 * backoff from 0.5 s doubling per retry, capped at 8 s, shortened by up to a quarter at random so
 * retries of many requests spread out; never below `minMs`. (A group with another deployment to try
 * retries at once, on that one.)
 */
export function retryDelayMs(input: RetryDelayInput): number {
  const { retryAfterMs, minMs = 0 } = input;
  let ms: number;
  if (retryAfterMs !== undefined && retryAfterMs > 0 && retryAfterMs <= LONGEST_RETRY_AFTER_MS) {
    ms = retryAfterMs;
  } else {
    const backoff = Math.min(INITIAL_MS * 2 ** Math.max(0, input.retry - 1), MAX_MS);
    ms = backoff * (1 - 0.25 * input.random());
  }
  return Math.max(ms, minMs);
}
