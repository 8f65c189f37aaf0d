import { openAiError, parseErrorBody, plainMessage } from '../common/provider-errors.js';
import type { DecodedError } from '../types.js';

/** Google's error body: `{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED","details":[…]}}`. */
interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: Array<{ '@type'?: string; retryDelay?: string }>;
}

/** A Google API error (also the one-element array a streaming call answers with) mapped as LiteLLM maps Vertex's. */
export function googleError(label: string, status: number, body: Buffer): DecodedError {
  let parsed = parseErrorBody(body);
  if (Array.isArray(parsed)) parsed = parsed[0];
  const error = (parsed as { error?: GoogleError } | undefined)?.error;
  if (!error || typeof error !== 'object') {
    return openAiError(label, { status, message: plainMessage(body) });
  }
  return fromGoogleError(label, status, error);
}

export function fromGoogleError(label: string, status: number, error: GoogleError): DecodedError {
  const retry = error.details?.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay;
  const seconds = retry ? Number.parseFloat(retry) : Number.NaN;
  return openAiError(label, {
    status,
    message: typeof error.message === 'string' ? error.message : '',
    kind: error.status,
    bodyCode: typeof error.code === 'number' ? error.code : undefined,
    retryAfterMs: Number.isFinite(seconds) ? Math.ceil(seconds * 1000) : undefined,
  });
}
