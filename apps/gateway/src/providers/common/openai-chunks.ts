import type { Usage } from '../types.js';

/** OpenAI's `usage` object for token counts, with the details a provider reported. */
export function openAiUsage(
  usage: Usage,
  details: { cachedTokens?: number | undefined; reasoningTokens?: number | undefined } = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  if (details.cachedTokens !== undefined)
    out['prompt_tokens_details'] = { cached_tokens: details.cachedTokens };
  if (details.reasoningTokens !== undefined)
    out['completion_tokens_details'] = { reasoning_tokens: details.reasoningTokens };
  return out;
}

/** A fresh `chatcmpl-…` id for answers whose provider gives none usable. */
export function completionId(): string {
  return `chatcmpl-${crypto.randomUUID().replaceAll('-', '')}`;
}

/** A fresh tool call id in OpenAI's spelling, for providers that give calls none (Gemini). */
export function toolCallId(): string {
  return `call_${crypto.randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

/**
 * Writes `chat.completion.chunk` events for one stream: the head (id, created, model) is rendered
 * once, each chunk by concatenation around it.
 */
export class ChunkWriter {
  private readonly head: string;

  constructor(id: string, created: number, model: string) {
    this.head = `data: {"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":`;
  }

  /** One choice's delta (already JSON), with its finish reason or null. */
  delta(index: number, delta: string, finishReason: string | null): string {
    const finish = finishReason === null ? 'null' : `"${finishReason}"`;
    return `${this.head}[{"index":${index},"delta":${delta},"logprobs":null,"finish_reason":${finish}}]}\n\n`;
  }

  /** The usage-only chunk (`choices: []`) OpenAI sends last when asked for `include_usage`. */
  usage(usage: Record<string, unknown>): string {
    return `${this.head}[],"usage":${JSON.stringify(usage)}}\n\n`;
  }

  static readonly DONE = 'data: [DONE]\n\n';

  /** An error event in OpenAI's shape, for a stream whose status line was already sent. */
  static error(body: string): string {
    return `data: ${body}\n\n`;
  }
}
