import { describe, expect, it } from 'vitest';
import { clientKey, createSecretMatcher } from './client-key.js';

const headers = (h: Record<string, string>) => (name: string) => h[name];

describe('clientKey', () => {
  it('reads every header LiteLLM accepts, Authorization first', () => {
    expect(clientKey(headers({ authorization: 'Bearer sk-a' }))).toBe('sk-a');
    expect(clientKey(headers({ authorization: 'bearer   sk-a ' }))).toBe('sk-a');
    expect(clientKey(headers({ 'x-litellm-api-key': 'sk-b' }))).toBe('sk-b');
    expect(clientKey(headers({ 'api-key': 'sk-c' }))).toBe('sk-c');
    expect(clientKey(headers({ 'x-api-key': 'sk-d' }))).toBe('sk-d');
    expect(clientKey(headers({ authorization: 'Bearer sk-a', 'x-api-key': 'sk-d' }))).toBe('sk-a');
    expect(clientKey(headers({}))).toBeUndefined();
    expect(clientKey(headers({ authorization: 'Bearer ' }))).toBeUndefined();
  });
});

describe('createSecretMatcher', () => {
  it('matches only the exact secret, whatever the length of the guess', () => {
    const matches = createSecretMatcher('sk-1234');
    expect(matches('sk-1234')).toBe(true);
    expect(matches('sk-123')).toBe(false);
    expect(matches('sk-12345')).toBe(false);
    expect(matches('')).toBe(false);
  });
});
