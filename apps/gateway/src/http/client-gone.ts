import { EventEmitter } from 'node:events';
import type { Context } from 'hono';
import type { GatewayEnv } from '../proxy/context.js';

/**
 * What the upstream call listens on to learn that the client went away: undici aborts a request
 * whose `signal` emits 'abort', and accepts an EventEmitter as well as an AbortSignal. On Node the
 * gateway uses a plain emitter fired by the response's 'close' before it finished — creating an
 * AbortController (an EventTarget) per request cost several microseconds for an event that almost
 * never happens. Elsewhere (in-process tests) the web Request's own signal serves.
 */
export type ClientGoneSignal = AbortSignal | ClientGone;

class ClientGone extends EventEmitter {
  aborted = false;
}

export function clientGoneSignal(c: Context<GatewayEnv>): ClientGoneSignal {
  const outgoing = c.env?.outgoing;
  if (!outgoing) return c.req.raw.signal;
  const signal = new ClientGone();
  outgoing.once('close', () => {
    if (outgoing.writableFinished) return;
    signal.aborted = true;
    signal.emit('abort');
  });
  return signal;
}

/**
 * Waits `ms` unless the client goes first: resolves true after the wait, false as soon as the client
 * is gone (the timer is cleared, so a waiting request that lost its client holds nothing).
 */
export function waitUnlessGone(ms: number, signal: ClientGoneSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      if (signal instanceof EventEmitter) signal.off('abort', onAbort);
      else signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    if (signal instanceof EventEmitter) signal.once('abort', onAbort);
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
