import { AdapterConfigError, type AdapterContext, firstSet } from '../adapter-context.js';
import { apiBaseLabel } from '../common/api-base-label.js';
import { jsonBody } from '../common/json.js';
import { createScrubber } from '../common/scrub.js';
import { baseHeaders } from '../openai/openai-compatible.js';
import type { Endpoint, ProviderAdapter, Translator } from '../types.js';
import { anthropicError } from './errors.js';
import { createNativeAnthropicTranslator } from './native.js';
import { toAnthropicRequest } from './request.js';
import { type AnthropicMessage, AnthropicToOpenAiStream, toChatCompletion } from './response.js';

/** The API version LiteLLM sends. */
export const ANTHROPIC_VERSION = '2023-06-01';

const ENDPOINTS: ReadonlySet<Endpoint> = new Set(['chat']);

/**
 * `anthropic/<model>`: `POST {api_base}/v1/messages` with `x-api-key` and `anthropic-version`.
 * Defaults as LiteLLM reads them: ANTHROPIC_API_KEY; ANTHROPIC_API_BASE / ANTHROPIC_BASE_URL, else
 * https://api.anthropic.com. OpenAI clients are translated; Anthropic clients pass through.
 */
export function createAnthropicAdapter(ctx: AdapterContext): ProviderAdapter {
  const p = ctx.params;
  const apiKey = firstSet(p.api_key, ctx.env['ANTHROPIC_API_KEY']);
  if (!apiKey)
    throw new AdapterConfigError('api_key', 'anthropic deployments need an api_key (or ANTHROPIC_API_KEY)');
  const apiBase =
    firstSet(p.api_base, ctx.env['ANTHROPIC_API_BASE'], ctx.env['ANTHROPIC_BASE_URL']) ??
    'https://api.anthropic.com';
  const url = new URL(apiBase);
  let path = url.pathname.replace(/\/+$/, '');
  if (!path.endsWith('/v1/messages')) path += '/v1/messages';
  const target = { origin: url.origin, path: `${path}${url.search}` };
  const headers = baseHeaders(p.extra_headers);
  headers['x-api-key'] = apiKey;
  headers['anthropic-version'] ??= ANTHROPIC_VERSION;
  const scrub = createScrubber([apiKey]);
  const defaultModel = ctx.upstreamModel;
  const openai: Translator = {
    request: (input) => ({
      target,
      headers,
      body: jsonBody(
        toAnthropicRequest(input.body, input.upstreamModel ?? defaultModel, input.stream),
        input.raw,
      ),
    }),
    ...anthropicAnswers(defaultModel, scrub),
    decodeError: (status, body) => anthropicError(status, scrub(body)),
  };
  return {
    provider: ctx.provider,
    api: 'anthropic',
    endpoints: ENDPOINTS,
    apiBase: apiBaseLabel(`${url.origin}${path}`),
    openai,
    native: createNativeAnthropicTranslator({ target, headers, upstreamModel: defaultModel, scrub }),
  };
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * Messages answers (JSON and the event stream) as OpenAI chat completions and chunks, for every
 * route to Claude (Anthropic's API, Vertex AI).
 */
export function anthropicAnswers(
  defaultModel: string,
  scrub: (text: Buffer) => Buffer,
): Pick<Translator, 'isStream' | 'decodeJson' | 'createStream'> {
  const errorEvent = (error: unknown) => {
    const decoded = anthropicError(500, Buffer.from(JSON.stringify({ type: 'error', error })));
    return { status: decoded.status, body: scrub(Buffer.from(String(decoded.body))).toString() };
  };
  return {
    isStream: (contentType) => contentType.startsWith('text/event-stream'),
    decodeJson(body, input) {
      const out = toChatCompletion(
        JSON.parse(body.toString('utf8')) as AnthropicMessage,
        input.upstreamModel ?? defaultModel,
        now(),
      );
      return { body: out.json, contentType: 'application/json', usage: out.usage };
    },
    createStream: (input, clientWantsUsage) =>
      new AnthropicToOpenAiStream(input.upstreamModel ?? defaultModel, now(), clientWantsUsage, errorEvent),
  };
}
