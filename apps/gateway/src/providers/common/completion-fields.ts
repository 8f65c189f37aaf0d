/**
 * Request fields OpenAI's chat and `/completions` endpoints share, meaning the same in both: what a
 * request translated from one endpoint to the other carries over as it is.
 */
export const SHARED_COMPLETION_FIELDS = [
  'max_tokens',
  'temperature',
  'top_p',
  'n',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'user',
  'seed',
  'stream',
] as const;
