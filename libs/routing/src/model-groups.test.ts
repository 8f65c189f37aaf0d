import { describe, expect, it } from 'vitest';
import { buildModelGroups, type GroupableDeployment } from './model-groups.js';

const d = (
  id: string,
  modelGroup: string,
  extra: Partial<GroupableDeployment> = {},
): GroupableDeployment => ({
  id,
  modelGroup,
  accessGroups: [],
  ...extra,
});

describe('buildModelGroups', () => {
  const deployments = [
    d('a1', 'gpt-4', { rpm: 100, inputCostPerToken: 1e-6, accessGroups: ['beta'] }),
    d('a2', 'gpt-4', { rpm: 50, inputCostPerToken: 3e-6, outputCostPerToken: 2e-6, numRetries: 4 }),
    d('b1', 'claude', { accessGroups: ['beta', 'prod'] }),
    d('w1', 'openai/*'),
    d('w2', '*'),
  ];
  const groups = buildModelGroups(deployments, {
    aliases: new Map([
      ['gpt4', 'gpt-4'],
      ['secret', 'claude'],
      ['claude', 'gpt-4'],
    ]),
    hiddenAliases: new Set(['secret']),
    numRetries: 2,
  });

  it('sums limits, takes the dearest prices and the first num_retries, collects access groups', () => {
    const g = groups.group('gpt-4')!;
    expect(g.deployments.map((x) => x.id)).toEqual(['a1', 'a2']);
    expect(g.jointRpm).toBe(150);
    expect([g.maxInputCost, g.maxOutputCost]).toEqual([3e-6, 2e-6]);
    expect(g.numRetries).toBe(4);
    expect(groups.group('claude')!.jointRpm).toBeUndefined();
    expect(groups.group('claude')!.numRetries).toBe(2);
    expect(groups.accessGroups).toEqual(['beta', 'prod']);
  });

  it('resolves a name exactly, then through an alias (never over a group of that name), then by the most specific wildcard', () => {
    expect(groups.resolve('gpt-4')?.group.name).toBe('gpt-4');
    expect(groups.resolve('gpt4')?.group.name).toBe('gpt-4');
    expect(groups.resolve('claude')?.group.name).toBe('claude');
    expect(groups.resolve('openai/gpt-5')).toMatchObject({
      group: { name: 'openai/*' },
      captures: ['gpt-5'],
    });
    expect(groups.resolve('mistral-large')).toMatchObject({
      group: { name: '*' },
      captures: ['mistral-large'],
    });
    expect(groups.resolve('gpt-4')?.captures).toBeUndefined();
  });

  it('lists groups by name and visible aliases, wildcards and hidden aliases left out', () => {
    expect(groups.publicNames).toEqual(['gpt-4', 'claude', 'gpt4']);
    expect(groups.groups.map((g) => [g.name, g.wildcard])).toEqual([
      ['gpt-4', false],
      ['claude', false],
      ['openai/*', true],
      ['*', true],
    ]);
  });
});
