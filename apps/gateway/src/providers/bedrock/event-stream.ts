import { crc32 } from 'node:zlib';

/** One message of AWS's binary event stream (`application/vnd.amazon.eventstream`). */
export interface EventMessage {
  /** String-valued headers (`:event-type`, `:message-type`, `:exception-type`, …); others are skipped. */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Buffer;
}

/** The stream's framing is broken: a bad length or checksum. */
export class EventStreamError extends Error {
  override name = 'EventStreamError';
}

const PRELUDE = 12;
const MAX_MESSAGE = 16 * 1024 * 1024;
/** Bytes of the value of each header type after the type byte (-1: a 2-byte length follows). */
const VALUE_SIZE = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];

/**
 * Decodes AWS's event stream as chunks arrive: each message is a 4-byte total length, a 4-byte
 * headers length, a CRC32 of those 8 bytes, the headers, the payload and a CRC32 of everything
 * before it (all big-endian). A message may span chunks; a chunk may hold several.
 */
export class EventStreamDecoder {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): EventMessage[] {
    let buf = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: EventMessage[] = [];
    while (buf.length >= PRELUDE) {
      const total = buf.readUInt32BE(0);
      const headersLength = buf.readUInt32BE(4);
      if (total < PRELUDE + 4 + headersLength || total > MAX_MESSAGE) {
        throw new EventStreamError(`bad message length ${total}`);
      }
      if (crc32(buf.subarray(0, 8)) !== buf.readUInt32BE(8))
        throw new EventStreamError('bad prelude checksum');
      if (buf.length < total) break;
      if (crc32(buf.subarray(0, total - 4)) !== buf.readUInt32BE(total - 4)) {
        throw new EventStreamError('bad message checksum');
      }
      out.push({
        headers: readHeaders(buf.subarray(PRELUDE, PRELUDE + headersLength)),
        payload: buf.subarray(PRELUDE + headersLength, total - 4),
      });
      buf = buf.subarray(total);
    }
    this.buffered = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }

  /** Bytes of an unfinished message when the stream ended. */
  get leftover(): number {
    return this.buffered.length;
  }
}

function readHeaders(buf: Buffer): Record<string, string> {
  const headers: Record<string, string> = {};
  let i = 0;
  while (i < buf.length) {
    const nameLength = buf.readUInt8(i);
    const name = buf.toString('utf8', i + 1, i + 1 + nameLength);
    i += 1 + nameLength;
    const type = buf.readUInt8(i);
    i += 1;
    const size = VALUE_SIZE[type];
    if (size === undefined) throw new EventStreamError(`unknown header type ${type}`);
    if (size >= 0) {
      i += size;
      continue;
    }
    const length = buf.readUInt16BE(i);
    if (type === 7) headers[name] = buf.toString('utf8', i + 2, i + 2 + length);
    i += 2 + length;
  }
  return headers;
}
