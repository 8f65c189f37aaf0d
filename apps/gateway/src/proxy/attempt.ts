import { type AttemptFailure, isRetryable } from '@fleetgate/routing';
import type { Deployment } from '../config/deployments.js';
import { type ErrorCode, GatewayError } from '../errors.js';
import type { ClientGoneSignal } from '../http/client-gone.js';
import type {
  ProviderAdapter,
  TranslateInput,
  Translator,
  UpstreamIo,
  UpstreamRequest,
  Usage,
} from '../providers/types.js';
import { callUpstream, upstreamFailure } from '../upstream/client.js';
import { relaySse } from '../upstream/sse-relay.js';
import type { ProxyDeps } from './context.js';
import { failureReason } from './failure-reason.js';
import { parseRetryAfter } from './rate-headers.js';
import type { RequestRecord } from './request-record.js';

/** The request, as every attempt at it sends it (the request's own state, shared by its attempts). */
export interface AttemptInput extends TranslateInput {
  /** The client asked for the usage chunk itself (else it is dropped from the stream). */
  readonly clientWantsUsage: boolean;
  readonly signal: ClientGoneSignal;
  readonly record: RequestRecord;
  /** The translator for the client's API; @default the deployment's OpenAI one */
  readonly translatorOf?: ((adapter: ProviderAdapter) => Translator) | undefined;
  /** The request's own timeout (`x-litellm-timeout`, `timeout`, `stream_timeout`), in place of the deployment's. */
  readonly timeoutOverrideMs: number | undefined;
}

/** What the upstream answered, ready to send, before the gateway adds its headers. */
export interface UpstreamAnswer {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer | string | ReadableStream<Uint8Array>;
  /** For an error answer: the gateway's name for it, for logs and metrics. */
  readonly code?: ErrorCode | undefined;
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

/**
 * How a call ended, for settlement: tokens really used, the failure if it failed, and for a stream
 * that ended without reporting its usage, how many events it streamed. `progress` (when set) is
 * told of every streamed chunk, so the in-flight lease lives as long as the stream does.
 */
export interface AttemptEnd {
  (usage: Usage | undefined, failure: AttemptFailure | undefined, counted: boolean, streamed?: number): void;
  progress?: (() => void) | undefined;
}

type Response = Awaited<ReturnType<typeof callUpstream>>;

const NOTHING_USED: Usage = { promptTokens: 0, completionTokens: 0 };
const ios = new WeakMap<ProxyDeps, UpstreamIo>();

/** The HTTP client and clock translators may use, one object per process. */
function ioOf(deps: ProxyDeps): UpstreamIo {
  let io = ios.get(deps);
  if (!io) {
    io = { dispatcher: deps.upstream, now: Date.now };
    ios.set(deps, io);
  }
  return io;
}

/**
 * Sends the request to the admitted deployment through the translator for the client's API and
 * classifies the outcome. Non-stream bodies are read whole (usage comes from them); a 2xx stream is
 * handed back as a relay that settles when it ends. A 401 on credentials that can be renewed (an
 * OAuth token) renews them and sends once more. `end` is called exactly once per attempt, except
 * for a relayed stream, which calls it when it ends.
 */
export async function attempt(
  deps: ProxyDeps,
  flight: AttemptInput,
  deployment: Deployment,
  end: AttemptEnd,
  upstreamModel?: string,
): Promise<AttemptResult> {
  // A wildcard deployment asks upstream for the model the client named.
  const input = upstreamModel === undefined ? flight : { ...flight, upstreamModel };
  const { record } = input;
  const adapter = deployment.adapter;
  const translator = input.translatorOf ? input.translatorOf(adapter) : adapter.openai;
  const timeoutMs = attemptTimeoutMs(input, deployment);
  const started = performance.now();
  if (!adapter.endpoints.has(input.endpoint)) return refuse(unservedEndpoint(deployment), end);
  let response: Response;
  let call: UpstreamRequest;
  try {
    const prepared = translator.request(input, ioOf(deps));
    // Awaited only while credentials are fetched: the usual call is built synchronously.
    call = prepared instanceof Promise ? await prepared : prepared;
    response = await send(deps, call, input, timeoutMs);
    if (response.statusCode === 401 && call.renewCredentials) {
      // The token may have been revoked before its expiry: one more try with a fresh one.
      await response.body.dump();
      call.renewCredentials();
      call = await translator.request(input, ioOf(deps));
      response = await send(deps, call, input, timeoutMs);
    }
  } catch (error) {
    record.upstreamMs += performance.now() - started;
    if (error instanceof GatewayError && error.status === 400) return refuse(error, end);
    return networkFailure(upstreamFailure(error, timeoutMs), end, deps, deployment);
  }
  const status = response.statusCode;
  record.upstreamStatus = status;
  const contentType = headerValue(response.headers['content-type']) ?? 'application/json';
  if (input.stream && status < 300 && translator.isStream(contentType)) {
    record.upstreamMs += performance.now() - started;
    return relay(response, translator, input, timeoutMs, end, started);
  }
  let body: Buffer;
  try {
    body = Buffer.from(await response.body.arrayBuffer());
  } catch (error) {
    record.upstreamMs += performance.now() - started;
    return networkFailure(upstreamFailure(error, timeoutMs), end, deps, deployment);
  }
  record.upstreamMs += performance.now() - started;
  if (status < 400) return decodeSuccess(translator, input, status, body, end);
  const decoded = translator.decodeError(status, body, response.headers);
  const failure: AttemptFailure = {
    kind: 'http',
    status: decoded.status,
    retryAfterMs: decoded.retryAfterMs ?? parseRetryAfter(response.headers['retry-after'], Date.now()),
    // The translators name a context-window refusal themselves; an OpenAI-compatible body is read.
    reason:
      decoded.code === 'context_length_exceeded'
        ? 'context_window'
        : failureReason(decoded.status, toBuffer(decoded.body)),
  };
  end(undefined, failure, true);
  const answer: UpstreamAnswer = {
    status: decoded.status,
    contentType: decoded.contentType,
    body: decoded.body,
    code: decoded.code,
  };
  return worthAnother(deps, deployment, failure)
    ? { kind: 'retryable', failure, answer }
    : { kind: 'answer', answer, failure };
}

/**
 * Whether another deployment may do better: routing's rule, and also refused credentials when the
 * group has another deployment — each has its own, and LiteLLM's router retries an
 * AuthenticationError while the group has healthy deployments (the refused one is cooled down at
 * once, so a group of one answers the 401 without a pointless retry).
 */
function worthAnother(deps: ProxyDeps, deployment: Deployment, failure: AttemptFailure): boolean {
  if (isRetryable(failure)) return true;
  return failure.status === 401 && (deps.router.group(deployment.modelGroup)?.deployments.length ?? 1) > 1;
}

/** The upstream call's timeout: the request's own, else the deployment's (its stream timeout for streams). */
export function attemptTimeoutMs(input: AttemptInput, deployment: Deployment): number {
  return input.timeoutOverrideMs ?? (input.stream ? deployment.streamTimeoutMs : deployment.timeoutMs);
}

function send(
  deps: ProxyDeps,
  call: UpstreamRequest,
  input: AttemptInput,
  timeoutMs: number,
): Promise<Response> {
  return callUpstream(deps.upstream, {
    target: call.target,
    headers: call.headers,
    body: call.body,
    signal: input.signal,
    timeoutMs,
  });
}

function relay(
  response: Response,
  translator: Translator,
  input: AttemptInput,
  timeoutMs: number,
  end: AttemptEnd,
  started: number,
): AttemptResult {
  const { record } = input;
  const tracker = translator.createStream(input, input.clientWantsUsage);
  const streamStarted = performance.now();
  const stream = relaySse(
    response.body,
    {
      transform: (chunk) => {
        record.firstChunkMs ??= performance.now() - started;
        return tracker.process(chunk);
      },
      flush: () => tracker.flush(),
      cutEvent: tracker.cutEvent ? (error) => tracker.cutEvent!(error) : undefined,
      progress: end.progress,
      onEnd: (how) => {
        record.upstreamMs += performance.now() - streamStarted;
        if (how.kind === 'error') end(tracker.usage, failureOf(how.error), true, how.events);
        else if (tracker.failedStatus !== undefined)
          end(tracker.usage, { kind: 'http', status: tracker.failedStatus }, true, how.events);
        else end(tracker.usage, undefined, how.kind === 'done', how.events);
      },
    },
    timeoutMs,
    input.signal,
  );
  return {
    kind: 'answer',
    answer: { status: response.statusCode, contentType: 'text/event-stream', body: stream },
  };
}

function decodeSuccess(
  translator: Translator,
  input: AttemptInput,
  status: number,
  body: Buffer,
  end: AttemptEnd,
): AttemptResult {
  let decoded: ReturnType<Translator['decodeJson']>;
  try {
    decoded = translator.decodeJson(body, input);
  } catch (error) {
    // A 2xx the translator cannot read is the upstream's fault, as a 502 would be.
    const failure: AttemptFailure = { kind: 'http', status: 502 };
    end(undefined, failure, true);
    const message = `upstream answered ${status} with a body that is not a valid answer`;
    return {
      kind: 'retryable',
      failure,
      error: new GatewayError(502, 'upstream_error', message, { cause: error }),
    };
  }
  end(decoded.usage, undefined, true);
  return { kind: 'answer', answer: { status, contentType: decoded.contentType, body: decoded.body } };
}

/** Nothing was sent (the request is one this deployment cannot take): settle as unused, answer the 400. */
function refuse(error: GatewayError, end: AttemptEnd): never {
  end(NOTHING_USED, undefined, false);
  throw error;
}

function unservedEndpoint(deployment: Deployment): GatewayError {
  const served = [...deployment.adapter.endpoints]
    .map((e) => `/${e === 'chat' ? 'chat/completions' : e}`)
    .join(', ');
  return new GatewayError(
    400,
    'invalid_request',
    `model group ${deployment.modelGroup} is served by ${deployment.provider}, which does not serve this endpoint (it serves ${served})`,
  );
}

function networkFailure(
  error: GatewayError,
  end: AttemptEnd,
  deps: ProxyDeps,
  deployment: Deployment,
): AttemptResult {
  if (error.code === 'client_closed') {
    // The client left before the answer began: nothing was streamed (the prompt was sent).
    end(undefined, undefined, false, 0);
    throw error;
  }
  const failure = failureOf(error);
  end(undefined, failure, true);
  return worthAnother(deps, deployment, failure)
    ? { kind: 'retryable', failure, error }
    : { kind: 'answer', failure, answer: errorAnswer(error) };
}

function failureOf(error: GatewayError): AttemptFailure {
  if (error.code === 'upstream_timeout') return { kind: 'timeout', status: error.status };
  // Credentials refused at the token endpoint count like an upstream 401: cooled down at once.
  if (error.code === 'upstream_auth_error') return { kind: 'http', status: error.status };
  return { kind: 'connect', status: error.status };
}

function errorAnswer(error: GatewayError): UpstreamAnswer {
  return {
    status: error.status,
    contentType: 'application/json',
    body: JSON.stringify(error.toJSON()),
    code: error.code,
  };
}

function toBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body) : body;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
