import type { AttemptFailure } from './attempt.js';

/** Which fallbacks a failure calls for. */
export type FallbackKind = 'general' | 'context_window' | 'content_policy';

/**
 * The router's fallbacks, as LiteLLM configures them: `fallbacks` (per group, `"*"` for any group),
 * `default_fallbacks`, `context_window_fallbacks` and `content_policy_fallbacks`.
 */
export interface FallbackPolicy {
  readonly general: ReadonlyMap<string, readonly string[]>;
  readonly contextWindow: ReadonlyMap<string, readonly string[]>;
  readonly contentPolicy: ReadonlyMap<string, readonly string[]>;
  /** `default_fallbacks` and a `"*"` entry of `fallbacks`: for a group without its own. */
  readonly defaults: readonly string[];
  /** `max_fallbacks`: the longest chain tried. @default 5 */
  readonly maxFallbacks: number;
}

export const NO_FALLBACKS: FallbackPolicy = {
  general: new Map(),
  contextWindow: new Map(),
  contentPolicy: new Map(),
  defaults: [],
  maxFallbacks: 5,
};

/** The kind of fallback a group's last failure calls for. */
export function fallbackKind(failure: AttemptFailure | undefined): FallbackKind {
  if (failure?.reason === 'context_window') return 'context_window';
  if (failure?.reason === 'content_policy') return 'content_policy';
  return 'general';
}

/**
 * The groups to try after `group` failed, in order, LiteLLM's way: a context window or content policy
 * failure uses its own fallbacks when any are configured (and then only the group's entry, never the
 * general ones), else the general ones; the general ones are the group's entry, else the defaults.
 * The group itself is never its own fallback; at most `maxFallbacks`. A fallback's own fallbacks are
 * not followed: a chain is one list, so fallbacks that name each other (a → b, b → a) cannot loop.
 */
export function fallbackChain(policy: FallbackPolicy, group: string, kind: FallbackKind): string[] {
  let chain: readonly string[] | undefined;
  if (kind === 'context_window' && policy.contextWindow.size > 0)
    chain = policy.contextWindow.get(group) ?? [];
  else if (kind === 'content_policy' && policy.contentPolicy.size > 0)
    chain = policy.contentPolicy.get(group) ?? [];
  else chain = policy.general.get(group) ?? policy.defaults;
  return chain.filter((g) => g !== group).slice(0, policy.maxFallbacks);
}
