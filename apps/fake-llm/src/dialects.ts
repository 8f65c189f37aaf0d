import type { OutgoingHttpHeaders } from 'node:http';
import { errorJson } from './errors.js';

/** Whose error shape a route answers in. */
export type Dialect = 'openai' | 'anthropic' | 'google' | 'bedrock' | 'oauth';

/** An error response: the JSON body and any headers it needs. */
export interface ErrorResponse {
  json: string;
  headers?: OutgoingHttpHeaders;
}

const GOOGLE_STATUS: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const ANTHROPIC_TYPE: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

const BEDROCK_EXCEPTION: Readonly<Record<number, string>> = {
  400: 'ValidationException',
  403: 'AccessDeniedException',
  404: 'ResourceNotFoundException',
  408: 'ModelTimeoutException',
  424: 'ModelErrorException',
  429: 'ThrottlingException',
  500: 'InternalServerException',
  503: 'ServiceUnavailableException',
};

/** Bedrock names its exceptions in this header, as the AWS SDKs read them. */
export function bedrockErrorType(status: number): string {
  return BEDROCK_EXCEPTION[status] ?? (status >= 500 ? 'InternalServerException' : 'ValidationException');
}

/**
 * An error in the shape the provider behind the route sends it: OpenAI's `{"error":{message,type,
 * param,code}}`; Google's `{"error":{code,message,status}}`; Anthropic's `{"type":"error","error":
 * {type,message}}`; Bedrock's `{"message"}` with `x-amzn-errortype`; OAuth's `{error,
 * error_description}`. `code` is OpenAI's error code (and the OAuth error name).
 */
export function errorResponse(
  dialect: Dialect,
  status: number,
  message: string,
  code: string | null,
): ErrorResponse {
  switch (dialect) {
    case 'google':
      return {
        json: JSON.stringify({
          error: {
            code: status,
            message,
            status: GOOGLE_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
          },
        }),
      };
    case 'anthropic':
      return {
        json: JSON.stringify({
          type: 'error',
          error: {
            type: ANTHROPIC_TYPE[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error'),
            message,
          },
        }),
      };
    case 'bedrock': {
      const type = bedrockErrorType(status);
      return {
        json: JSON.stringify({ message }),
        headers: { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` },
      };
    }
    case 'oauth':
      return { json: JSON.stringify({ error: code ?? 'invalid_request', error_description: message }) };
    default:
      return { json: errorJson(status, message, code) };
  }
}
