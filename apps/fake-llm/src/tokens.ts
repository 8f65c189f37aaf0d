/**
 * The deterministic "tokenizer": prompts cost ceil(characters / 4) tokens, and a completion of n
 * tokens is n words of a fixed vocabulary joined by single spaces, so tests can predict both.
 */

/** Completion words, in order, repeating. Plain ASCII so they never need JSON escaping. */
export const VOCABULARY = [
  'lorem',
  'ipsum',
  'dolor',
  'sit',
  'amet',
  'consectetur',
  'adipiscing',
  'elit',
] as const;

/** What word `i` adds to the text: the word itself, preceded by a space unless it is the first. */
const PIECES: readonly string[] = VOCABULARY.map((word) => ' ' + word);

/** The text token `i` contributes; concatenating pieces 0..n-1 gives {@link completionText}(n). */
export function tokenPiece(i: number): string {
  return i === 0 ? VOCABULARY[0] : PIECES[i % PIECES.length]!;
}

const textCache = new Map<number, string>();

/** The completion text of `n` tokens, e.g. 3 -> "lorem ipsum dolor". Cached: every response needs it. */
export function completionText(n: number): string {
  let text = textCache.get(n);
  if (text === undefined) {
    text = '';
    for (let i = 0; i < n; i++) text += tokenPiece(i);
    if (textCache.size < 4096) textCache.set(n, text);
  }
  return text;
}

/** The prompt token estimate for `chars` characters: ceil(chars / 4), at least 1. */
export function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

/**
 * Characters of a message content: a string, or an array of parts whose `text` strings count
 * (OpenAI content parts, Anthropic blocks, Gemini parts). Anything else counts 0.
 */
export function contentChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let chars = 0;
  for (const part of content) {
    if (typeof part === 'string') chars += part.length;
    else if (part !== null && typeof part === 'object') {
      const text = (part as { text?: unknown }).text;
      if (typeof text === 'string') chars += text.length;
    }
  }
  return chars;
}

/** Characters of all `messages[].content` (or of `field` of each item) in a list. */
export function listChars(items: unknown, field = 'content'): number {
  if (!Array.isArray(items)) return 0;
  let chars = 0;
  for (const item of items) {
    if (item !== null && typeof item === 'object')
      chars += contentChars((item as Record<string, unknown>)[field]);
  }
  return chars;
}

/** A request's max-token limit: the smallest non-negative integer among `limits`, if any. */
export function tokenCap(...limits: unknown[]): number | undefined {
  let cap: number | undefined;
  for (const limit of limits) {
    if (typeof limit === 'number' && Number.isInteger(limit) && limit >= 0) {
      cap = cap === undefined ? limit : Math.min(cap, limit);
    }
  }
  return cap;
}

/** How many tokens to generate, and whether the request's limit (not the configured length) ended it. */
export interface CompletionLength {
  tokens: number;
  capped: boolean;
}

/** The configured completion length, cut to the request's limit when that is smaller. */
export function completionLength(configured: number, cap: number | undefined): CompletionLength {
  if (cap !== undefined && cap < configured) return { tokens: cap, capped: true };
  return { tokens: configured, capped: false };
}
