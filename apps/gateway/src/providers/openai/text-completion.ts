import { GatewayError } from '../../errors.js';
import { usageFromJson } from '../../proxy/usage.js';
import type { AdapterContext } from '../adapter-context.js';
import { SHARED_COMPLETION_FIELDS } from '../common/completion-fields.js';
import { ChunkWriter, completionId, openAiUsage } from '../common/openai-chunks.js';
import { SseReader } from '../common/sse-reader.js';
import type { ProviderAdapter, StreamTranslation, TranslateInput, Translator, Usage } from '../types.js';
import { createOpenAiCompatibleAdapter } from './openai-compatible.js';

/**
 * `text-completion-openai/` (instruct models such as gpt-3.5-turbo-instruct, which have no chat
 * endpoint), as LiteLLM serves them: `/completions` passes through, and a chat request is sent to
 * `/completions` instead — one message's text as the prompt, several messages' texts as a list of
 * prompts — and its answer (or stream) comes back as a chat completion, each choice's `text` as the
 * assistant's content.
 */
export function createTextCompletionAdapter(ctx: AdapterContext, defaultApiBase: string): ProviderAdapter {
  // The deployment as any OpenAI-compatible one; only a chat request's way there and back differs.
  const base = createOpenAiCompatibleAdapter(ctx, defaultApiBase);
  const passThrough = base.openai;
  const chat: Translator = {
    request: (input, io) => passThrough.request(input.endpoint === 'chat' ? asCompletion(input) : input, io),
    isStream: passThrough.isStream,
    decodeJson(body, input) {
      if (input.endpoint !== 'chat') return passThrough.decodeJson(body, input);
      const usage = usageFromJson(body);
      return { body: JSON.stringify(chatAnswer(body)), contentType: 'application/json', usage };
    },
    createStream(input, clientWantsUsage) {
      if (input.endpoint !== 'chat') return passThrough.createStream(input, clientWantsUsage);
      return new TextCompletionStream(ctx.upstreamModel, Math.floor(Date.now() / 1000), clientWantsUsage);
    },
    decodeError: passThrough.decodeError,
  };
  return { ...base, openai: chat };
}

/** Chat fields `/completions` takes as they are: the shared ones, and those only `/completions` knows. */
const COMPLETION_FIELDS = [...SHARED_COMPLETION_FIELDS, 'suffix', 'echo', 'best_of', 'logprobs'] as const;

/**
 * A chat request as the `/completions` request LiteLLM makes of it; the pass-through then sets the
 * upstream model and asks a stream for its usage.
 */
function asCompletion(input: TranslateInput): TranslateInput {
  const body = completionBody(input);
  return { ...input, endpoint: 'completions', body, raw: Buffer.from(JSON.stringify(body)) };
}

/** The `/completions` body for a chat request (LiteLLM's `_transform_prompt`). */
function completionBody(input: TranslateInput): Record<string, unknown> {
  const body = input.body;
  const messages = Array.isArray(body['messages']) ? (body['messages'] as unknown[]) : [];
  const texts = messages.map((m, i) => textOf(m, i));
  const out: Record<string, unknown> = {
    model: body['model'],
    prompt: texts.length === 1 ? texts[0] : texts,
  };
  for (const f of COMPLETION_FIELDS) if (body[f] !== undefined) out[f] = body[f];
  // Chat's newer name for the completion budget.
  if (out['max_tokens'] === undefined && body['max_completion_tokens'] !== undefined)
    out['max_tokens'] = body['max_completion_tokens'];
  // A chat `logprobs: true` means per-token log probabilities: `/completions` counts them instead.
  if (typeof out['logprobs'] === 'boolean') {
    if (out['logprobs'] && typeof body['top_logprobs'] === 'number') out['logprobs'] = body['top_logprobs'];
    else delete out['logprobs'];
  }
  return out;
}

/** A message's text: its string content, or its text parts joined (an image cannot be a prompt). */
function textOf(message: unknown, index: number): string {
  const content = (message as { content?: unknown } | null)?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    let text = '';
    for (const part of content) {
      const p = part as { type?: unknown; text?: unknown };
      if (p?.type === 'text' && typeof p.text === 'string') text += p.text;
      else throw unsupported(index, 'only text parts');
    }
    return text;
  }
  if (content === null || content === undefined) return '';
  throw unsupported(index, 'a string or text parts');
}

function unsupported(index: number, what: string): GatewayError {
  return new GatewayError(
    400,
    'invalid_request',
    `a text-completion model takes ${what} as message content (messages[${index}].content)`,
    { param: `messages[${index}].content` },
  );
}

interface TextChoice {
  text?: unknown;
  index?: unknown;
  finish_reason?: unknown;
  logprobs?: unknown;
}

/** A `text_completion` answer as a `chat.completion`. */
function chatAnswer(body: Buffer): Record<string, unknown> {
  let parsed: { id?: unknown; created?: unknown; model?: unknown; choices?: unknown; usage?: unknown };
  try {
    parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
  } catch {
    throw new GatewayError(502, 'upstream_error', 'the upstream answered with a body that is not JSON');
  }
  const choices = Array.isArray(parsed.choices) ? (parsed.choices as TextChoice[]) : [];
  return {
    id: typeof parsed.id === 'string' ? parsed.id : completionId(),
    object: 'chat.completion',
    created: typeof parsed.created === 'number' ? parsed.created : Math.floor(Date.now() / 1000),
    model: parsed.model,
    choices: choices.map((c, i) => ({
      index: typeof c.index === 'number' ? c.index : i,
      message: { role: 'assistant', content: typeof c.text === 'string' ? c.text : '' },
      logprobs: c.logprobs ?? null,
      finish_reason: c.finish_reason ?? null,
    })),
    ...(parsed.usage !== undefined ? { usage: parsed.usage } : {}),
  };
}

const EMPTY = Buffer.alloc(0);

/** `text_completion` stream events as `chat.completion.chunk` events, usage to the client only when asked. */
class TextCompletionStream implements StreamTranslation {
  usage: Usage | undefined = undefined;
  private readonly reader = new SseReader();
  private writer: ChunkWriter | undefined;
  private readonly started = new Set<number>();
  private done = false;

  constructor(
    private readonly model: string,
    private readonly created: number,
    private readonly clientWantsUsage: boolean,
  ) {}

  process(chunk: Buffer): Buffer {
    return this.render(this.reader.push(chunk));
  }

  flush(): Buffer | undefined {
    const out = this.render(this.reader.end());
    if (this.done) return out;
    this.done = true;
    return Buffer.concat([out, Buffer.from(ChunkWriter.DONE)]);
  }

  private render(events: ReadonlyArray<{ data: string }>): Buffer {
    let out = '';
    for (const e of events) {
      if (this.done) break;
      if (e.data === '[DONE]') {
        this.done = true;
        out += ChunkWriter.DONE;
        continue;
      }
      let event: { id?: unknown; model?: unknown; choices?: unknown; usage?: unknown; error?: unknown };
      try {
        event = JSON.parse(e.data) as typeof event;
      } catch {
        continue;
      }
      if (event.error !== undefined) {
        // An error event is already OpenAI's shape: pass it on.
        out += ChunkWriter.error(e.data);
        continue;
      }
      this.writer ??= new ChunkWriter(
        typeof event.id === 'string' ? event.id : completionId(),
        this.created,
        typeof event.model === 'string' ? event.model : this.model,
      );
      const w = this.writer;
      for (const c of Array.isArray(event.choices) ? (event.choices as TextChoice[]) : []) {
        const index = typeof c.index === 'number' ? c.index : 0;
        const text = typeof c.text === 'string' ? c.text : '';
        const finish = typeof c.finish_reason === 'string' ? c.finish_reason : null;
        const role = this.started.has(index) ? '' : '"role":"assistant",';
        this.started.add(index);
        out += w.delta(index, `{${role}"content":${JSON.stringify(text)}}`, finish);
      }
      if (event.usage && typeof event.usage === 'object') {
        const u = event.usage as { prompt_tokens?: unknown; completion_tokens?: unknown };
        this.usage = {
          promptTokens: typeof u.prompt_tokens === 'number' ? u.prompt_tokens : 0,
          completionTokens: typeof u.completion_tokens === 'number' ? u.completion_tokens : 0,
        };
        if (this.clientWantsUsage) out += w.usage(openAiUsage(this.usage));
      }
    }
    return out === '' ? EMPTY : Buffer.from(out);
  }
}
