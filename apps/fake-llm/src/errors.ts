/** The `type` OpenAI puts in error bodies for a status. */
export function errorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** An OpenAI-shaped error body: `{"error":{"message","type","param","code"}}`. */
export function errorJson(
  status: number,
  message: string,
  code: string | null,
  param: string | null = null,
): string {
  return JSON.stringify({ error: { message, type: errorType(status), param, code } });
}

/** A request the fake refuses (bad input); the pipeline answers it with an OpenAI-shaped error. */
export class RequestError extends Error {
  override name = 'RequestError';

  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}
