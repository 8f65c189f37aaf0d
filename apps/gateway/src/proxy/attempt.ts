import { type AttemptFailure, isRetryable } from '@fleetgate/routing';
import type { Deployment } from '../config/deployments.js';
import { GatewayError } from '../errors.js';
import type { ClientGoneSignal } from '../http/client-gone.js';
import type { Endpoint, Usage } from '../providers/types.js';
import { callUpstream, upstreamFailure } from '../upstream/client.js';
import { relaySse } from '../upstream/sse-relay.js';
import type { ProxyDeps } from './context.js';
import { failureReason } from './failure-reason.js';
import { parseRetryAfter } from './rate-headers.js';
import type { RequestRecord } from './request-record.js';
import { SseUsageTracker, usageFromJson } from './usage.js';

/** The request, as every attempt at it sends it (the request's own state, shared by its attempts). */
export interface AttemptInput {
  readonly endpoint: Endpoint;
  readonly body: Record<string, unknown>;
  /** The bytes the client sent, which `body` was parsed from. */
  readonly raw: Buffer;
  readonly stream: boolean;
  /** The client asked for the usage chunk itself (else it is dropped from the stream). */
  readonly clientWantsUsage: boolean;
  readonly signal: ClientGoneSignal;
  readonly record: RequestRecord;
  /** The request's own timeout (`x-litellm-timeout`, `timeout`, `stream_timeout`), in place of the deployment's. */
  readonly timeoutOverrideMs: number | undefined;
}

/** What the upstream answered, ready to send, before the gateway adds its headers. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer | ReadableStream<Uint8Array>;
}

export type AttemptResult =
  /** Send this: a success, or a failure another deployment would not fix. */
  | {
      readonly kind: 'answer';
      readonly answer: UpstreamAnswer;
      readonly failure?: AttemptFailure | undefined;
    }
  /** Worth another deployment; `answer` or `error` is what the client gets if none is left. */
  | {
      readonly kind: 'retryable';
      readonly failure: AttemptFailure;
      readonly answer?: UpstreamAnswer | undefined;
      readonly error?: GatewayError | undefined;
    };

/** How a call ended, for settlement: tokens really used, and the failure if it failed. */
export type AttemptEnd = (
  usage: Usage | undefined,
  failure: AttemptFailure | undefined,
  counted: boolean,
) => void;

/**
 * Sends the request to the admitted deployment and classifies the outcome. Non-stream bodies are
 * read whole (usage comes from them); a 200 stream is handed back as a relay that settles when it ends.
 * `end` is called exactly once per attempt, except for a relayed stream, which calls it when it ends.
 */
export async function attempt(
  deps: ProxyDeps,
  input: AttemptInput,
  deployment: Deployment,
  end: AttemptEnd,
  upstreamModel?: string,
): Promise<AttemptResult> {
  const { record } = input;
  const adapter = deployment.adapter;
  const timeoutMs = attemptTimeoutMs(input, deployment);
  const payload = adapter.encodeBody(input.endpoint, input.body, input.raw, upstreamModel);
  const started = performance.now();
  let response: Awaited<ReturnType<typeof callUpstream>>;
  try {
    response = await callUpstream(deps.upstream, {
      target: adapter.target(input.endpoint),
      headers: adapter.headers,
      body: payload,
      signal: input.signal,
      timeoutMs,
    });
  } catch (error) {
    record.upstreamMs += performance.now() - started;
    return networkFailure(error as GatewayError, end);
  }
  const status = response.statusCode;
  record.upstreamStatus = status;
  const contentType = headerValue(response.headers['content-type']) ?? 'application/json';
  if (input.stream && status === 200 && contentType.startsWith('text/event-stream')) {
    record.upstreamMs += performance.now() - started;
    const tracker = new SseUsageTracker(!input.clientWantsUsage);
    const streamStarted = performance.now();
    const relay = relaySse(
      response.body,
      {
        transform: (chunk) => {
          record.firstChunkMs ??= performance.now() - started;
          return tracker.process(chunk);
        },
        flush: () => tracker.flush(),
        onEnd: (how) => {
          record.upstreamMs += performance.now() - streamStarted;
          if (how.kind === 'error') end(tracker.usage, failureOf(how.error), true);
          else end(tracker.usage, undefined, how.kind === 'done');
        },
      },
      timeoutMs,
    );
    return { kind: 'answer', answer: { status, contentType, body: relay } };
  }
  let body: Buffer;
  try {
    body = Buffer.from(await response.body.arrayBuffer());
  } catch (error) {
    record.upstreamMs += performance.now() - started;
    return networkFailure(upstreamFailure(error, timeoutMs), end);
  }
  record.upstreamMs += performance.now() - started;
  if (status < 400) {
    end(usageFromJson(body), undefined, true);
    return { kind: 'answer', answer: { status, contentType, body } };
  }
  const failure: AttemptFailure = {
    kind: 'http',
    status,
    retryAfterMs: parseRetryAfter(response.headers['retry-after'], Date.now()),
    reason: failureReason(status, body),
  };
  end(undefined, failure, true);
  const answer = upstreamErrorAnswer(status, adapter.scrub(body), contentType);
  return isRetryable(failure) ? { kind: 'retryable', failure, answer } : { kind: 'answer', answer, failure };
}

/** The upstream call's timeout: the request's own, else the deployment's (its stream timeout for streams). */
export function attemptTimeoutMs(input: AttemptInput, deployment: Deployment): number {
  return input.timeoutOverrideMs ?? (input.stream ? deployment.streamTimeoutMs : deployment.timeoutMs);
}

function networkFailure(error: GatewayError, end: AttemptEnd): AttemptResult {
  if (error.code === 'client_closed') {
    end(undefined, undefined, false);
    throw error;
  }
  const failure = failureOf(error);
  end(undefined, failure, true);
  return { kind: 'retryable', failure, error };
}

function failureOf(error: GatewayError): AttemptFailure {
  return { kind: error.code === 'upstream_timeout' ? 'timeout' : 'connect', status: error.status };
}

/**
 * An upstream error goes back as it came when it is OpenAI-shaped JSON (an upstream 400 stays a 400
 * with the upstream's message); anything else (an HTML page from a proxy, plain text) is wrapped in
 * OpenAI's error shape with the same status.
 */
function upstreamErrorAnswer(status: number, body: Buffer, contentType: string): UpstreamAnswer {
  if (contentType.includes('json')) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { error?: unknown };
      if (parsed && typeof parsed === 'object' && parsed.error && typeof parsed.error === 'object') {
        return { status, contentType, body };
      }
    } catch {
      // Not JSON after all; wrapped below.
    }
  }
  const text = body.toString('utf8').slice(0, 500).trim();
  const error = new GatewayError(
    status,
    'upstream_error',
    `upstream answered ${status}${text ? `: ${text}` : ''}`,
  );
  return { status, contentType: 'application/json', body: Buffer.from(JSON.stringify(error.toJSON())) };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
