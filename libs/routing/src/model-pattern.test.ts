import { describe, expect, it } from 'vitest';
import { compilePatterns, fillPattern, isPattern, matchPattern } from './model-pattern.js';

describe('model patterns', () => {
  const patterns = compilePatterns([
    ['*', 'catch-all'],
    ['anthropic/*', 'anthropic'],
    ['bedrock/anthropic.*', 'bedrock-anthropic'],
    ['groq/*', 'groq'],
  ]);

  it('routes a requested model to the most specific pattern, the catch-all last', () => {
    expect(matchPattern(patterns, 'anthropic/claude-3')).toMatchObject({
      pattern: { name: 'anthropic/*' },
      captures: ['claude-3'],
    });
    expect(matchPattern(patterns, 'bedrock/anthropic.claude-3')?.pattern.value).toBe('bedrock-anthropic');
    expect(matchPattern(patterns, 'bedrock/amazon.titan')).toMatchObject({
      pattern: { name: '*' },
      captures: ['bedrock/amazon.titan'],
    });
    expect(matchPattern(patterns, 'gpt-4o')?.pattern.value).toBe('catch-all');
  });

  it('treats every other character literally', () => {
    const strict = compilePatterns([['gpt-4.1-*', 1]]);
    expect(matchPattern(strict, 'gpt-4.1-mini')?.captures).toEqual(['mini']);
    expect(matchPattern(strict, 'gpt-4x1-mini')).toBeUndefined();
    expect(matchPattern(compilePatterns([['a(b)*', 1]]), 'a(b)c')?.captures).toEqual(['c']);
  });

  it('keeps config order between equally specific patterns', () => {
    const tie = compilePatterns([
      ['x/*', 'first'],
      ['*/y', 'second'],
    ]);
    expect(matchPattern(tie, 'x/y')?.pattern.value).toBe('first');
  });

  it('fills the deployment model with what the wildcards matched', () => {
    expect(fillPattern('*', ['gpt-4o'])).toBe('gpt-4o');
    expect(fillPattern('claude-*', ['3-opus'])).toBe('claude-3-opus');
    expect(fillPattern('fixed-model', ['x'])).toBe('fixed-model');
    expect(fillPattern('*-*', ['a', 'b'])).toBe('a-b');
    expect(isPattern('openai/*')).toBe(true);
    expect(isPattern('gpt-4o')).toBe(false);
  });
});
