import { GatewayError } from '../../errors.js';
import { SseUsageTracker, usageFromJson } from '../../proxy/usage.js';
import { jsonBody } from '../common/json.js';
import { mapFailure, parseErrorBody, plainMessage } from '../common/provider-errors.js';
import type {
  DecodedError,
  Endpoint,
  TranslateInput,
  Translator,
  UpstreamHeaders,
  UpstreamTarget,
} from '../types.js';
import { topLevelValueRange } from './json-splice.js';

const ASK_USAGE = Buffer.from('"stream_options":{"include_usage":true},');

/** The raw body with the model value replaced, and the usage request added first when asked. */
function rewrite(raw: Buffer, [start, end]: [number, number], model: Buffer, askUsage: boolean): Buffer {
  if (!askUsage) return Buffer.concat([raw.subarray(0, start), model, raw.subarray(end)]);
  const open = raw.indexOf(0x7b /* { */) + 1;
  return Buffer.concat([
    raw.subarray(0, open),
    ASK_USAGE,
    raw.subarray(open, start),
    model,
    raw.subarray(end),
  ]);
}

export interface OpenAiTranslatorOptions {
  /** Where the deployment's own model goes for each endpoint; `targetFor` when the model differs. */
  readonly targets: Readonly<Record<Endpoint, UpstreamTarget>>;
  readonly targetFor: (endpoint: Endpoint, model: string) => UpstreamTarget;
  readonly headers: Readonly<Record<string, string>>;
  readonly upstreamModel: string;
  /** Ask for `stream_options.include_usage` on streams (false for Azure api-versions that refuse it). */
  readonly askUsage: boolean;
  readonly scrub: (text: Buffer) => Buffer;
}

/**
 * OpenAI clients to an OpenAI-compatible upstream: the body passes through byte for byte but for
 * `model` (spliced, not re-serialised: for a long prompt that is most of the gateway's CPU), and the
 * answer passes through as it came, usage read from it on the way.
 */
export function createOpenAiTranslator(o: OpenAiTranslatorOptions): Translator {
  const modelJson = Buffer.from(JSON.stringify(o.upstreamModel));
  return {
    request(input) {
      const model = input.upstreamModel ?? o.upstreamModel;
      const target =
        model === o.upstreamModel ? o.targets[input.endpoint] : o.targetFor(input.endpoint, model);
      return { target, headers: o.headers, body: encodeBody(input, model, modelJson, o) };
    },
    isStream: (contentType) => contentType.startsWith('text/event-stream'),
    decodeJson: (body) => ({ body, contentType: 'application/json', usage: usageFromJson(body) }),
    createStream: (_input, clientWantsUsage) => new SseUsageTracker(!clientWantsUsage),
    decodeError: (status, body, headers) => passThroughError(status, o.scrub(body), headers),
  };
}

function encodeBody(
  input: TranslateInput,
  model: string,
  defaultModelJson: Buffer,
  o: OpenAiTranslatorOptions,
): Buffer | string {
  const { body, raw } = input;
  const askUsage = o.askUsage && input.stream && input.endpoint !== 'embeddings';
  // Fast path: splice the upstream model (and the usage request) into the client's own bytes.
  if (!askUsage || body['stream_options'] === undefined) {
    const range = topLevelValueRange(raw, 'model');
    if (range) {
      const modelJson = model === o.upstreamModel ? defaultModelJson : Buffer.from(JSON.stringify(model));
      return rewrite(raw, range, modelJson, askUsage);
    }
  }
  const out: Record<string, unknown> = { ...body, model };
  if (askUsage) {
    const options = body['stream_options'];
    out['stream_options'] = {
      ...(options && typeof options === 'object' ? options : {}),
      include_usage: true,
    };
  }
  return jsonBody(out, raw);
}

/**
 * An OpenAI-shaped JSON error goes back as it came (an upstream 400 stays a 400 with the upstream's
 * message); anything else (an HTML page from a proxy, plain text) is wrapped in OpenAI's error shape
 * with the same status. Either way the code for logs and metrics follows LiteLLM's mapping.
 */
function passThroughError(status: number, body: Buffer, headers: UpstreamHeaders): DecodedError {
  const contentType = String(headers['content-type'] ?? '');
  const parsed = contentType.includes('json') ? parseErrorBody(body) : undefined;
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (error && typeof error === 'object') {
    const e = error as { message?: unknown; code?: unknown; type?: unknown };
    const message = typeof e.message === 'string' ? e.message : '';
    const { code } = mapFailure({ status, message, kind: String(e.code ?? e.type ?? '') });
    // The client keeps the upstream's own status and body; only the code logged is mapped.
    return { status, code, body, contentType: 'application/json' };
  }
  const text = plainMessage(body);
  const { code } = mapFailure({ status, message: text });
  const wrapped = new GatewayError(status, code, `upstream answered ${status}${text ? `: ${text}` : ''}`);
  return { status, code, body: JSON.stringify(wrapped.toJSON()), contentType: 'application/json' };
}
