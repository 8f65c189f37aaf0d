import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { GatewayError } from '../errors.js';
import type { ClientGoneSignal } from '../http/client-gone.js';
import { upstreamFailure } from './client.js';

/**
 * How a relayed stream ended: fully, cut by an upstream error, or given up on the client's side
 * (cancelled by the client, the client gone, or nobody reading it for a whole timeout). `events` is
 * how many `data:` events were passed to the client: what was streamed, when the stream ends
 * before the upstream says what it used.
 */
export type StreamEnd =
  | { readonly kind: 'done'; readonly events: number }
  | { readonly kind: 'error'; readonly error: GatewayError; readonly events: number }
  | { readonly kind: 'cancelled'; readonly events: number };

export interface StreamObserver {
  /** Each upstream chunk; returns the bytes to pass on (usage scanning may drop an event). */
  transform?(chunk: Buffer): Buffer;
  /** Bytes the transform still holds when the upstream ends. */
  flush?(): Buffer | undefined;
  /** The event that ends a stream the upstream cut (after the status line was sent); OpenAI's when absent. */
  cutEvent?(error: GatewayError): Buffer;
  /** Something was passed on: the request is alive (its in-flight lease is kept). */
  progress?(): void;
  /** Called exactly once. */
  onEnd(end: StreamEnd): void;
}

const encoder = new TextEncoder();
const DATA = Buffer.from('data:');

/**
 * Relays an upstream SSE body to the client chunk by chunk, as it arrives. A pull-based web stream
 * (never `Readable.toWeb`, whose push side enqueues into a controller the client already closed and
 * crashes Node 20, honojs/node-server#239): each client read pulls one upstream chunk, a client
 * that goes away cancels the stream, which destroys the upstream body and so aborts the upstream
 * request. An upstream failure after the first byte ends the stream with one
 * `data: {"error": …}` event, since the status line has already been sent.
 *
 * The stream ends — and `onEnd` settles its request — on every way out: read to the end, cut by the
 * upstream, cancelled by its reader, its client gone (`signal`, even before anything read it), or
 * never read again for `timeoutMs` (a response that was built but never sent). A client going away
 * is never the upstream's failure.
 */
export function relaySse(
  body: Readable,
  observer: StreamObserver,
  timeoutMs: number,
  signal?: ClientGoneSignal,
): ReadableStream<Uint8Array> {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let finished = false;
  let events = 0;
  let pulling = false;
  let control: ReadableStreamDefaultController<Uint8Array> | undefined;
  const finish = (end: StreamEnd) => {
    if (finished) return;
    finished = true;
    clearTimeout(idle);
    if (signal instanceof EventEmitter) signal.off('abort', abandon);
    else signal?.removeEventListener('abort', abandon);
    observer.onEnd(end);
  };
  /** Nobody will read on: settle, stop the upstream, end the stream for anyone still holding it. */
  function abandon() {
    if (finished) return;
    finish({ kind: 'cancelled', events });
    body.destroy();
    try {
      control?.close();
    } catch {
      // Already closed or errored.
    }
  }
  // Not read for a whole timeout while no read is waiting on the upstream (which undici times).
  const idle = setTimeout(function watch() {
    if (pulling) idle.refresh();
    else abandon();
  }, timeoutMs);
  idle.unref();
  if (signal?.aborted) queueMicrotask(abandon);
  else if (signal instanceof EventEmitter) signal.once('abort', abandon);
  else signal?.addEventListener('abort', abandon, { once: true });
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        control = controller;
      },
      async pull(controller) {
        pulling = true;
        try {
          // Loops until it has passed something on: a pull that enqueues nothing is never called again.
          for (;;) {
            let next: IteratorResult<Buffer>;
            try {
              next = await chunks.next();
            } catch (error) {
              if (finished) return;
              const failure = upstreamFailure(error, timeoutMs);
              if (failure.code === 'client_closed') return abandon();
              finish({ kind: 'error', error: failure, events });
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
              finish({ kind: 'done', events });
              controller.close();
              return;
            }
            const out = observer.transform ? observer.transform(next.value) : next.value;
            if (out.length > 0) {
              events += countEvents(out);
              observer.progress?.();
              controller.enqueue(out);
              return;
            }
          }
        } finally {
          pulling = false;
          if (!finished) idle.refresh();
        }
      },
      cancel() {
        abandon();
      },
    },
    { highWaterMark: 0 },
  );
}

/** `data:` events in a chunk, `[DONE]` aside. */
function countEvents(chunk: Buffer): number {
  let n = 0;
  for (let at = chunk.indexOf(DATA); at >= 0; at = chunk.indexOf(DATA, at + DATA.length)) {
    if (chunk[at + 5] === 0x20 ? chunk[at + 6] !== 0x5b : chunk[at + 5] !== 0x5b) n++;
  }
  return n;
}
