import { openAiError, parseErrorBody, plainMessage } from '../common/provider-errors.js';
import type { DecodedError, UpstreamHeaders } from '../types.js';

/**
 * A Bedrock error: its kind from `x-amzn-errortype` (`ThrottlingException:http://…`) or the body's
 * `__type`, its message from the body's `message` (or `Message`); mapped as LiteLLM maps Bedrock's
 * (ThrottlingException → 429, bad credentials → 401, "too many input tokens" → context length).
 */
export function bedrockError(status: number, body: Buffer, headers: UpstreamHeaders): DecodedError {
  const header = headers['x-amzn-errortype'];
  const parsed = parseErrorBody(body) as
    | { message?: unknown; Message?: unknown; __type?: unknown }
    | undefined;
  const kindOf = (v: unknown) => (typeof v === 'string' ? v.split(':')[0]!.split('#').pop() : undefined);
  const kind = kindOf(Array.isArray(header) ? header[0] : header) ?? kindOf(parsed?.__type);
  const message = parsed?.message ?? parsed?.Message;
  return exceptionError(status, kind, typeof message === 'string' ? message : plainMessage(body));
}

/** An exception by name (also from a stream's exception message), as status and OpenAI-shaped body. */
export function exceptionError(status: number, kind: string | undefined, message: string): DecodedError {
  // Bedrock's 500s are LiteLLM's ServiceUnavailableError.
  const s = status === 500 ? 503 : status;
  return openAiError('Bedrock', {
    status: s,
    message: message || (kind ?? ''),
    kind: kind && kind[0]!.toUpperCase() + kind.slice(1),
  });
}

/** The HTTP status an exception in a stream stands for. */
export function exceptionStatus(kind: string): number {
  const k = kind.toLowerCase();
  if (k.startsWith('throttling') || k.startsWith('modelnotready')) return 429;
  if (k.startsWith('validation')) return 400;
  if (k.startsWith('accessdenied')) return 403;
  if (k.startsWith('modeltimeout')) return 408;
  if (k.startsWith('serviceunavailable')) return 503;
  return 500;
}
