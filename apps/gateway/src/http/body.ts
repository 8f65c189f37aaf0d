import type { IncomingMessage } from 'node:http';
import { GatewayError } from '../errors.js';

const tooLarge = (limit: number) =>
  new GatewayError(413, 'request_too_large', `request body is larger than the limit of ${limit} bytes`);

/**
 * Reads the whole request body, refusing it with 413 as soon as it passes `limit` bytes (a declared
 * content-length over the limit is refused before reading). On Node the body is read straight from
 * the socket's message; elsewhere (in-process tests) from the web Request.
 */
export async function readBody(
  incoming: IncomingMessage | undefined,
  request: Request,
  declared: string | undefined,
  limit: number,
): Promise<Buffer> {
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  if (incoming) return readIncoming(incoming, limit);
  const buf = Buffer.from(await request.arrayBuffer());
  if (buf.length > limit) throw tooLarge(limit);
  return buf;
}

function readIncoming(incoming: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error?: unknown) => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
      if (error) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) done(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = (error: Error) =>
      done(new GatewayError(400, 'invalid_request', 'request body could not be read', { cause: error }));
    const onClose = () => {
      if (!incoming.readableEnded)
        done(new GatewayError(400, 'invalid_request', 'client closed the connection mid-body'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** Parses the body once; anything but a JSON object is a 400. */
export function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new GatewayError(400, 'invalid_json', 'request body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new GatewayError(400, 'invalid_json', 'request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}
