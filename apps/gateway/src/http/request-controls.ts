import { badRequest } from '../errors.js';
import { FIELD_ROLES } from './litellm-request-fields.js';
import { forbidden } from './openai-request.js';

/** A client-side fallback: another model group, optionally with request fields of its own. */
export interface FallbackTarget {
  readonly model: string;
  /** Fields that replace the request's own for this fallback (LiteLLM's `{"model", "messages", …}` form). */
  readonly overrides: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A mocked upstream answer instead of a call (LiteLLM's testing switches): a reply with this text,
 * a failure of this status, or a timeout. Only for callers allowed to mock (see `mayMock`).
 */
export type Mock =
  | { readonly kind: 'reply'; readonly text: string }
  | { readonly kind: 'failure'; readonly status: number; readonly message: string }
  | { readonly kind: 'timeout' };

/** LiteLLM's request fields that change what the gateway does with a request; none is sent upstream. */
export interface RequestControls {
  /** `fallbacks`: model groups to try, in order, after the requested one (instead of the config's). */
  readonly fallbacks: readonly FallbackTarget[] | undefined;
  /** `disable_fallbacks: true`: no fallbacks at all, the config's included. */
  readonly disableFallbacks: boolean;
  /** `num_retries`: attempts after the first, in place of the config's. */
  readonly numRetries: number | undefined;
  /** `timeout` / `request_timeout` (seconds): the upstream call's timeout in place of the deployment's. */
  readonly timeoutS: number | undefined;
  /** `stream_timeout` (seconds): the same, for streams. */
  readonly streamTimeoutS: number | undefined;
  /** `mock_response` (for callers allowed to mock) or `mock_timeout`. */
  readonly mock: Mock | undefined;
  /** `mock_testing_fallbacks`: the requested group fails (mocked), so its fallbacks answer. */
  readonly mockFailPrimary: boolean;
  /** `mock_testing_rate_limit_error`: the first attempt fails with a mocked 429, so a retry answers. */
  readonly mockFailFirst: boolean;
  /** `priority`: the place in line while waiting for room (lower first). */
  readonly priority: number | undefined;
}

export const NO_CONTROLS: RequestControls = {
  fallbacks: undefined,
  disableFallbacks: false,
  numRetries: undefined,
  timeoutS: undefined,
  streamTimeoutS: undefined,
  mock: undefined,
  mockFailPrimary: false,
  mockFailFirst: false,
  priority: undefined,
};

/** `mock_response` values LiteLLM turns into a mocked error rather than a reply. */
const MOCK_ERRORS: Readonly<Record<string, { status: number; message: string }>> = {
  'litellm.RateLimitError': { status: 429, message: 'this is a mock rate limit error' },
  'litellm.InternalServerError': { status: 500, message: 'this is a mock internal server error' },
  'litellm.ContextWindowExceededError': {
    status: 400,
    message: 'this is a mock context window exceeded error',
  },
};

/**
 * Reads LiteLLM's control fields out of a request body: each is validated (a bad value is a 400
 * naming it, before anything is admitted or sent) and deleted from `body`, so it never reaches an
 * upstream. `timeoutHeader` is `x-litellm-timeout`, which wins over the body's `timeout`.
 * `mockAllowed`: whether this caller may have its answer made up by `mock_response` (else it is
 * dropped, as LiteLLM drops it for keys without `allow_client_mock_response`). The other switches
 * only make the caller's own request fail (time out, fall back, retry), so anyone may use them, as
 * in LiteLLM; a mocked failure never counts against a deployment.
 */
export function readRequestControls(
  body: Record<string, unknown>,
  timeoutHeader: string | undefined,
  mockAllowed: boolean,
): RequestControls {
  const take = (name: string): unknown => {
    const v = body[name];
    delete body[name];
    return v;
  };
  const fallbacks = fallbackList(take('fallbacks'));
  const disableFallbacks = flag(take('disable_fallbacks'), 'disable_fallbacks');
  const numRetries = wholeNumber(take('num_retries'), 'num_retries');
  const timeout = seconds(take('timeout'), 'timeout');
  const requestTimeout = seconds(take('request_timeout'), 'request_timeout');
  const timeoutS =
    timeoutHeader === undefined ? (timeout ?? requestTimeout) : seconds(timeoutHeader, 'x-litellm-timeout');
  const streamTimeoutS = seconds(take('stream_timeout'), 'stream_timeout');
  const mockResponse = take('mock_response');
  const mockTimeout = flag(take('mock_timeout'), 'mock_timeout');
  const mockFailPrimary = flag(take('mock_testing_fallbacks'), 'mock_testing_fallbacks');
  const mockFailFirst = flag(take('mock_testing_rate_limit_error'), 'mock_testing_rate_limit_error');
  const priority = wholeNumber(take('priority'), 'priority');
  // Tracking fields: LiteLLM files them in its spend logs; they are never an upstream's business.
  for (const name of ['metadata', 'litellm_metadata', 'tags']) delete body[name];
  const mock = mockOf(mockAllowed ? mockResponse : undefined, mockTimeout);
  return {
    fallbacks,
    disableFallbacks,
    numRetries,
    timeoutS,
    streamTimeoutS,
    mock,
    mockFailPrimary,
    mockFailFirst,
    priority,
  };
}

function mockOf(response: unknown, timeout: boolean): Mock | undefined {
  if (timeout) return { kind: 'timeout' };
  if (response === undefined || response === null) return undefined;
  if (typeof response !== 'string') throw badRequest('"mock_response" must be a string', 'mock_response');
  const failure = MOCK_ERRORS[response];
  return failure ? { kind: 'failure', ...failure } : { kind: 'reply', text: response };
}

function fallbackList(value: unknown): FallbackTarget[] | undefined {
  if (value === undefined || value === null) return undefined;
  const shape =
    '"fallbacks" must be a list of model names or of objects with a "model" (e.g. ["gpt-4o-mini"])';
  if (!Array.isArray(value)) throw badRequest(shape, 'fallbacks');
  return value.map((item, i) => {
    if (typeof item === 'string' && item !== '') return { model: item, overrides: undefined };
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const { model, ...rest } = item as Record<string, unknown>;
      if (typeof model === 'string' && model !== '') return { model, overrides: overridesOf(rest) };
    }
    throw badRequest(`${shape}; fallbacks[${i}] is not`, `fallbacks[${i}]`);
  });
}

/**
 * A fallback's own request fields, under the body's rules: forbidden ones refused, LiteLLM's dropped;
 * `stream` stays the request's (the client already chose what kind of answer it reads).
 */
function overridesOf(fields: Record<string, unknown>): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const [name, value] of Object.entries(fields)) {
    const role = FIELD_ROLES.get(name);
    if (role === 'forbidden') throw forbidden(name);
    if (role !== undefined || name === 'stream' || name === 'stream_options') continue;
    out[name] = value;
    any = true;
  }
  return any ? out : undefined;
}

function flag(value: unknown, name: string): boolean {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  throw badRequest(`"${name}" must be true or false`, name);
}

function wholeNumber(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw badRequest(`"${name}" must be a whole number, 0 or more`, name);
  }
  return value;
}

/** Seconds as a positive number; numeric strings too (LiteLLM's headers and some clients send them). */
function seconds(value: unknown, name: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw badRequest(`"${name}" must be a number of seconds above 0`, name);
  }
  return n;
}
