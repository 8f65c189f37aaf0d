import { jsonBody } from '../common/json.js';
import type { ProviderAdapter, TranslateInput, Translator } from '../types.js';
import { toOpenAiChat } from './messages-request.js';
import { anthropicErrorBody, OpenAiToAnthropicStream, toAnthropicMessage } from './messages-response.js';

const composed = new WeakMap<ProviderAdapter, Translator>();
const openAiInputs = new WeakMap<Record<string, unknown>, TranslateInput>();

/**
 * The translator for an Anthropic client (`POST /v1/messages`) of `adapter`'s deployment: the
 * deployment's own when it speaks Anthropic (the body passes through), else its OpenAI translator
 * behind an Anthropic ↔ OpenAI one — the request becomes an OpenAI chat request, the answer, stream
 * and errors come back in Anthropic's shapes, as LiteLLM's Anthropic adapter does it.
 */
export function anthropicClientTranslator(adapter: ProviderAdapter): Translator {
  if (adapter.native) return adapter.native;
  let t = composed.get(adapter);
  if (!t) {
    t = viaOpenAi(adapter.openai);
    composed.set(adapter, t);
  }
  return t;
}

/** The request as an OpenAI chat request, converted once per request however many attempts it makes. */
function openAiInput(input: TranslateInput): TranslateInput {
  let converted = openAiInputs.get(input.body);
  if (!converted) {
    const body = toOpenAiChat(input.body);
    converted = { endpoint: 'chat', body, raw: Buffer.from(jsonBody(body, input.raw)), stream: input.stream };
    openAiInputs.set(input.body, converted);
  }
  return input.upstreamModel === undefined ? converted : { ...converted, upstreamModel: input.upstreamModel };
}

function viaOpenAi(inner: Translator): Translator {
  return {
    request: (input, io) => inner.request(openAiInput(input), io),
    isStream: (contentType) => inner.isStream(contentType),
    decodeJson(body, input) {
      const decoded = inner.decodeJson(body, openAiInput(input));
      const model = String(input.body['model'] ?? '');
      return {
        body: toAnthropicMessage(decoded.body.toString(), model),
        contentType: 'application/json',
        usage: decoded.usage,
      };
    },
    // The OpenAI side always carries usage: Anthropic's message_delta reports it.
    createStream: (input) =>
      new OpenAiToAnthropicStream(
        inner.createStream(openAiInput(input), true),
        String(input.body['model'] ?? ''),
      ),
    decodeError(status, body, headers) {
      const decoded = inner.decodeError(status, body, headers);
      let error: unknown;
      try {
        error = (JSON.parse(decoded.body.toString()) as { error?: unknown }).error;
      } catch {
        error = undefined;
      }
      return { ...decoded, body: anthropicErrorBody(decoded.status, error) };
    },
  };
}
