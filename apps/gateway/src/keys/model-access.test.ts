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

describe('model lists a key answers to', () => {
  it('needs every list in the chain to allow the model: the key, then its team', () => {
    const team = modelAccess(['gpt-4o', 'embed']);
    expect(modelAllowed(modelAccess([], team), 'gpt-4o', 'gpt-4o')).toBe(true);
    expect(modelAllowed(modelAccess([], team), 'other', 'other')).toBe(false);
    expect(modelAllowed(modelAccess(['embed'], team), 'gpt-4o', 'gpt-4o')).toBe(false);
    // all-team-models defers to the team's list.
    expect(modelAllowed(modelAccess(['all-team-models'], team), 'embed', 'embed')).toBe(true);
    expect(modelAllowed(modelAccess(['all-team-models'], team), 'other', 'other')).toBe(false);
  });

  it('allows nothing under no-default-models (a user limited to its teams)', () => {
    expect(modelAllowed(modelAccess([], modelAccess(['no-default-models'])), 'gpt-4o', 'gpt-4o')).toBe(false);
  });
});
