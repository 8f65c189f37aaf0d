import { describe, expect, it } from 'vitest';
import { formatDuration, parseRetryAfter, retryAfterSeconds } from './rate-headers.js';

describe('rate-limit header values', () => {
  it('spells durations as OpenAI does', () => {
    expect(formatDuration(20)).toBe('20ms');
    expect(formatDuration(1_500)).toBe('1.5s');
    expect(formatDuration(59_000)).toBe('59s');
    expect(formatDuration(360_000)).toBe('6m0s');
  });

  it('rounds retry-after up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe('1');
    expect(retryAfterSeconds(1_001)).toBe('2');
    expect(retryAfterSeconds(56_000)).toBe('56');
  });

  it('parses upstream retry-after in seconds or as a date', () => {
    expect(parseRetryAfter('2', 0)).toBe(2_000);
    expect(parseRetryAfter('1.5', 0)).toBe(1_500);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
