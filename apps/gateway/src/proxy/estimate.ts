/** Tokens a request is expected to use before the upstream says: reserved in TPM windows, priced for budgets. */
export interface TokenEstimate {
  /** The request body's size at ~4 bytes a token: an over-estimate of the prompt (JSON syntax counts too). */
  readonly prompt: number;
  /** The completion budget the client set (`max_completion_tokens` or `max_tokens`), else 0. */
  readonly completion: number;
  readonly total: number;
}

/** Settlement corrects the estimate to the upstream's reported usage. */
export function estimateTokens(bodyBytes: number, body: Record<string, unknown>): TokenEstimate {
  const budget = body['max_completion_tokens'] ?? body['max_tokens'];
  const completion = typeof budget === 'number' && budget > 0 ? Math.floor(budget) : 0;
  const prompt = Math.ceil(bodyBytes / 4);
  return { prompt, completion, total: prompt + completion };
}
