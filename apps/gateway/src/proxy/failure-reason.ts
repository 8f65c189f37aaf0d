/** OpenAI's and the providers' ways of saying the prompt does not fit the model. */
const CONTEXT_WINDOW =
  /context[_ ]length|context window|maximum context|prompt is too long|input is too long|too many (input )?tokens|exceeds the (model'?s )?(max|maximum)/i;
/** … and that the content was refused under the provider's policy. */
const CONTENT_POLICY = /content[_ ](management )?polic|content[_ ]filter|responsible ?ai|safety system/i;

/**
 * Why an upstream refused a request with a 400, when its OpenAI-shaped error says so: the prompt does
 * not fit (OpenAI's `context_length_exceeded`) or the content broke the provider's policy (Azure's
 * `content_filter`, OpenAI's `content_policy_violation`). Each has fallbacks of its own.
 */
export function failureReason(status: number, body: Buffer): 'context_window' | 'content_policy' | undefined {
  if (status !== 400 && status !== 413 && status !== 422) return undefined;
  let error: { code?: unknown; type?: unknown; message?: unknown } | undefined;
  try {
    error = (JSON.parse(body.toString('utf8')) as { error?: typeof error }).error;
  } catch {
    return undefined;
  }
  if (!error || typeof error !== 'object') return undefined;
  const text = [error.code, error.type, error.message].filter((v) => typeof v === 'string').join(' ');
  if (CONTEXT_WINDOW.test(text)) return 'context_window';
  if (CONTENT_POLICY.test(text)) return 'content_policy';
  return undefined;
}
