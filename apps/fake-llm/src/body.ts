import type { IncomingMessage } from 'node:http';
import { RECORDED_BODY_LIMIT } from './stats.js';

/** Marks a body that is not valid JSON. */
export const INVALID_JSON: unique symbol = Symbol('invalid JSON');

/** Collects the whole request body; `done` is not called if the client goes away mid-upload. */
export function readBody(req: IncomingMessage, done: (raw: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
  });
  req.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
  // A client that disconnects mid-upload is counted by the response's 'close' handler.
  req.on('error', () => {});
}

/** The parsed body: undefined when empty, INVALID_JSON when it does not parse. */
export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return INVALID_JSON;
  }
}

/** The body as kept in the stats' `last` list (see RecordedRequest.body). */
export function recordedBody(raw: Buffer, parsed: unknown): unknown {
  if (raw.length > RECORDED_BODY_LIMIT) return { truncated: true, bytes: raw.length };
  if (parsed === INVALID_JSON) return raw.toString('utf8');
  return parsed ?? null;
}

/** True for a JSON object (not an array or null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
