import type { Readable } from 'node:stream';
import type { GatewayError } from '../errors.js';
import { upstreamFailure } from './client.js';

/** How a relayed stream ended: fully, cut by an upstream error, or cancelled by the client. */
export type StreamEnd =
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly error: GatewayError }
  | { readonly kind: 'cancelled' };

export interface StreamObserver {
  /** Each upstream chunk; returns the bytes to pass on (usage scanning may drop an event). */
  transform?(chunk: Buffer): Buffer;
  /** Bytes the transform still holds when the upstream ends. */
  flush?(): Buffer | undefined;
  /** The event that ends a stream the upstream cut (after the status line was sent); OpenAI's when absent. */
  cutEvent?(error: GatewayError): Buffer;
  /** Called exactly once. */
  onEnd(end: StreamEnd): void;
}

const encoder = new TextEncoder();

/**
 * Relays an upstream SSE body to the client chunk by chunk, as it arrives. A pull-based web stream
 * (never `Readable.toWeb`, whose push side enqueues into a controller the client already closed and
 * crashes Node 20, honojs/node-server#239): each client read pulls one upstream chunk, a client
 * that goes away cancels the stream, which destroys the upstream body and so aborts the upstream
 * request. An upstream failure after the first byte ends the stream with one
 * `data: {"error": …}` event, since the status line has already been sent.
 */
export function relaySse(
  body: Readable,
  observer: StreamObserver,
  timeoutMs: number,
): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let finished = false;
  const finish = (end: StreamEnd) => {
    if (finished) return;
    finished = true;
    observer.onEnd(end);
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        // Loops until it has passed something on: a pull that enqueues nothing is never called again.
        for (;;) {
          let next: IteratorResult<Buffer>;
          try {
            next = await chunks.next();
          } catch (error) {
            if (finished) return;
            const failure = upstreamFailure(error, timeoutMs);
            finish({ kind: 'error', error: failure });
            controller.enqueue(
              observer.cutEvent
                ? observer.cutEvent(failure)
                : encoder.encode(`data: ${JSON.stringify(failure.toJSON())}\n\n`),
            );
            controller.close();
            return;
          }
          if (finished) return;
          if (next.done) {
            const rest = observer.flush?.();
            if (rest && rest.length > 0) controller.enqueue(rest);
            finish({ kind: 'done' });
            controller.close();
            return;
          }
          const out = observer.transform ? observer.transform(next.value) : next.value;
          if (out.length > 0) {
            controller.enqueue(out);
            return;
          }
        }
      },
      cancel() {
        finish({ kind: 'cancelled' });
        body.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
