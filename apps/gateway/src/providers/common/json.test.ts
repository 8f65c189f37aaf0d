import { describe, expect, it } from 'vitest';
import { jsonBody, toJson } from './json.js';

const long = (s: string) => s.repeat(300);

/** Random JSON data whose strings are drawn from `pieces`, some of them long. */
function randomValues(pieces: readonly string[], count: number, seed0: number): unknown[] {
  let seed = seed0;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const str = () =>
    Array.from(
      { length: Math.floor(rnd() * (rnd() < 0.2 ? 600 : 20)) },
      () => pieces[Math.floor(rnd() * pieces.length)],
    ).join('');
  const value = (d: number): unknown => {
    const r = rnd();
    if (d > 3 || r < 0.35) return str();
    if (r < 0.45) return Math.floor(rnd() * 1e6) / 100;
    if (r < 0.55) return [true, false, null, undefined][Math.floor(rnd() * 4)];
    if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(d + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [str(), value(d + 1)]));
  };
  return Array.from({ length: count }, () => ({ root: value(0) }));
}

describe('toJson', () => {
  it('writes exactly what JSON.stringify writes', () => {
    const cases: unknown[] = [
      { a: 1, b: 'x', c: [1, 'two', null, true], d: { e: undefined, f: 0.5, g: -0 } },
      { text: long('plain ascii prompt ') },
      { text: long('quote " backslash \\ newline \n tab \t') },
      { text: long('ünïcødé ✓ and emoji 😀') },
      { text: long('lone \ud800 surrogate') },
      { text: long('control \u0001 char') },
      [undefined, () => 1, Number.NaN, Number.POSITIVE_INFINITY, 1e21, '', long('x')],
      { nested: [{ deeper: [{ s: long('y') }] }] },
      'top-level string',
      42,
      null,
    ];
    for (const c of cases) expect(toJson(c, false)).toBe(JSON.stringify(c));
    for (const v of randomValues(
      ['a', '"', '\\', '\n', 'é', '\u0000', '\ud83d\ude00', '\ud800', ' ', 'word '],
      300,
      11,
    )) {
      expect(toJson(v, false)).toBe(JSON.stringify(v));
    }
  });

  it('takes the fast path for a clean request and still escapes what a translator may add', () => {
    // A request without backslashes cannot hold control characters or lone surrogates; a translator
    // may still add quotes, backslashes and newlines.
    for (const v of randomValues(['a', '"', '\\', '\n', 'é', '\ud83d\ude00', ' ', 'word '], 300, 23)) {
      expect(toJson(v, true)).toBe(JSON.stringify(v));
    }
  });

  it('trusts a request only when its bytes hold no escape', () => {
    const value = { text: long('control \u0001 char') };
    const raw = Buffer.from(JSON.stringify(value));
    expect(raw.includes('\\')).toBe(true);
    expect(jsonBody(value, raw)).toBe(JSON.stringify(value));
    const plain = { text: long('plain text ') };
    expect(jsonBody(plain, Buffer.from(JSON.stringify(plain)))).toBe(JSON.stringify(plain));
  });
});
