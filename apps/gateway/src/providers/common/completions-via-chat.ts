import { GatewayError } from '../../errors.js';
import type { ProviderAdapter, StreamTranslation, TranslateInput, Translator, Usage } from '../types.js';
import { SHARED_COMPLETION_FIELDS } from './completion-fields.js';
import { SseReader } from './sse-reader.js';

/** `/completions` fields a chat request takes as they are. */
const CHAT_FIELDS = [...SHARED_COMPLETION_FIELDS, 'stream_options'] as const;

/**
 * `/completions` for a provider that only chats (Anthropic, Gemini, Vertex AI, Bedrock), as LiteLLM's
 * `text_completion` serves it: the prompt becomes one user message, the chat answer (or stream)
 * comes back as a `text_completion`, each choice's content as its `text`. Adapters that serve
 * `/completions` themselves are returned unchanged.
 */
export function withCompletionsViaChat(adapter: ProviderAdapter): ProviderAdapter {
  if (adapter.endpoints.has('completions') || !adapter.endpoints.has('chat')) return adapter;
  const chat = adapter.openai;
  const openai: Translator = {
    request: (input, io) => chat.request(asChat(input), io),
    isStream: chat.isStream,
    decodeJson(body, input) {
      if (input.endpoint !== 'completions') return chat.decodeJson(body, input);
      const answer = chat.decodeJson(body, asChat(input));
      return { ...answer, body: JSON.stringify(toTextCompletion(String(answer.body))) };
    },
    createStream(input, clientWantsUsage) {
      const inner = chat.createStream(asChat(input), clientWantsUsage);
      return input.endpoint === 'completions' ? new ChatToTextStream(inner) : inner;
    },
    decodeError: chat.decodeError,
  };
  return { ...adapter, endpoints: new Set([...adapter.endpoints, 'completions']), openai };
}

/** A `/completions` request as the chat request LiteLLM makes of it; other requests as they are. */
function asChat(input: TranslateInput): TranslateInput {
  if (input.endpoint !== 'completions') return input;
  const body = input.body;
  const out: Record<string, unknown> = {
    model: body['model'],
    messages: [{ role: 'user', content: promptOf(body) }],
  };
  for (const f of CHAT_FIELDS) if (body[f] !== undefined) out[f] = body[f];
  return { ...input, endpoint: 'chat', body: out, raw: Buffer.from(JSON.stringify(out)) };
}

/** The prompt as one text: a string, or a list holding one string. */
function promptOf(body: Record<string, unknown>): string {
  const prompt = body['prompt'];
  if (typeof prompt === 'string') return prompt;
  if (Array.isArray(prompt) && prompt.length === 1 && typeof prompt[0] === 'string') return prompt[0];
  throw new GatewayError(
    400,
    'invalid_request',
    'this deployment answers /completions through chat: prompt must be one string (send one prompt per request; token arrays are not supported)',
    { param: 'prompt' },
  );
}

interface ChatChoice {
  index?: number;
  message?: { content?: unknown };
  delta?: { content?: unknown };
  finish_reason?: unknown;
}

/** A `chat.completion` as a `text_completion`. */
function toTextCompletion(json: string): Record<string, unknown> {
  const c = JSON.parse(json) as {
    id?: unknown;
    created?: unknown;
    model?: unknown;
    choices?: ChatChoice[];
    usage?: unknown;
  };
  return {
    id: typeof c.id === 'string' ? c.id.replace(/^chatcmpl-/, 'cmpl-') : c.id,
    object: 'text_completion',
    created: c.created,
    model: c.model,
    choices: (c.choices ?? []).map((ch, i) => ({
      text: typeof ch.message?.content === 'string' ? ch.message.content : '',
      index: ch.index ?? i,
      logprobs: null,
      finish_reason: ch.finish_reason ?? null,
    })),
    ...(c.usage !== undefined ? { usage: c.usage } : {}),
  };
}

const EMPTY = Buffer.alloc(0);

/** Chat chunks (what the provider's stream translation writes) rewritten as `text_completion` events. */
class ChatToTextStream implements StreamTranslation {
  private readonly reader = new SseReader();
  /** The provider's own cut event (an error event is the same for both APIs), when it has one. */
  readonly cutEvent: StreamTranslation['cutEvent'];

  constructor(private readonly inner: StreamTranslation) {
    this.cutEvent = inner.cutEvent?.bind(inner);
  }

  get usage(): Usage | undefined {
    return this.inner.usage;
  }

  get failedStatus(): number | undefined {
    return this.inner.failedStatus;
  }

  process(chunk: Buffer): Buffer {
    return this.rewrite(this.reader.push(this.inner.process(chunk)));
  }

  flush(): Buffer | undefined {
    const rest = this.inner.flush();
    return this.rewrite([...(rest ? this.reader.push(rest) : []), ...this.reader.end()]);
  }

  private rewrite(events: ReadonlyArray<{ data: string }>): Buffer {
    let out = '';
    for (const e of events) {
      if (e.data === '[DONE]') {
        out += 'data: [DONE]\n\n';
        continue;
      }
      let chunk: {
        id?: unknown;
        created?: unknown;
        model?: unknown;
        choices?: ChatChoice[];
        usage?: unknown;
        error?: unknown;
      };
      try {
        chunk = JSON.parse(e.data) as typeof chunk;
      } catch {
        continue;
      }
      if (chunk.error !== undefined) {
        out += `data: ${e.data}\n\n`;
        continue;
      }
      const choices = (chunk.choices ?? [])
        .map((ch, i) => ({
          text: typeof ch.delta?.content === 'string' ? ch.delta.content : '',
          index: ch.index ?? i,
          logprobs: null,
          finish_reason: ch.finish_reason ?? null,
        }))
        // The role-only opening chunk carries no text: text completions have none.
        .filter((ch) => ch.text !== '' || ch.finish_reason !== null);
      if (choices.length === 0 && chunk.usage === undefined) continue;
      const event = {
        id: typeof chunk.id === 'string' ? chunk.id.replace(/^chatcmpl-/, 'cmpl-') : chunk.id,
        object: 'text_completion',
        created: chunk.created,
        model: chunk.model,
        choices,
        ...(chunk.usage !== undefined ? { usage: chunk.usage } : {}),
      };
      out += `data: ${JSON.stringify(event)}\n\n`;
    }
    return out === '' ? EMPTY : Buffer.from(out);
  }
}
