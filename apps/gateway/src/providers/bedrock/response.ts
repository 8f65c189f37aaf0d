import { ChunkWriter, completionId } from '../common/openai-chunks.js';
import type { StreamTranslation, Usage } from '../types.js';
import { type EventMessage, EventStreamDecoder, type EventStreamError } from './event-stream.js';
import { JSON_TOOL } from './request.js';

export interface ConverseUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

interface Block {
  text?: string;
  toolUse?: { toolUseId?: string; name?: string; input?: unknown };
  reasoningContent?: { reasoningText?: { text?: string } };
}

export interface ConverseResponse {
  output?: { message?: { content?: Block[] } };
  stopReason?: string;
  usage?: ConverseUsage;
}

/** Converse's stopReason as OpenAI's finish_reason. */
export function finishReasonOf(reason: string | undefined): string {
  if (reason === 'max_tokens') return 'length';
  if (reason === 'tool_use') return 'tool_calls';
  if (reason === 'guardrail_intervened' || reason === 'content_filtered') return 'content_filter';
  return 'stop';
}

/** Cache reads and writes are prompt tokens too. */
export function usageOf(u: ConverseUsage | undefined): Usage | undefined {
  if (!u || typeof u.inputTokens !== 'number') return undefined;
  return {
    promptTokens: u.inputTokens + (u.cacheReadInputTokens ?? 0) + (u.cacheWriteInputTokens ?? 0),
    completionTokens: u.outputTokens ?? 0,
  };
}

function openAiUsage(u: ConverseUsage): Record<string, unknown> {
  const usage = usageOf(u)!;
  const out: Record<string, unknown> = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  if (u.cacheReadInputTokens !== undefined)
    out['prompt_tokens_details'] = { cached_tokens: u.cacheReadInputTokens };
  return out;
}

/** A Converse answer as an OpenAI `chat.completion`. */
export function toChatCompletion(
  res: ConverseResponse,
  model: string,
  created: number,
): { json: string; usage: Usage | undefined } {
  let text = '';
  let reasoning = '';
  let jsonAnswer = false;
  const calls: Array<Record<string, unknown>> = [];
  for (const block of res.output?.message?.content ?? []) {
    if (typeof block.text === 'string') text += block.text;
    else if (block.reasoningContent?.reasoningText?.text)
      reasoning += block.reasoningContent.reasoningText.text;
    else if (block.toolUse?.name === JSON_TOOL) {
      text += JSON.stringify(block.toolUse.input ?? {});
      jsonAnswer = true;
    } else if (block.toolUse) {
      calls.push({
        id: block.toolUse.toolUseId,
        type: 'function',
        function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) },
      });
    }
  }
  const message: Record<string, unknown> = {
    role: 'assistant',
    content: text === '' && calls.length > 0 ? null : text,
  };
  if (reasoning !== '') message['reasoning_content'] = reasoning;
  if (calls.length > 0) message['tool_calls'] = calls;
  const out: Record<string, unknown> = {
    id: completionId(),
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: jsonAnswer && calls.length === 0 ? 'stop' : finishReasonOf(res.stopReason),
      },
    ],
  };
  if (res.usage && usageOf(res.usage)) out['usage'] = openAiUsage(res.usage);
  return { json: JSON.stringify(out), usage: usageOf(res.usage) };
}

interface StreamPayload {
  role?: string;
  contentBlockIndex?: number;
  start?: { toolUse?: { toolUseId?: string; name?: string } };
  delta?: { text?: string; toolUse?: { input?: string }; reasoningContent?: { text?: string } };
  stopReason?: string;
  usage?: ConverseUsage;
  message?: string;
  Message?: string;
}

/**
 * ConverseStream's binary event stream as OpenAI SSE chunks: messageStart → the role chunk; text,
 * reasoning and tool-input deltas; messageStop → the finish reason; metadata → usage (the usage
 * chunk when the client asked); `[DONE]`. An exception message, or broken framing, ends the stream
 * with an OpenAI error event.
 */
export class ConverseStream implements StreamTranslation {
  usage: Usage | undefined = undefined;
  failedStatus: number | undefined = undefined;
  private readonly decoder = new EventStreamDecoder();
  private readonly writer: ChunkWriter;
  private counts: ConverseUsage | undefined;
  private readonly toolIndex = new Map<number, number>();
  private jsonBlock = -1;
  private started = false;
  private ended = false;

  constructor(
    model: string,
    created: number,
    private readonly clientWantsUsage: boolean,
    private readonly errorEvent: (kind: string, message: string) => { status: number; body: string },
  ) {
    this.writer = new ChunkWriter(completionId(), created, model);
  }

  process(chunk: Buffer): Buffer {
    if (this.ended) return EMPTY;
    let messages: EventMessage[];
    try {
      messages = this.decoder.push(chunk);
    } catch (error) {
      return Buffer.from(this.fail('InternalServerException', (error as EventStreamError).message));
    }
    let out = '';
    for (const m of messages) {
      if (this.ended) break;
      out += this.message(m);
    }
    return out === '' ? EMPTY : Buffer.from(out);
  }

  flush(): Buffer | undefined {
    if (this.ended) return undefined;
    if (this.decoder.leftover > 0)
      return Buffer.from(this.fail('InternalServerException', 'the event stream ended mid-message'));
    this.ended = true;
    let tail = '';
    if (this.clientWantsUsage && this.counts && this.usage)
      tail += this.writer.usage(openAiUsage(this.counts));
    return Buffer.from(tail + ChunkWriter.DONE);
  }

  private fail(kind: string, message: string): string {
    const { status, body } = this.errorEvent(kind, message);
    this.failedStatus = status;
    this.ended = true;
    return ChunkWriter.error(body);
  }

  private message(m: EventMessage): string {
    let payload: StreamPayload;
    try {
      payload = JSON.parse(m.payload.toString('utf8')) as StreamPayload;
    } catch {
      payload = {};
    }
    if (m.headers[':message-type'] === 'exception' || m.headers[':message-type'] === 'error') {
      const kind = m.headers[':exception-type'] ?? m.headers[':error-code'] ?? 'InternalServerException';
      return this.fail(kind, payload.message ?? payload.Message ?? m.headers[':error-message'] ?? '');
    }
    const w = this.writer;
    let out = '';
    if (!this.started) {
      this.started = true;
      out += w.delta(0, '{"role":"assistant","content":""}', null);
    }
    const block = payload.contentBlockIndex ?? 0;
    switch (m.headers[':event-type']) {
      case 'contentBlockStart': {
        const tool = payload.start?.toolUse;
        if (!tool) break;
        if (tool.name === JSON_TOOL) {
          this.jsonBlock = block;
          break;
        }
        const n = this.toolIndex.size;
        this.toolIndex.set(block, n);
        const call = {
          index: n,
          id: tool.toolUseId,
          type: 'function',
          function: { name: tool.name, arguments: '' },
        };
        out += w.delta(0, JSON.stringify({ tool_calls: [call] }), null);
        break;
      }
      case 'contentBlockDelta': {
        const d = payload.delta;
        if (d?.text) out += w.delta(0, `{"content":${JSON.stringify(d.text)}}`, null);
        else if (d?.reasoningContent?.text)
          out += w.delta(0, `{"reasoning_content":${JSON.stringify(d.reasoningContent.text)}}`, null);
        else if (d?.toolUse?.input) {
          if (block === this.jsonBlock)
            out += w.delta(0, `{"content":${JSON.stringify(d.toolUse.input)}}`, null);
          else {
            const n = this.toolIndex.get(block);
            if (n !== undefined)
              out += w.delta(
                0,
                JSON.stringify({ tool_calls: [{ index: n, function: { arguments: d.toolUse.input } }] }),
                null,
              );
          }
        }
        break;
      }
      case 'messageStop': {
        const finish =
          this.jsonBlock >= 0 && this.toolIndex.size === 0 ? 'stop' : finishReasonOf(payload.stopReason);
        out += w.delta(0, '{}', finish);
        break;
      }
      case 'metadata':
        this.counts = payload.usage;
        this.usage = usageOf(payload.usage) ?? this.usage;
        break;
    }
    return out;
  }
}

const EMPTY = Buffer.alloc(0);
