import { ChunkWriter, completionId, openAiUsage, toolCallId } from '../common/openai-chunks.js';
import { SseReader } from '../common/sse-reader.js';
import type { StreamTranslation, Usage } from '../types.js';

/** Gemini's `usageMetadata`. */
interface UsageMetadata {
  promptTokenCount?: number;
  candidatesTokenCount?: number;
  thoughtsTokenCount?: number;
  cachedContentTokenCount?: number;
}

interface Candidate {
  index?: number;
  content?: { parts?: Array<Record<string, unknown>> };
  finishReason?: string;
}

export interface GenerateContentResponse {
  candidates?: Candidate[];
  usageMetadata?: UsageMetadata;
  modelVersion?: string;
  responseId?: string;
  promptFeedback?: { blockReason?: string };
  error?: unknown;
}

/** Gemini's finishReason as OpenAI's finish_reason (LiteLLM's mapping). */
export function finishReasonOf(reason: string | undefined, calledTools: boolean): string | null {
  if (reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (
    reason === 'SAFETY' ||
    reason === 'RECITATION' ||
    reason === 'BLOCKLIST' ||
    reason === 'PROHIBITED_CONTENT' ||
    reason === 'SPII' ||
    reason === 'IMAGE_SAFETY'
  ) {
    return 'content_filter';
  }
  return calledTools ? 'tool_calls' : 'stop';
}

/** Token counts as OpenAI reports them: thinking tokens are completion tokens (they are billed as output). */
export function usageOf(meta: UsageMetadata | undefined): Usage | undefined {
  if (!meta || typeof meta.promptTokenCount !== 'number') return undefined;
  return {
    promptTokens: meta.promptTokenCount,
    completionTokens: (meta.candidatesTokenCount ?? 0) + (meta.thoughtsTokenCount ?? 0),
  };
}

function usageDetails(meta: UsageMetadata | undefined) {
  return { cachedTokens: meta?.cachedContentTokenCount, reasoningTokens: meta?.thoughtsTokenCount };
}

/** The text, reasoning and function calls of one candidate. */
function partsOf(candidate: Candidate) {
  let text = '';
  let reasoning = '';
  const calls: Array<{ name: string; args: unknown }> = [];
  for (const part of candidate.content?.parts ?? []) {
    if (typeof part['text'] === 'string') {
      if (part['thought'] === true) reasoning += part['text'];
      else text += part['text'];
    }
    const call = part['functionCall'] as { name?: unknown; args?: unknown } | undefined;
    if (call && typeof call.name === 'string') calls.push({ name: call.name, args: call.args ?? {} });
  }
  return { text, reasoning, calls };
}

/** A `generateContent` answer as an OpenAI `chat.completion`. */
export function toChatCompletion(
  res: GenerateContentResponse,
  model: string,
  created: number,
): { json: string; usage: Usage | undefined } {
  const choices = (res.candidates ?? []).map((candidate, i) => {
    const { text, reasoning, calls } = partsOf(candidate);
    const message: Record<string, unknown> = {
      role: 'assistant',
      content: text === '' && calls.length > 0 ? null : text,
    };
    if (reasoning !== '') message['reasoning_content'] = reasoning;
    if (calls.length > 0) {
      message['tool_calls'] = calls.map((c) => ({
        id: toolCallId(),
        type: 'function',
        function: { name: c.name, arguments: JSON.stringify(c.args) },
      }));
    }
    return {
      index: candidate.index ?? i,
      message,
      logprobs: null,
      finish_reason: finishReasonOf(candidate.finishReason, calls.length > 0) ?? 'stop',
    };
  });
  if (choices.length === 0) {
    // The prompt itself was blocked: no candidates, only promptFeedback.
    choices.push({
      index: 0,
      message: { role: 'assistant', content: null },
      logprobs: null,
      finish_reason: 'content_filter',
    });
  }
  const usage = usageOf(res.usageMetadata);
  const out: Record<string, unknown> = {
    id: res.responseId ? `chatcmpl-${res.responseId}` : completionId(),
    object: 'chat.completion',
    created,
    model: res.modelVersion ?? model,
    choices,
  };
  if (usage) out['usage'] = openAiUsage(usage, usageDetails(res.usageMetadata));
  return { json: JSON.stringify(out), usage };
}

/**
 * `streamGenerateContent?alt=sse` as OpenAI `chat.completion.chunk` events: a role chunk first,
 * then text, reasoning and tool-call deltas per candidate, the finish reason, the usage chunk when
 * the client asked for it (Gemini sends usageMetadata with the last events), then `[DONE]`. An
 * error event ends the stream with an OpenAI error event.
 */
export class GeminiStream implements StreamTranslation {
  usage: Usage | undefined = undefined;
  failedStatus: number | undefined = undefined;
  private readonly reader = new SseReader();
  private writer: ChunkWriter | undefined;
  private meta: UsageMetadata | undefined;
  private readonly toolIndex = new Map<number, number>();
  private ended = false;

  constructor(
    private readonly model: string,
    private readonly created: number,
    private readonly clientWantsUsage: boolean,
    private readonly errorEvent: (error: unknown) => { status: number; body: string },
  ) {}

  process(chunk: Buffer): Buffer {
    return this.render(this.reader.push(chunk));
  }

  flush(): Buffer | undefined {
    const out = this.render(this.reader.end());
    if (this.ended) return out;
    this.ended = true;
    let tail = '';
    if (this.writer && this.clientWantsUsage && this.usage) {
      tail += this.writer.usage(openAiUsage(this.usage, usageDetails(this.meta)));
    }
    return Buffer.concat([out, Buffer.from(tail + ChunkWriter.DONE)]);
  }

  private render(events: ReadonlyArray<{ data: string }>): Buffer {
    let out = '';
    for (const e of events) {
      if (this.ended) break;
      let res: GenerateContentResponse;
      try {
        res = JSON.parse(e.data) as GenerateContentResponse;
      } catch {
        continue;
      }
      if (res.error !== undefined) {
        const { status, body } = this.errorEvent(res.error);
        this.failedStatus = status;
        this.ended = true;
        out += ChunkWriter.error(body);
        continue;
      }
      out += this.chunks(res);
    }
    return out === '' ? EMPTY : Buffer.from(out);
  }

  private chunks(res: GenerateContentResponse): string {
    let out = '';
    if (!this.writer) {
      const id = res.responseId ? `chatcmpl-${res.responseId}` : completionId();
      this.writer = new ChunkWriter(id, this.created, res.modelVersion ?? this.model);
      out += this.writer.delta(0, '{"role":"assistant","content":""}', null);
    }
    const w = this.writer;
    if (res.usageMetadata) {
      this.meta = res.usageMetadata;
      this.usage = usageOf(res.usageMetadata) ?? this.usage;
    }
    (res.candidates ?? []).forEach((candidate, i) => {
      const index = candidate.index ?? i;
      const { text, reasoning, calls } = partsOf(candidate);
      if (reasoning !== '') out += w.delta(index, `{"reasoning_content":${JSON.stringify(reasoning)}}`, null);
      if (text !== '') out += w.delta(index, `{"content":${JSON.stringify(text)}}`, null);
      for (const call of calls) {
        const n = this.toolIndex.get(index) ?? 0;
        this.toolIndex.set(index, n + 1);
        const delta = {
          tool_calls: [
            {
              index: n,
              id: toolCallId(),
              type: 'function',
              function: { name: call.name, arguments: JSON.stringify(call.args) },
            },
          ],
        };
        out += w.delta(index, JSON.stringify(delta), null);
      }
      const finish = finishReasonOf(candidate.finishReason, this.toolIndex.has(index));
      if (finish) out += w.delta(index, '{}', finish);
    });
    return out;
  }
}

const EMPTY = Buffer.alloc(0);
