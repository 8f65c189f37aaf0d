/**
 * How one upstream attempt ended, as routing sees it: a status or a network failure, never HTTP
 * objects. The gateway's adapters produce it; routing turns it into retry and cooldown decisions.
 */
export interface AttemptFailure {
  /** `http`: the upstream answered with `status`; `connect`: it could not be reached; `timeout`: it went quiet. */
  readonly kind: 'http' | 'connect' | 'timeout';
  readonly status?: number | undefined;
  /** The upstream's `retry-after`, in ms, when it sent one. */
  readonly retryAfterMs?: number | undefined;
  /**
   * A 400 the provider explained: the prompt does not fit the model's context window, or the content
   * was refused by its policy. Each has fallbacks of its own (`context_window_fallbacks`,
   * `content_policy_fallbacks`).
   */
  readonly reason?: 'context_window' | 'content_policy' | undefined;
}

/**
 * Worth another deployment: rate limits (429), timeouts (408 and our own), server errors (5xx) and
 * connection failures. A 400, 401, 403, 404 or 422 would fail the same way elsewhere: returned at once.
 */
export function isRetryable(failure: AttemptFailure): boolean {
  if (failure.kind !== 'http') return true;
  const s = failure.status ?? 0;
  return s === 429 || s === 408 || s >= 500;
}

/**
 * Says something about the deployment's health (and so counts toward its failure rate): everything
 * retryable, plus 401 and 404 (a wrong key or model name on the deployment). Client mistakes such as
 * 400 or 422 say nothing about the deployment and are not counted.
 */
export function isDeploymentFault(failure: AttemptFailure): boolean {
  if (isRetryable(failure)) return true;
  return failure.status === 401 || failure.status === 404;
}
