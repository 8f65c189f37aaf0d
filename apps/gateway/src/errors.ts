/**
 * The one error family that ends a request. Thrown anywhere on the request's way, rendered once
 * by the app's error handler into OpenAI's error JSON. `code` is Fleetgate's stable name for the
 * case: clients match on it through the `x-fleetgate-error-code` response header, and metrics use it
 * as a label. The body's `error.code` is the HTTP status as a string, as LiteLLM's proxy sends it
 * (its clients and tests parse that).
 */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'forbidden_parameter'
  | 'model_not_found'
  | 'auth_error'
  | 'key_model_access_denied'
  | 'team_model_access_denied'
  | 'expired_key'
  | 'budget_exceeded'
  | 'key_store_unavailable'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_too_large'
  | 'context_window_exceeded'
  | 'rate_limited'
  | 'no_deployment_available'
  | 'fleet_state_unknown'
  | 'upstream_error'
  /** The provider refused the deployment's credentials (or the token exchange did). */
  | 'upstream_auth_error'
  /** The provider answered 429 (or RESOURCE_EXHAUSTED, ThrottlingException). */
  | 'upstream_rate_limited'
  /** The prompt does not fit the model's context window (OpenAI's own code for it). */
  | 'context_length_exceeded'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'shutting_down'
  | 'client_closed'
  | 'internal_error';

/** LiteLLM's `error.type` where it names the case itself, so its clients recognise it. */
const TYPES: Partial<Record<ErrorCode, string>> = {
  expired_key: 'expired_key',
  budget_exceeded: 'budget_exceeded',
  key_model_access_denied: 'key_model_access_denied',
  team_model_access_denied: 'team_model_access_denied',
};

/** The response header that carries `GatewayError.code`, Fleetgate's stable name of an error. */
export const ERROR_CODE_HEADER = 'x-fleetgate-error-code';

/** OpenAI's `error.type` for each family of status. */
function typeFor(status: number): string {
  if (status === 401) return 'auth_error';
  if (status === 429) return 'rate_limit_error';
  if (status === 413) return 'invalid_request_error';
  if (status >= 500) return status === 504 ? 'timeout_error' : 'api_error';
  return 'invalid_request_error';
}

export interface GatewayErrorOptions {
  readonly param?: string | undefined;
  readonly cause?: unknown;
  /** Extra response headers, e.g. `retry-after`. */
  readonly headers?: Readonly<Record<string, string>>;
}

export class GatewayError extends Error {
  readonly param: string | null;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.param = options.param ?? null;
    this.headers = options.headers ?? {};
  }

  /**
   * OpenAI's error body, `code` as LiteLLM sends it (the status as a string). Only the message
   * chosen here reaches the client — never `cause`.
   */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return {
      error: {
        message: this.message,
        type: TYPES[this.code] ?? typeFor(this.status),
        param: this.param,
        code: String(this.status),
      },
    };
  }

  /** The error as a complete response: body, status, its own headers and the stable code's header. */
  toResponse(extraHeaders: Readonly<Record<string, string>> = {}): Response {
    return new Response(JSON.stringify(this.toJSON()), {
      status: this.status,
      headers: {
        'content-type': 'application/json',
        ...this.headers,
        ...extraHeaders,
        [ERROR_CODE_HEADER]: this.code,
      },
    });
  }
}

export const badRequest = (message: string, param?: string) =>
  new GatewayError(400, 'invalid_request', message, { param });
