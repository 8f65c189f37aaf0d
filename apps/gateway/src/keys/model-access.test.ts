import { describe, expect, it } from 'vitest';
import { modelAccess, modelAllowed } from './model-access.js';

describe('modelAllowed', () => {
  it('lets a key without models, or with * or all-proxy-models, use every model', () => {
    for (const models of [[], ['*'], ['gpt-4o', 'all-proxy-models']]) {
      expect(modelAllowed(modelAccess(models), 'anything', 'anything')).toBe(true);
    }
  });

  it('matches the requested name or the group it resolves to, exactly', () => {
    const access = modelAccess(['gpt-4o']);
    expect(modelAllowed(access, 'gpt-4o', 'gpt-4o')).toBe(true);
    expect(modelAllowed(access, 'alias', 'gpt-4o')).toBe(true);
    expect(modelAllowed(access, 'gpt-4o-mini', 'gpt-4o-mini')).toBe(false);
  });

  it('matches * wildcards on the whole name, with regex characters taken literally', () => {
    const access = modelAccess(['openai/*', 'gpt-4.1*']);
    expect(modelAllowed(access, 'openai/gpt-4o', 'x')).toBe(true);
    expect(modelAllowed(access, 'x', 'gpt-4.1-mini')).toBe(true);
    expect(modelAllowed(access, 'gpt-4x1', 'gpt-4x1')).toBe(false);
    expect(modelAllowed(access, 'azure/openai/gpt-4o', 'x')).toBe(false);
  });
});
