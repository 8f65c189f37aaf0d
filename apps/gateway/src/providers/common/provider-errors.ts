import { type ErrorCode, GatewayError } from '../../errors.js';
import type { DecodedError } from '../types.js';

/** What a provider said when it refused a call, before mapping. */
export interface ProviderFailure {
  readonly status: number;
  /** The provider's own message, credentials already scrubbed. */
  readonly message: string;
  /** The provider's name for the error: `RESOURCE_EXHAUSTED`, `ThrottlingException`, `rate_limit_error`, … */
  readonly kind?: string | undefined;
  /** The error code inside the body, when it differs from the status (Google wraps 429s in 5xx answers). */
  readonly bodyCode?: number | undefined;
  /** The provider's own retry hint, in ms. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * Phrases LiteLLM reads as "the prompt does not fit the model" (its
 * `is_error_str_context_window_exceeded` and the Anthropic, Bedrock and Vertex branches of
 * litellm/litellm_core_utils/exception_mapping_utils.py), lower-cased.
 */
const CONTEXT_PHRASES = [
  'exceed context limit',
  "this model's maximum context length is",
  "model's maximum context limit",
  "is longer than the model's context length",
  'input tokens exceed the configured limit',
  'exceeds the available context size',
  'exceeds the maximum number of tokens allowed',
  'prompt is too long',
  'input is too long',
  'too many input tokens',
  'too many tokens',
  'request payload size exceeds',
];

const RATE_KINDS = new Set([
  'RESOURCE_EXHAUSTED',
  'ThrottlingException',
  'throttlingException',
  'rate_limit_error',
  'ModelNotReadyException',
]);

const AUTH_KINDS = new Set([
  'UNAUTHENTICATED',
  'authentication_error',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'invalid_grant',
]);

const AUTH_PHRASES = [
  'api key not valid',
  'the security token included in the request is invalid',
  'invalid api key',
];

/**
 * Maps a provider's refusal the way LiteLLM does, so routing reacts alike: rate limits (429,
 * RESOURCE_EXHAUSTED, ThrottlingException, a 5xx whose body says 429) → 429, the deployment cools
 * down; credentials refused → 401, cooled down at once; a prompt over the context window → 400
 * `context_length_exceeded`; overload (Anthropic's 529) → 500. Anything else keeps its status.
 */
export function mapFailure(f: ProviderFailure): { status: number; code: ErrorCode } {
  const lower = f.message.toLowerCase();
  const kind = f.kind ?? '';
  if (f.status === 429 || RATE_KINDS.has(kind) || (f.status >= 500 && f.bodyCode === 429)) {
    return { status: 429, code: 'upstream_rate_limited' };
  }
  if (f.status === 401 || AUTH_KINDS.has(kind) || AUTH_PHRASES.some((p) => lower.includes(p))) {
    return { status: 401, code: 'upstream_auth_error' };
  }
  if (f.status < 500 && CONTEXT_PHRASES.some((p) => lower.includes(p))) {
    return { status: 400, code: 'context_length_exceeded' };
  }
  if (f.status === 529 || kind === 'overloaded_error') return { status: 500, code: 'upstream_error' };
  return { status: f.status >= 400 && f.status <= 599 ? f.status : 502, code: 'upstream_error' };
}

/** The mapped error in OpenAI's shape: `{"error":{"message","type","param","code"}}`. */
export function openAiError(providerLabel: string, f: ProviderFailure): DecodedError {
  const { status, code } = mapFailure(f);
  const message = `${providerLabel}Exception - ${f.message || `upstream answered ${f.status}`}`;
  const error = new GatewayError(status, code, message.slice(0, 2000));
  return {
    status,
    code,
    body: JSON.stringify(error.toJSON()),
    contentType: 'application/json',
    retryAfterMs: f.retryAfterMs,
  };
}

/** Reads a JSON error body, or undefined when it is not JSON. */
export function parseErrorBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Text of a non-JSON error body, short and on one line. */
export function plainMessage(body: Buffer): string {
  return body.toString('utf8').slice(0, 500).replace(/\s+/g, ' ').trim();
}
