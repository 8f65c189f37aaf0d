import { describe, expect, it } from 'vitest';
import { SseUsageTracker, usageFromJson } from './usage.js';

const chunk = (s: string) => Buffer.from(s);
const data = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;

describe('usageFromJson', () => {
  it('reads usage, nested details included, without parsing the rest', () => {
    const body = {
      id: 'x',
      data: [{ embedding: [0.1, 0.2] }],
      usage: { prompt_tokens: 12, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } },
    };
    expect(usageFromJson(chunk(JSON.stringify(body)))).toEqual({ promptTokens: 12, completionTokens: 3 });
  });

  it('defaults completion tokens to 0 (embeddings) and gives up on missing or broken usage', () => {
    expect(usageFromJson(chunk('{"usage":{"prompt_tokens":5,"total_tokens":5}}'))).toEqual({
      promptTokens: 5,
      completionTokens: 0,
    });
    expect(usageFromJson(chunk('{"id":"x"}'))).toBeUndefined();
    expect(usageFromJson(chunk('{"usage":null}'))).toBeUndefined();
    expect(usageFromJson(chunk('{"usage":{"prompt_tokens":'))).toBeUndefined();
  });
});

describe('SseUsageTracker', () => {
  const events = [
    data({ choices: [{ delta: { content: 'hi' } }] }),
    data({ choices: [{ delta: {}, finish_reason: 'stop' }] }),
    data({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } }),
    'data: [DONE]\n\n',
  ].join('');

  it('passes bytes through untouched and finds usage when the client asked for it', () => {
    const t = new SseUsageTracker(false);
    const out = Buffer.concat([chunk(events)].map((c) => t.process(c)));
    expect(out.toString()).toBe(events);
    expect(t.usage).toEqual({ promptTokens: 7, completionTokens: 2 });
  });

  it("drops the usage-only chunk the gateway asked for on the client's behalf", () => {
    const t = new SseUsageTracker(true);
    const out = t.process(chunk(events)).toString() + (t.flush()?.toString() ?? '');
    expect(out).not.toContain('usage');
    expect(out).toContain('"finish_reason":"stop"');
    expect(out.endsWith('data: [DONE]\n\n')).toBe(true);
    expect(t.usage).toEqual({ promptTokens: 7, completionTokens: 2 });
  });

  it('finds usage split across chunks at any byte, in both modes', () => {
    for (const strip of [false, true]) {
      for (let cut = 1; cut < events.length; cut += 7) {
        const t = new SseUsageTracker(strip);
        const parts = [events.slice(0, cut), events.slice(cut)].map((s) => t.process(chunk(s)).toString());
        const out = parts.join('') + (t.flush()?.toString() ?? '');
        expect(t.usage).toEqual({ promptTokens: 7, completionTokens: 2 });
        if (strip) expect(out).not.toContain('usage');
        else expect(out).toBe(events);
      }
    }
  });
});
