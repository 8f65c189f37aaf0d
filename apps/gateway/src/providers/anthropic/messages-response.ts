import { SseReader } from '../common/sse-reader.js';
import type { StreamTranslation, Usage } from '../types.js';

interface OpenAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

interface OpenAiChoice {
  message?: {
    content?: string | null;
    tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: string } }>;
  };
  delta?: {
    content?: string | null;
    tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
  };
  finish_reason?: string | null;
}

/** OpenAI's finish_reason as Anthropic's stop_reason. */
export function stopReasonOf(finish: string | null | undefined): string {
  if (finish === 'length') return 'max_tokens';
  if (finish === 'tool_calls' || finish === 'function_call') return 'tool_use';
  if (finish === 'content_filter') return 'refusal';
  return 'end_turn';
}

/** Anthropic's usage: cached prompt tokens are reported apart from the others. */
function anthropicUsage(u: OpenAiUsage | undefined): Record<string, number> {
  const cached = u?.prompt_tokens_details?.cached_tokens ?? 0;
  const out: Record<string, number> = {
    input_tokens: Math.max(0, (u?.prompt_tokens ?? 0) - cached),
    output_tokens: u?.completion_tokens ?? 0,
  };
  if (cached > 0) out['cache_read_input_tokens'] = cached;
  return out;
}

function parseArgs(args: string | undefined): unknown {
  try {
    return args ? JSON.parse(args) : {};
  } catch {
    return {};
  }
}

/** An OpenAI chat completion as an Anthropic Messages answer. */
export function toAnthropicMessage(json: string, model: string): string {
  const res = JSON.parse(json) as {
    id?: string;
    model?: string;
    choices?: OpenAiChoice[];
    usage?: OpenAiUsage;
  };
  const choice = res.choices?.[0];
  const content: Array<Record<string, unknown>> = [];
  const text = choice?.message?.content;
  if (typeof text === 'string' && text !== '') content.push({ type: 'text', text });
  for (const call of choice?.message?.tool_calls ?? []) {
    content.push({
      type: 'tool_use',
      id: call.id,
      name: call.function?.name,
      input: parseArgs(call.function?.arguments),
    });
  }
  return JSON.stringify({
    id: messageId(res.id),
    type: 'message',
    role: 'assistant',
    model: res.model ?? model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(res.usage),
  });
}

function messageId(id: string | undefined): string {
  if (id?.startsWith('msg_')) return id;
  return `msg_${(id ?? crypto.randomUUID()).replace(/^chatcmpl-/, '').replaceAll('-', '')}`;
}

const ERROR_TYPES: Readonly<Record<number, string>> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
};

/** Anthropic's error type for a status. */
export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/**
 * An error in Anthropic's shape, `{"type":"error","error":{"type","message"}}`, keeping OpenAI's
 * `param` and `code` beside them so the error body still reads as `{"error":{message,type,param,code}}`.
 */
export function anthropicErrorBody(status: number, openAiError: unknown): string {
  const e = (openAiError ?? {}) as { message?: unknown; param?: unknown; code?: unknown };
  return JSON.stringify({
    type: 'error',
    error: {
      type: anthropicErrorType(status),
      message: typeof e.message === 'string' ? e.message : `upstream answered ${status}`,
      param: e.param ?? null,
      code: e.code ?? String(status),
    },
  });
}

const event = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/**
 * OpenAI `chat.completion.chunk`s as Anthropic's stream events: message_start on the first chunk,
 * a text block for content deltas, a tool_use block per tool call (its arguments as
 * input_json_delta), content_block_stop when a block ends, then message_delta with the stop reason
 * and usage, and message_stop. An OpenAI error event becomes an Anthropic `error` event.
 */
export class OpenAiToAnthropicStream implements StreamTranslation {
  private readonly reader = new SseReader();
  private started = false;
  private ended = false;
  private block = -1;
  private blockKind: 'text' | 'tool' | undefined;
  private readonly toolBlocks = new Map<number, number>();
  private stop: string | null = null;
  private counts: OpenAiUsage | undefined;

  constructor(
    private readonly inner: StreamTranslation,
    private readonly model: string,
  ) {}

  get usage(): Usage | undefined {
    return this.inner.usage;
  }

  get failedStatus(): number | undefined {
    return this.inner.failedStatus;
  }

  process(chunk: Buffer): Buffer {
    return this.render(this.reader.push(this.inner.process(chunk)));
  }

  flush(): Buffer | undefined {
    const rest = this.inner.flush();
    const out = this.render([...(rest ? this.reader.push(rest) : []), ...this.reader.end()]);
    if (this.ended || !this.started) return out;
    return Buffer.concat([out, Buffer.from(this.finish())]);
  }

  private render(events: ReadonlyArray<{ data: string }>): Buffer {
    let out = '';
    for (const e of events) {
      if (this.ended) break;
      if (e.data === '[DONE]') {
        if (this.started) out += this.finish();
        continue;
      }
      let chunk: {
        id?: string;
        model?: string;
        choices?: OpenAiChoice[];
        usage?: OpenAiUsage;
        error?: { message?: string };
      };
      try {
        chunk = JSON.parse(e.data);
      } catch {
        continue;
      }
      if (chunk.error) {
        this.ended = true;
        out += event('error', {
          error: {
            type: anthropicErrorType(this.inner.failedStatus ?? 500),
            message: chunk.error.message ?? 'upstream error',
          },
        });
        continue;
      }
      out += this.chunk(chunk);
    }
    return Buffer.from(out);
  }

  private chunk(chunk: {
    id?: string;
    model?: string;
    choices?: OpenAiChoice[];
    usage?: OpenAiUsage;
  }): string {
    let out = '';
    if (!this.started) {
      this.started = true;
      out += event('message_start', {
        message: {
          id: messageId(chunk.id),
          type: 'message',
          role: 'assistant',
          model: chunk.model ?? this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 0, output_tokens: 0 },
        },
      });
    }
    if (chunk.usage) this.counts = chunk.usage;
    const choice = chunk.choices?.[0];
    const delta = choice?.delta;
    if (typeof delta?.content === 'string' && delta.content !== '') {
      if (this.blockKind !== 'text') out += this.open('text', { type: 'text', text: '' });
      out += event('content_block_delta', {
        index: this.block,
        delta: { type: 'text_delta', text: delta.content },
      });
    }
    for (const call of delta?.tool_calls ?? []) {
      const n = call.index ?? 0;
      if (!this.toolBlocks.has(n)) {
        out += this.open('tool', { type: 'tool_use', id: call.id, name: call.function?.name, input: {} });
        this.toolBlocks.set(n, this.block);
      }
      const args = call.function?.arguments;
      if (args)
        out += event('content_block_delta', {
          index: this.toolBlocks.get(n),
          delta: { type: 'input_json_delta', partial_json: args },
        });
    }
    if (choice?.finish_reason) this.stop = stopReasonOf(choice.finish_reason);
    return out;
  }

  cutEvent(error: { status: number; message: string }): Buffer {
    this.ended = true;
    return Buffer.from(
      this.close() +
        event('error', { error: { type: anthropicErrorType(error.status), message: error.message } }),
    );
  }

  private open(kind: 'text' | 'tool', block: Record<string, unknown>): string {
    let out = this.close();
    this.block++;
    this.blockKind = kind;
    out += event('content_block_start', { index: this.block, content_block: block });
    return out;
  }

  private close(): string {
    if (this.blockKind === undefined) return '';
    this.blockKind = undefined;
    return event('content_block_stop', { index: this.block });
  }

  private finish(): string {
    this.ended = true;
    return (
      this.close() +
      event('message_delta', {
        delta: { stop_reason: this.stop ?? 'end_turn', stop_sequence: null },
        usage: anthropicUsage(this.counts),
      }) +
      event('message_stop', {})
    );
  }
}
