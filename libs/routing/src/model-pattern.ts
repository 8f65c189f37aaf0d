/**
 * A wildcard model name from the config (`model_name: "*"`, `"openai/*"`, `"anthropic/claude-*"`):
 * any requested model it matches is routed to its deployments, and each `*` of a deployment's own
 * model (`openai/*`) takes the text the matching `*` of the name stood for, as LiteLLM's pattern
 * router does.
 */
export interface ModelPattern<T> {
  readonly name: string;
  readonly value: T;
  readonly regex: RegExp;
  /** Characters outside the wildcards: the more, the more specific. */
  readonly literalLength: number;
}

/** A requested model matched to a pattern, and what each `*` stood for. */
export interface PatternMatch<T> {
  readonly pattern: ModelPattern<T>;
  readonly captures: readonly string[];
}

export const isPattern = (name: string): boolean => name.includes('*');

/**
 * Compiles patterns once, most specific first (more literal characters; config order breaks ties),
 * so `anthropic/*` wins over `*` for `anthropic/claude-3`.
 */
export function compilePatterns<T>(entries: Iterable<readonly [string, T]>): ModelPattern<T>[] {
  const out: ModelPattern<T>[] = [];
  for (const [name, value] of entries) {
    const source = name
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('(.*)');
    out.push({
      name,
      value,
      regex: new RegExp(`^${source}$`, 's'),
      literalLength: name.replaceAll('*', '').length,
    });
  }
  // Array.prototype.sort is stable: equal specificity keeps config order.
  return out.sort((a, b) => b.literalLength - a.literalLength);
}

export function matchPattern<T>(
  patterns: readonly ModelPattern<T>[],
  model: string,
): PatternMatch<T> | undefined {
  for (const pattern of patterns) {
    const m = pattern.regex.exec(model);
    if (m) return { pattern, captures: m.slice(1) };
  }
  return undefined;
}

/** A deployment's model with each `*` replaced, in order, by what the request's `*`s stood for. */
export function fillPattern(template: string, captures: readonly string[]): string {
  let i = 0;
  return template.replace(/\*/g, () => captures[i++] ?? captures.at(-1) ?? '');
}
