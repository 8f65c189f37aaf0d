import { EventEmitter } from 'node:events';
import { Agent, type Dispatcher, errors } from 'undici';
import { GatewayError } from '../errors.js';
import type { ClientGoneSignal } from '../http/client-gone.js';
import type { UpstreamTarget } from '../providers/types.js';

/** One keep-alive pool per upstream origin, shared by every request of the process. */
export function createUpstreamAgent(): Agent {
  return new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connect: { timeout: 10_000 },
    // No cap per origin: admission already bounds concurrency per deployment.
    connections: null,
  });
}

export interface UpstreamCall {
  readonly target: UpstreamTarget;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
  readonly signal: ClientGoneSignal;
  /** Idle time allowed before headers and between body chunks, ms (httpx's read timeout, as LiteLLM). */
  readonly timeoutMs: number;
}

/**
 * Sends one request upstream with undici's `request` (not `fetch`: a fraction of the CPU per call).
 * Network failures become GatewayErrors (502/504); any HTTP status comes back as a response.
 */
export async function callUpstream(
  dispatcher: Dispatcher,
  call: UpstreamCall,
): Promise<Dispatcher.ResponseData> {
  if (call.timeoutMs < PRECISE_BELOW_MS) return callWithDeadline(dispatcher, call);
  try {
    return await dispatcher.request(options(call, call.signal));
  } catch (error) {
    throw upstreamFailure(error, call.timeoutMs);
  }
}

/**
 * undici times headers and body chunks with timers that tick every ~0.5 s (cheap: no timer per
 * request), so a timeout fires up to a second late. That is noise for the usual minutes, not for a
 * client's `x-litellm-timeout: 0.2`: below this, the wait for the response headers gets a timer of its own.
 */
const PRECISE_BELOW_MS = 2_000;

function options(call: UpstreamCall, signal: Dispatcher.RequestOptions['signal']): Dispatcher.RequestOptions {
  return {
    origin: call.target.origin,
    path: call.target.path,
    method: 'POST',
    headers: call.headers,
    body: call.body,
    signal,
    headersTimeout: call.timeoutMs,
    bodyTimeout: call.timeoutMs,
  };
}

async function callWithDeadline(
  dispatcher: Dispatcher,
  call: UpstreamCall,
): Promise<Dispatcher.ResponseData> {
  // The request listens to this emitter: the client going away aborts it, and so does the deadline.
  const abort = new EventEmitter();
  const forward = () => abort.emit('abort');
  if (call.signal.aborted) forward();
  else if (call.signal instanceof EventEmitter) call.signal.once('abort', forward);
  else call.signal.addEventListener('abort', forward, { once: true });
  let late = false;
  const deadline = setTimeout(() => {
    late = true;
    forward();
  }, call.timeoutMs);
  try {
    return await dispatcher.request(options(call, abort));
  } catch (error) {
    if (late) {
      throw new GatewayError(
        504,
        'upstream_timeout',
        `upstream did not answer within ${call.timeoutMs / 1000} s`,
        {
          cause: error,
        },
      );
    }
    throw upstreamFailure(error, call.timeoutMs);
  } finally {
    clearTimeout(deadline);
  }
}

/** Maps an undici or socket error to the gateway's error family, without upstream details that may hold secrets. */
export function upstreamFailure(error: unknown, timeoutMs: number): GatewayError {
  if (error instanceof GatewayError) return error;
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return new GatewayError(504, 'upstream_timeout', `upstream did not answer within ${timeoutMs / 1000} s`, {
      cause: error,
    });
  }
  if (isAbort(error)) {
    return new GatewayError(499, 'client_closed', 'client closed the request', { cause: error });
  }
  const code = (error as { code?: string } | null)?.code;
  return new GatewayError(502, 'upstream_unreachable', `upstream is unreachable${code ? ` (${code})` : ''}`, {
    cause: error,
  });
}

export function isAbort(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | null;
  return (
    e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED' || error instanceof errors.RequestAbortedError
  );
}
