/**
 * Tokens to reserve in TPM windows before the upstream answers: the request body's size at ~4 bytes a
 * token (an over-estimate of the prompt, since JSON syntax counts too) plus the completion budget the
 * client set. Settlement corrects it to the upstream's reported usage.
 */
export function estimateTokens(bodyBytes: number, body: Record<string, unknown>): number {
  const budget = body['max_completion_tokens'] ?? body['max_tokens'];
  const completion = typeof budget === 'number' && budget > 0 ? Math.floor(budget) : 0;
  return Math.ceil(bodyBytes / 4) + completion;
}
