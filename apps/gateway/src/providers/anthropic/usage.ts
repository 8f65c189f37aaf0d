import type { Usage } from '../types.js';

/** Anthropic's `usage`: cache reads and writes are prompt tokens too (billed, and counted in TPM windows). */
export interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
}

export function usageOf(u: AnthropicUsage | undefined): Usage | undefined {
  if (!u || typeof u.input_tokens !== 'number') return undefined;
  return {
    promptTokens: u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0),
    completionTokens: u.output_tokens ?? 0,
  };
}

/** OpenAI's usage object with the cache details LiteLLM reports for Anthropic. */
export function openAiUsageOf(u: AnthropicUsage): Record<string, unknown> {
  const usage = usageOf(u) ?? { promptTokens: 0, completionTokens: u.output_tokens ?? 0 };
  const out: Record<string, unknown> = {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
  if (u.cache_read_input_tokens != null || u.cache_creation_input_tokens != null) {
    out['prompt_tokens_details'] = { cached_tokens: u.cache_read_input_tokens ?? 0 };
    out['cache_read_input_tokens'] = u.cache_read_input_tokens ?? 0;
    out['cache_creation_input_tokens'] = u.cache_creation_input_tokens ?? 0;
  }
  return out;
}

/** Merges what message_start and message_delta report (the later counts win where given). */
export function mergeUsage(into: AnthropicUsage, from: AnthropicUsage | undefined): void {
  if (!from) return;
  for (const key of [
    'input_tokens',
    'output_tokens',
    'cache_read_input_tokens',
    'cache_creation_input_tokens',
  ] as const) {
    const v = from[key];
    if (typeof v === 'number') into[key] = v;
  }
}
