import { describe, expect, it } from 'vitest';
import { topLevelValueRange } from './json-splice.js';

const splice = (buf: Buffer, start: number, end: number, value: Buffer) =>
  Buffer.concat([buf.subarray(0, start), value, buf.subarray(end)]);

function rewriteModel(text: string, model: string): unknown {
  const buf = Buffer.from(text);
  const range = topLevelValueRange(buf, 'model');
  if (!range) return undefined;
  return JSON.parse(splice(buf, range[0], range[1], Buffer.from(JSON.stringify(model))).toString());
}

describe('topLevelValueRange', () => {
  it('finds the top-level key wherever it stands, never a nested or quoted look-alike', () => {
    const cases = [
      { model: 'a', messages: [{ role: 'user', content: 'x' }] },
      { messages: [{ role: 'user', content: '"model": "evil"', model: 'nested' }], model: 'a' },
      { metadata: { model: 'nested' }, 'model\\': 1, model: 'a', stream: true },
      {
        messages: [{ content: 'a \\" quote \\\\", "model": "x' }],
        temperature: 0.5,
        model: 'a',
        n: [1, [2, { model: 3 }]],
      },
      { model: 'ünïcødé ✓', max_tokens: 5 },
    ];
    for (const body of cases) {
      for (const text of [JSON.stringify(body), JSON.stringify(body, null, 2)]) {
        expect(rewriteModel(text, 'upstream-model')).toEqual({ ...body, model: 'upstream-model' });
      }
    }
  });

  it('keeps every other byte as the client sent it', () => {
    const text = '{ "messages" : [ {"role":"user","content":"1.50e3 \\u00e9"} ] , "model":"a"  , "x": null }';
    const buf = Buffer.from(text);
    const [start, end] = topLevelValueRange(buf, 'model')!;
    expect(splice(buf, start, end, Buffer.from('"b"')).toString()).toBe(
      text.replace('"model":"a"', '"model":"b"'),
    );
  });

  it('handles non-string values and reports a missing key', () => {
    expect(rewriteModel('{"model":42,"x":1}', 'm')).toEqual({ model: 'm', x: 1 });
    expect(rewriteModel('{"model":{"a":[1,2]},"x":1}', 'm')).toEqual({ model: 'm', x: 1 });
    expect(topLevelValueRange(Buffer.from('{"messages":[],"x":1}'), 'model')).toBeUndefined();
    expect(topLevelValueRange(Buffer.from('{"mod\\u0065l":"a"}'), 'model')).toBeUndefined();
    expect(topLevelValueRange(Buffer.from('[1]'), 'model')).toBeUndefined();
    // JSON.parse keeps the last of duplicate keys: rewriting only the first would let the client's win.
    expect(
      topLevelValueRange(Buffer.from('{"model":"a","model":"gpt-4-expensive"}'), 'model'),
    ).toBeUndefined();
  });

  it('agrees with JSON.parse on random objects', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pieces = ['"', '\\', 'model', '{', '}', '[', ']', ',', ':', ' ', 'é', '\n', 'x'];
    const str = () =>
      Array.from({ length: Math.floor(rnd() * 12) }, () => pieces[Math.floor(rnd() * pieces.length)]).join(
        '',
      );
    const value = (d: number): unknown => {
      const r = rnd();
      if (d > 3 || r < 0.3) return str();
      if (r < 0.45) return Math.floor(rnd() * 1e6) / 100;
      if (r < 0.55) return [true, false, null][Math.floor(rnd() * 3)];
      if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(d + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, () => [str(), value(d + 1)]));
    };
    for (let n = 0; n < 500; n++) {
      const body = Object.fromEntries(
        Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => [str(), value(0)]),
      );
      body['model'] = str();
      expect(rewriteModel(JSON.stringify(body), 'm')).toEqual({ ...body, model: 'm' });
    }
  });
});
