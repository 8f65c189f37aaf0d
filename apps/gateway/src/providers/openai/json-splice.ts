const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Where the value of a top-level key sits in the raw text of a JSON object: `[start, end)` byte
 * offsets, or undefined when the key is not found exactly once as written (escaped key spellings are
 * not matched, and a duplicate key — which JSON.parse resolves to the last one — must not survive a
 * rewrite of the first; callers then fall back to serialising the parsed body). The text must
 * already have parsed as an object — this walks its structure, it does not validate it.
 *
 * Why: the gateway rewrites one field of a request body it has already parsed (`model`). Serialising
 * the whole parsed body again costs more than everything else the gateway does for a 16 KB prompt;
 * splicing the new value into the bytes the client sent costs one scan.
 */
export function topLevelValueRange(buf: Uint8Array, key: string): [number, number] | undefined {
  const target = Buffer.from(JSON.stringify(key));
  let found: [number, number] | undefined;
  let i = skipSpace(buf, 0);
  if (buf[i] !== OPEN_BRACE) return undefined;
  i++;
  for (;;) {
    i = skipSpace(buf, i);
    if (buf[i] !== QUOTE) return undefined;
    const keyEnd = endOfString(buf, i);
    const isTarget = keyEnd - i === target.length && Buffer.compare(target, buf.subarray(i, keyEnd)) === 0;
    i = skipSpace(buf, keyEnd);
    if (buf[i] !== COLON) return undefined;
    const start = skipSpace(buf, i + 1);
    const end = endOfValue(buf, start);
    if (isTarget) {
      if (found) return undefined;
      found = [start, end];
    }
    i = skipSpace(buf, end);
    if (buf[i] === COMMA) i++;
    else return buf[i] === CLOSE_BRACE ? found : undefined;
  }
}

function skipSpace(buf: Uint8Array, i: number): number {
  while (i < buf.length) {
    const c = buf[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/**
 * `buf[i]` is an opening quote; returns the offset just past the closing one. Jumps from quote to
 * quote with the native `indexOf` (prompts are long strings); a quote preceded by an odd run of
 * backslashes is escaped and skipped.
 */
function endOfString(buf: Uint8Array, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = buf.indexOf(QUOTE, j);
    if (q < 0) return buf.length;
    let backslashes = 0;
    for (let k = q - 1; k > i && buf[k] === BACKSLASH; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** The offset just past the value starting at `i` (string, number, literal, object or array). */
function endOfValue(buf: Uint8Array, i: number): number {
  const first = buf[i];
  if (first === QUOTE) return endOfString(buf, i);
  if (first !== OPEN_BRACE && first !== OPEN_BRACKET) {
    let j = i;
    while (j < buf.length) {
      const c = buf[j]!;
      if (
        c === COMMA ||
        c === CLOSE_BRACE ||
        c === CLOSE_BRACKET ||
        c === 0x20 ||
        c === 0x0a ||
        c === 0x0d ||
        c === 0x09
      )
        break;
      j++;
    }
    return j;
  }
  let depth = 0;
  for (let j = i; j < buf.length; j++) {
    const c = buf[j];
    if (c === QUOTE) j = endOfString(buf, j) - 1;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if ((c === CLOSE_BRACE || c === CLOSE_BRACKET) && --depth === 0) return j + 1;
  }
  return buf.length;
}
