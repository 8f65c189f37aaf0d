import { badRequest, GatewayError } from '../errors.js';
import type { Endpoint } from '../providers/types.js';

/**
 * Request fields that would let a client redirect the gateway or swap its credentials. LiteLLM
 * honours them, which turns a gateway into an open relay; Fleetgate refuses them.
 */
const FORBIDDEN_FIELDS = [
  'api_base',
  'base_url',
  'api_key',
  'api_version',
  'custom_llm_provider',
  'organization',
  'extra_headers',
  'azure_ad_token',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'aws_region_name',
  'vertex_credentials',
  'vertex_project',
  'vertex_location',
] as const;

/** What the gateway itself needs from a client body; the rest passes through untouched. */
export interface RequestShape {
  readonly model: string;
  readonly stream: boolean;
}

/** Checks the fields every OpenAI endpoint requires, and refuses the forbidden ones, with 400s that name the field. */
export function checkRequest(endpoint: Endpoint, body: Record<string, unknown>): RequestShape {
  for (const field of FORBIDDEN_FIELDS) {
    if (body[field] !== undefined) {
      throw new GatewayError(
        400,
        'forbidden_parameter',
        `"${field}" may not be set by clients of this gateway`,
        {
          param: field,
        },
      );
    }
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
  return { model, stream: stream === true && endpoint !== 'embeddings' };
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
