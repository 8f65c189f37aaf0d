import { describe, expect, it } from 'vitest';
import { BehaviourTable } from './behaviour-table.js';
import { DEFAULT_BEHAVIOUR } from './options.js';

describe('BehaviourTable', () => {
  it('lets the longest matching prefix win per knob, falling back to the defaults', () => {
    const table = new BehaviourTable({ ...DEFAULT_BEHAVIOUR });
    table.set({ failRate: 1, failStatus: 503 }, '/a');
    table.set({ failStatus: 502 }, '/a/b');
    table.set({ latencyMs: 5 });
    expect(table.resolve('/a/b/c')).toMatchObject({ failRate: 1, failStatus: 502, latencyMs: 5 });
    expect(table.resolve('/a/c')).toMatchObject({ failRate: 1, failStatus: 503, latencyMs: 5 });
    expect(table.resolve('/abc')).toMatchObject({ failRate: 1 }); // plain string prefix
    expect(table.resolve('/b')).toMatchObject({ failRate: 0, failStatus: 500, latencyMs: 5 });
  });

  it('forgets cached resolutions when the table changes', () => {
    const table = new BehaviourTable({ ...DEFAULT_BEHAVIOUR });
    expect(table.resolve('/x').completionTokens).toBe(16);
    table.set({ completionTokens: 3 }, '/x');
    expect(table.resolve('/x').completionTokens).toBe(3);
    table.clear('/x');
    expect(table.resolve('/x').completionTokens).toBe(16);
  });

  it('restores the initial behaviour on clear() without a prefix', () => {
    const table = new BehaviourTable({ ...DEFAULT_BEHAVIOUR, completionTokens: 4 });
    table.set({ completionTokens: 9 });
    table.set({ hangRate: 1 }, '/h');
    table.clear();
    expect(table.describe()).toEqual({
      defaults: { ...DEFAULT_BEHAVIOUR, completionTokens: 4 },
      overrides: {},
    });
  });
});
