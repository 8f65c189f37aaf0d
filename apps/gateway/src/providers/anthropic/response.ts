import { ChunkWriter, completionId } from '../common/openai-chunks.js';
import { SseReader } from '../common/sse-reader.js';
import type { StreamTranslation, Usage } from '../types.js';
import { JSON_TOOL } from './request.js';
import { type AnthropicUsage, mergeUsage, openAiUsageOf, usageOf } from './usage.js';

interface Block {
  type?: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

export interface AnthropicMessage {
  id?: string;
  model?: string;
  content?: Block[];
  stop_reason?: string | null;
  usage?: AnthropicUsage;
}

/** Anthropic's stop_reason as OpenAI's finish_reason (LiteLLM's mapping). */
export function finishReasonOf(reason: string | null | undefined): string {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'refusal') return 'content_filter';
  return 'stop';
}

/** A Messages answer as an OpenAI `chat.completion` (a `json_tool_call` answer becomes the content). */
export function toChatCompletion(
  msg: AnthropicMessage,
  model: string,
  created: number,
): { json: string; usage: Usage | undefined } {
  let text = '';
  let reasoning = '';
  const calls: Array<Record<string, unknown>> = [];
  let jsonAnswer = false;
  for (const block of msg.content ?? []) {
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'thinking' && typeof block.thinking === 'string') reasoning += block.thinking;
    else if (block.type === 'tool_use' && block.name === JSON_TOOL) {
      text += JSON.stringify(block.input ?? {});
      jsonAnswer = true;
    } else if (block.type === 'tool_use') {
      calls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? null : text,
  };
  if (reasoning !== '') message['reasoning_content'] = reasoning;
  if (calls.length > 0) message['tool_calls'] = calls;
  const finish = jsonAnswer && calls.length === 0 ? 'stop' : finishReasonOf(msg.stop_reason);
  const out: Record<string, unknown> = {
    id: msg.id ?? completionId(),
    object: 'chat.completion',
    created,
    model: msg.model ?? model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
  };
  if (msg.usage) out['usage'] = openAiUsageOf(msg.usage);
  return { json: JSON.stringify(out), usage: usageOf(msg.usage) };
}

interface StreamEvent {
  type?: string;
  message?: AnthropicMessage;
  index?: number;
  content_block?: Block;
  delta?: {
    type?: string;
    text?: string;
    thinking?: string;
    partial_json?: string;
    stop_reason?: string | null;
  };
  usage?: AnthropicUsage;
  error?: unknown;
}

/**
 * Anthropic's stream events as OpenAI chunks: message_start → the role chunk; text, thinking and
 * tool-input deltas → content, reasoning_content and tool_calls deltas (a `json_tool_call`'s input
 * streams as content); message_delta → the finish reason; the usage chunk when the client asked;
 * `[DONE]`. An `error` event ends the stream with an OpenAI error event.
 */
export class AnthropicToOpenAiStream implements StreamTranslation {
  failedStatus: number | undefined = undefined;
  private readonly reader = new SseReader();
  private writer: ChunkWriter | undefined;
  private readonly counts: AnthropicUsage = {};
  private readonly toolIndex = new Map<number, number>();
  private jsonBlock = -1;
  private ended = false;

  constructor(
    private readonly model: string,
    private readonly created: number,
    private readonly clientWantsUsage: boolean,
    private readonly errorEvent: (error: unknown) => { status: number; body: string },
  ) {}

  get usage(): Usage | undefined {
    return usageOf(this.counts);
  }

  process(chunk: Buffer): Buffer {
    return this.render(this.reader.push(chunk));
  }

  flush(): Buffer | undefined {
    const out = this.render(this.reader.end());
    if (this.ended) return out;
    this.ended = true;
    return Buffer.concat([out, Buffer.from(this.tail())]);
  }

  private tail(): string {
    const usage =
      this.writer && this.clientWantsUsage && this.usage ? this.writer.usage(openAiUsageOf(this.counts)) : '';
    return usage + ChunkWriter.DONE;
  }

  private render(events: ReadonlyArray<{ data: string }>): Buffer {
    let out = '';
    for (const e of events) {
      if (this.ended) break;
      let ev: StreamEvent;
      try {
        ev = JSON.parse(e.data) as StreamEvent;
      } catch {
        continue;
      }
      out += this.event(ev);
    }
    return Buffer.from(out);
  }

  private event(ev: StreamEvent): string {
    if (ev.type === 'error') {
      const { status, body } = this.errorEvent(ev.error);
      this.failedStatus = status;
      this.ended = true;
      return ChunkWriter.error(body);
    }
    if (ev.type === 'message_start') {
      mergeUsage(this.counts, ev.message?.usage);
      this.writer = new ChunkWriter(
        ev.message?.id ?? completionId(),
        this.created,
        ev.message?.model ?? this.model,
      );
      return this.writer.delta(0, '{"role":"assistant","content":""}', null);
    }
    const w = this.writer;
    if (!w) return '';
    if (ev.type === 'content_block_start' && ev.content_block?.type === 'tool_use') {
      const block = ev.index ?? 0;
      if (ev.content_block.name === JSON_TOOL) {
        this.jsonBlock = block;
        return '';
      }
      const n = this.toolIndex.size;
      this.toolIndex.set(block, n);
      const call = {
        index: n,
        id: ev.content_block.id,
        type: 'function',
        function: { name: ev.content_block.name, arguments: '' },
      };
      return w.delta(0, JSON.stringify({ tool_calls: [call] }), null);
    }
    if (ev.type === 'content_block_delta' && ev.delta) {
      const d = ev.delta;
      if (d.type === 'text_delta' && d.text) return w.delta(0, `{"content":${JSON.stringify(d.text)}}`, null);
      if (d.type === 'thinking_delta' && d.thinking)
        return w.delta(0, `{"reasoning_content":${JSON.stringify(d.thinking)}}`, null);
      if (d.type === 'input_json_delta' && d.partial_json) {
        const block = ev.index ?? 0;
        if (block === this.jsonBlock)
          return w.delta(0, `{"content":${JSON.stringify(d.partial_json)}}`, null);
        const n = this.toolIndex.get(block);
        if (n === undefined) return '';
        return w.delta(
          0,
          JSON.stringify({ tool_calls: [{ index: n, function: { arguments: d.partial_json } }] }),
          null,
        );
      }
      return '';
    }
    if (ev.type === 'message_delta') {
      mergeUsage(this.counts, ev.usage);
      const reason = ev.delta?.stop_reason;
      if (reason === undefined) return '';
      const finish = this.jsonBlock >= 0 && this.toolIndex.size === 0 ? 'stop' : finishReasonOf(reason);
      return w.delta(0, '{}', finish);
    }
    return '';
  }
}
