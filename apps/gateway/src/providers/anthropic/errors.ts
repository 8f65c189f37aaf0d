import { mapFailure, openAiError, parseErrorBody, plainMessage } from '../common/provider-errors.js';
import type { DecodedError } from '../types.js';

/** Anthropic's error body: `{"type":"error","error":{"type":"rate_limit_error","message":"…"}}`. */
export function anthropicErrorOf(body: Buffer): { type?: string; message?: string } | undefined {
  const parsed = parseErrorBody(body) as { error?: { type?: unknown; message?: unknown } } | undefined;
  const e = parsed?.error;
  if (!e || typeof e !== 'object') return undefined;
  return {
    type: typeof e.type === 'string' ? e.type : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
  };
}

/** An Anthropic error mapped as LiteLLM maps Anthropic's, in OpenAI's shape. */
export function anthropicError(status: number, body: Buffer): DecodedError {
  const e = anthropicErrorOf(body);
  return openAiError('Anthropic', { status, message: e?.message ?? plainMessage(body), kind: e?.type });
}

/** An Anthropic error passed through to an Anthropic client as it came; only the logged code is mapped. */
export function nativeError(status: number, body: Buffer): DecodedError {
  const e = anthropicErrorOf(body);
  const { code } = mapFailure({ status, message: e?.message ?? plainMessage(body), kind: e?.type });
  if (e) return { status, code, body, contentType: 'application/json' };
  const message = plainMessage(body) || `upstream answered ${status}`;
  const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error';
  return {
    status,
    code,
    body: JSON.stringify({ type: 'error', error: { type, message } }),
    contentType: 'application/json',
  };
}
