import { badRequest, GatewayError } from '../errors.js';
import type { Endpoint } from '../providers/types.js';
import { FIELD_ROLES } from './litellm-request-fields.js';

/** What the gateway itself needs from a client body; the rest passes through untouched. */
export interface RequestShape {
  readonly model: string;
  readonly stream: boolean;
  /**
   * The body held LiteLLM's own fields: the ones it merely consumes are already deleted from it, and
   * `readRequestControls` takes the rest; either way `raw` no longer matches the body.
   */
  readonly litellmFields: boolean;
}

/**
 * Checks the fields every OpenAI endpoint requires, with 400s that name the field; refuses the
 * forbidden ones and deletes those LiteLLM consumes without Fleetgate acting on them (one pass over
 * the body's keys; see `litellm-request-fields.ts`).
 */
export function checkRequest(endpoint: Endpoint, body: Record<string, unknown>): RequestShape {
  let litellmFields = false;
  for (const field in body) {
    const role = FIELD_ROLES.get(field);
    if (role === undefined) continue;
    if (role === 'forbidden' && body[field] !== undefined) throw forbidden(field);
    if (role === 'consumed') delete body[field];
    litellmFields = true;
  }
  const model = body['model'];
  if (typeof model !== 'string' || model === '') {
    throw badRequest(
      model === undefined ? 'missing required parameter "model"' : '"model" must be a non-empty string',
      'model',
    );
  }
  const stream = body['stream'];
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    throw badRequest('"stream" must be true or false', 'stream');
  }
  if (endpoint === 'chat') checkMessages(body['messages']);
  else if (endpoint === 'completions') checkPresent(body['prompt'], 'prompt');
  else checkPresent(body['input'], 'input');
  return { model, stream: stream === true && endpoint !== 'embeddings', litellmFields };
}

export function forbidden(field: string): GatewayError {
  return new GatewayError(
    400,
    'forbidden_parameter',
    `"${field}" may not be set by clients of this gateway`,
    {
      param: field,
    },
  );
}

function checkMessages(messages: unknown): void {
  if (messages === undefined) throw badRequest('missing required parameter "messages"', 'messages');
  if (!Array.isArray(messages) || messages.length === 0) {
    throw badRequest('"messages" must be a non-empty array', 'messages');
  }
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as { role?: unknown } | null;
    if (m === null || typeof m !== 'object' || typeof m.role !== 'string') {
      throw badRequest(`"messages[${i}]" must be an object with a string "role"`, `messages[${i}]`);
    }
  }
}

function checkPresent(value: unknown, name: string): void {
  if (value === undefined || value === null) throw badRequest(`missing required parameter "${name}"`, name);
  if (Array.isArray(value) ? value.length === 0 : value === '')
    throw badRequest(`"${name}" must not be empty`, name);
}
