import { RequestError } from './errors.js';
import { modelOf, type Reply, type ReplyContext } from './reply.js';
import { estimateTokens } from './tokens.js';

/** One embedding input: text, or a list of token ids. */
type Input = string | number[];

const isTokens = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v));

/**
 * OpenAI's `input` forms: a string, a list of strings, a list of token ids (one input), or a list
 * of token-id lists.
 */
function inputsOf(input: unknown): Input[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.length > 0) {
    if (isTokens(input)) return [input];
    if (input.every((item) => typeof item === 'string' || isTokens(item))) return input as Input[];
  }
  throw new RequestError(
    400,
    "'input' must be a string, an array of strings, an array of token ids or an array of token-id arrays",
    'invalid_type',
    'input',
  );
}

/** FNV-1a over the input, so equal inputs get equal vectors. */
function seedOf(input: Input): number {
  let hash = 0x811c9dc5;
  const text = typeof input === 'string' ? input : input.join(',');
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A deterministic unit-length vector for `input` (mulberry32 stream seeded by its hash). */
export function embeddingOf(input: Input, dimensions: number): Float32Array {
  const vector = new Float32Array(dimensions);
  let state = seedOf(input);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const value = ((t ^ (t >>> 14)) >>> 0) / 2 ** 31 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 1;
  for (let i = 0; i < dimensions; i++) vector[i] = vector[i]! * scale;
  return vector;
}

const charsOf = (input: Input) => (typeof input === 'string' ? input.length : input.length * 4);

/**
 * `POST …/embeddings`: one vector per input, `dimensions` long when the request asks (as
 * text-embedding-3 allows), else `embeddingDimensions`. `encoding_format: "base64"` (what the
 * official SDKs send by default) returns little-endian float32 bytes in base64.
 */
export function embeddingsReply(body: Record<string, unknown>, ctx: ReplyContext): Reply {
  const inputs = inputsOf(body['input']);
  const requested = body['dimensions'];
  const dimensions =
    typeof requested === 'number' && Number.isInteger(requested) && requested > 0 && requested <= 65_536
      ? requested
      : ctx.behaviour.embeddingDimensions;
  const base64 = body['encoding_format'] === 'base64';
  let chars = 0;
  const data = inputs.map((input, index) => {
    chars += charsOf(input);
    const vector = embeddingOf(input, dimensions);
    const embedding = base64
      ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64')
      : Array.from(vector);
    return { object: 'embedding', index, embedding };
  });
  const promptTokens = estimateTokens(chars);
  const json = JSON.stringify({
    object: 'list',
    data,
    model: modelOf(body),
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
  return { kind: 'json', json };
}
