import type { SubjectState, WindowState } from '@fleetgate/ratelimit';

/** OpenAI's duration spelling for `x-ratelimit-reset-*`: `20ms`, `1.5s`, `6m0s`. */
export function formatDuration(ms: number): string {
  const v = Math.max(0, Math.ceil(ms));
  if (v < 1000) return `${v}ms`;
  if (v < 60_000) return `${Math.round(v / 100) / 10}s`;
  const m = Math.floor(v / 60_000);
  return `${m}m${Math.round((v - m * 60_000) / 1000)}s`;
}

/** `retry-after` in whole seconds, rounded up, at least 1 (0 would invite an immediate hammering). */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** Adds `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` for the windows that apply. */
export function addRateLimitHeaders(headers: Record<string, string>, state: SubjectState | undefined): void {
  if (!state) return;
  if (state.requests) addWindow(headers, 'requests', state.requests);
  if (state.tokens) addWindow(headers, 'tokens', state.tokens);
}

function addWindow(headers: Record<string, string>, unit: 'requests' | 'tokens', w: WindowState): void {
  headers[`x-ratelimit-limit-${unit}`] = String(w.limit);
  headers[`x-ratelimit-remaining-${unit}`] = String(w.remaining);
  headers[`x-ratelimit-reset-${unit}`] = formatDuration(w.resetMs);
}

/** Parses an upstream `retry-after` (seconds, possibly fractional, or an HTTP date) into ms. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const seconds = Number(v);
  if (Number.isFinite(seconds)) return seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
