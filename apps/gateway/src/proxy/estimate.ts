/** Tokens a request is expected to use before the upstream says: reserved in TPM windows, priced for budgets. */
export interface TokenEstimate {
  /** The request body's size at ~4 bytes a token: an over-estimate of the prompt (JSON syntax counts too). */
  readonly prompt: number;
  /**
   * The completion budget the client set (`max_completion_tokens` or `max_tokens`), else the
   * configured default (`reserve_completion_tokens`; 0 for embeddings, which complete nothing).
   */
  readonly completion: number;
  readonly total: number;
}

/**
 * Settlement corrects the estimate to the upstream's reported usage. Without a completion budget
 * the request still reserves `defaultCompletion`: otherwise many requests without `max_tokens` in
 * flight at once could each be admitted on their prompt alone and together use far more than the TPM.
 */
export function estimateTokens(
  bodyBytes: number,
  body: Record<string, unknown>,
  defaultCompletion: number,
): TokenEstimate {
  const budget = body['max_completion_tokens'] ?? body['max_tokens'];
  const completion = typeof budget === 'number' && budget > 0 ? Math.floor(budget) : defaultCompletion;
  const prompt = Math.ceil(bodyBytes / 4);
  return { prompt, completion, total: prompt + completion };
}
