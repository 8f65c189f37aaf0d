/**
 * The one error family that ends a request. Thrown anywhere on the request's way, rendered once
 * by the app's error handler into OpenAI's error JSON. `code` is stable: clients and dashboards
 * match on it, and metrics use it as a label.
 */
export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request'
  | 'forbidden_parameter'
  | 'model_not_found'
  | 'auth_error'
  | 'key_model_access_denied'
  | 'expired_key'
  | 'budget_exceeded'
  | 'key_store_unavailable'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_too_large'
  | 'rate_limited'
  | 'no_deployment_available'
  | 'upstream_error'
  | 'upstream_unreachable'
  | 'upstream_timeout'
  | 'shutting_down'
  | 'client_closed'
  | 'internal_error';

/** LiteLLM's `error.type` where it names the case itself, so its clients recognise it. */
const TYPES: Partial<Record<ErrorCode, string>> = {
  expired_key: 'expired_key',
  budget_exceeded: 'budget_exceeded',
  key_model_access_denied: 'auth_error',
};

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

  /** OpenAI's error body. Only the message chosen here reaches the client — never `cause`. */
  toJSON(): { error: { message: string; type: string; param: string | null; code: string } } {
    return {
      error: {
        message: this.message,
        type: TYPES[this.code] ?? typeFor(this.status),
        param: this.param,
        code: this.code,
      },
    };
  }
}

export const badRequest = (message: string, param?: string) =>
  new GatewayError(400, 'invalid_request', message, { param });
