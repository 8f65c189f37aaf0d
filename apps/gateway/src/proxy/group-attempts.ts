import type { Admission, LatencySample, SubjectState } from '@fleetgate/ratelimit';
import {
  type AttemptFailure,
  errorClass,
  fillPattern,
  policyCount,
  retryDelayMs,
  routeOrder,
  samplesLatency,
} from '@fleetgate/routing';
import type { Deployment } from '../config/deployments.js';
import { ERROR_CODE_HEADER, GatewayError } from '../errors.js';
import type { Principal } from '../http/authenticate.js';
import { waitUnlessGone } from '../http/client-gone.js';
import type { RequestControls } from '../http/request-controls.js';
import type { Usage } from '../providers/types.js';
import { noDeployment, unknownAdmission } from './admission-errors.js';
import type { Waiter } from './admission-queue.js';
import {
  type AttemptEnd,
  type AttemptInput,
  type AttemptResult,
  attempt,
  attemptTimeoutMs,
  type UpstreamAnswer,
} from './attempt.js';
import type { ProxyDeps } from './context.js';
import type { TokenEstimate } from './estimate.js';
import { finishRequest } from './finish.js';
import {
  actualCost,
  addKeyHeaders,
  charges,
  estimatedCost,
  isMemberBudget,
  type KeyUse,
  tightest,
  withoutMemberBudget,
} from './key-policy.js';
import { keyRefusal } from './key-refusal.js';
import { mockAttempt } from './mock-attempt.js';
import type { Route } from './model-router.js';
import { addRateLimitHeaders } from './rate-headers.js';
import type { RequestRecord } from './request-record.js';
import { settleAttempt } from './settle.js';

/** The per-request state the attempts of every group share. */
export interface Flight extends AttemptInput {
  readonly deps: ProxyDeps;
  readonly tokens: TokenEstimate;
  readonly leaseId: string;
  readonly principal: Principal;
  readonly controls: RequestControls;
  /** The model the client asked for (a mocked answer names it). */
  readonly model: string;
  /** Until when (performance.now()) the request may wait in line for room; undefined: it may not. */
  readonly queueUntil: number | undefined;
  /** Its place in line: LiteLLM's `priority`, lower first. */
  readonly priority: number;
}

/** The error to send if no fallback helps: an upstream's answer, or the gateway's own error. */
export interface GroupFailure {
  readonly kind: 'failed';
  readonly error: GatewayError | undefined;
  readonly answer: Response | undefined;
  /** The last attempt's failure: its kind decides which fallbacks are tried. */
  readonly failure: AttemptFailure | undefined;
}

export type GroupResult = { readonly kind: 'response'; readonly response: Response } | GroupFailure;

const MOCK_RATE_LIMIT: AttemptFailure = { kind: 'http', status: 429 };

/** What the group's attempts have come to so far, for the client if nothing better comes. */
interface Outcome {
  error: GatewayError | undefined;
  answer: Response | undefined;
  failure: AttemptFailure | undefined;
}

/**
 * One model group's attempts: admit → forward → settle, then on a retryable failure again, up to
 * `num_retries` retries (or `retry_policy`'s count for the failure's class, which can also retry a
 * failure that is not retryable by default). A retry goes to a deployment that has not failed this
 * request yet; when every one has (a group of one, say), they are all tried again — LiteLLM retries
 * the same deployment — after a backoff when the group has no other deployment to turn to.
 * Deployments whose `model_info.max_input_tokens` the prompt exceeds are skipped when `contextNext`
 * (a fallback can take it instead); when none fits, the group fails as a context window error.
 */
export async function tryGroup(
  flight: Flight,
  route: Route,
  fallbackDepth: number,
  keyUse: KeyUse | undefined,
  contextNext: boolean,
): Promise<GroupResult> {
  const { deps, record, controls } = flight;
  let use = keyUse;
  const group = route.group;
  record.modelGroup = group.name;
  const numRetries = controls.numRetries ?? group.numRetries;
  const retryPolicy = controls.numRetries === undefined ? deps.config.routing.retryPolicy : undefined;
  const deployments = contextNext ? fitting(group.deployments, flight.tokens.prompt) : group.deployments;
  if (deployments.length === 0) return contextWindowFailure(group.name, flight.tokens.prompt);
  const excluded = new Set<string>();
  const last: Outcome = { error: undefined, answer: undefined, failure: undefined };
  let waiter: Waiter | undefined;
  try {
    for (let n = 0; ; n++) {
      if (n > 0 && excluded.size === deployments.length) {
        // Every deployment failed this request once: try them again, after a backoff if there is only one.
        excluded.clear();
        if (deployments.length === 1) await backoff(flight, n, last.failure);
      }
      if (n === 0 && fallbackDepth === 0 && controls.mockFailFirst) {
        // mock_testing_rate_limit_error: the first attempt "fails" with a 429 before anything is admitted.
        last.failure = MOCK_RATE_LIMIT;
        last.error = new GatewayError(
          429,
          'upstream_error',
          'litellm.RateLimitError: this is a mock rate limit error',
        );
        continue;
      }
      const pool = excluded.size > 0 ? deployments.filter((d) => !excluded.has(d.id)) : deployments;
      // The strategy's order; a stateful strategy's ranking is done by the store in the admission itself.
      const { ordered, pick } = routeOrder(deps.config.routing.strategy, pool, deps.random, flight.stream);
      const admission = await deps.store.admit({
        candidates: ordered.map((d) => deps.router.subject(d)),
        gates: use?.gates,
        tokens: flight.tokens.total,
        // One lease per admission: a retry's must not be released by its predecessor's settlement.
        leaseId: `${flight.leaseId}:${fallbackDepth}.${n}`,
        holdMs: holdMs(flight, ordered),
        // The key, its team and its user: checked and charged in this same call.
        accounts: use ? charges(use, estimatedCost(group, flight.tokens)) : undefined,
        pick,
      });
      if (!admission.admitted && admission.reason === 'unknown') {
        // Redis did not answer in time: not sent, and not worth a fallback (it asks the same Redis).
        deps.metrics.admission(group.name, 'fleet_state_unknown');
        throw unknownAdmission(group);
      }
      if (!admission.admitted) {
        // A key that may not spend is refused outright; a key out of its windows, like a group out of
        // room, is a 429 fallbacks may still avoid.
        // The key's member budget was removed and this replica's copy has not heard yet: none is what
        // the fleet says, so the same admission is asked again without it.
        if (use && admission.reason === 'account_missing' && isMemberBudget(use, admission.accountIndex)) {
          use = withoutMemberBudget(use);
          n--;
          continue;
        }
        if (use && admission.reason.startsWith('account_')) throw keyRefusal(admission, use);
        deps.metrics.admission(
          group.name,
          admission.reason === 'cooldown' ? 'no_deployment_available' : 'rate_limited',
        );
        // After a failed attempt, the client learns what the upstream said rather than "no room".
        if (last.answer || last.error) break;
        // With waiting on, a request that found no room waits its turn for it, up to its deadline.
        if (flight.queueUntil !== undefined && deps.queue) {
          waiter ??= deps.queue.join(group.name, flight.priority, flight.queueUntil, flight.signal);
          const turn = waiter ? await waiter.turn(admission.retryAfterMs) : 'timeout';
          if (turn === 'gone') throw new GatewayError(499, 'client_closed', 'client closed the request');
          if (turn === 'retry') {
            n--;
            continue;
          }
        }
        const error =
          use && admission.reason.startsWith('gate_')
            ? keyRefusal(admission, use)
            : noDeployment(group, admission);
        return { kind: 'failed', error, answer: undefined, failure: undefined };
      }
      deps.metrics.admission(group.name, 'admitted');
      if (n > 0) record.retries = n;
      const deployment = ordered[admission.index]!;
      const answered = await attemptOn(flight, route, deployment, admission, fallbackDepth, use, numRetries);
      const { result, response } = answered;
      const failure = result.failure;
      const policyRetries = failure ? policyCount(retryPolicy, errorClass(failure)) : undefined;
      const retry = result.kind === 'retryable' || (policyRetries !== undefined && policyRetries > 0);
      if (!retry && response) {
        // A stream's request ends with the relay; any other ends now.
        if (!(result.answer?.body instanceof ReadableStream)) finishRequest(deps, record);
        return { kind: 'response', response };
      }
      excluded.add(deployment.id);
      last.failure = failure;
      last.error =
        result.kind === 'retryable' && result.error
          ? withTimeoutHeader(result.error, flight, deployment)
          : undefined;
      last.answer = response;
      if (n >= (policyRetries ?? numRetries)) break;
    }
  } finally {
    waiter?.leave();
  }
  return { kind: 'failed', ...last };
}

/**
 * One attempt on an admitted deployment, settled; `response` is what the client would get from it
 * (undefined when the attempt failed without an upstream answer). A relayed stream finishes its
 * request when the relay ends.
 */
async function attemptOn(
  flight: Flight,
  route: Route,
  deployment: Deployment,
  admission: Extract<Admission, { admitted: true }>,
  fallbackDepth: number,
  use: KeyUse | undefined,
  numRetries: number,
): Promise<{ result: AttemptResult; response: Response | undefined }> {
  const { deps, record } = flight;
  record.deployment = deployment;
  const state = admission.states[0];
  deps.metrics.remaining(deployment, state?.requests?.remaining, state?.tokens?.remaining);
  const ticket = admission.ticket;
  let pending: Promise<void> = Promise.resolve();
  let relayed = false;
  const sentAt = samplesLatency(deps.config.routing.strategy) ? performance.now() : undefined;
  const end: AttemptEnd = (usage, failure, counted, streamed) => {
    // A stream that ended without its usage (the client left, the upstream cut it) is charged for
    // what it streamed: the prompt as estimated, a token per event.
    const used =
      usage ??
      (streamed === undefined
        ? undefined
        : { promptTokens: flight.tokens.prompt, completionTokens: streamed });
    const sample =
      sentAt === undefined ? undefined : latencySample(deps, record, sentAt, used, failure, counted);
    pending = settleAttempt(deps, record, deployment, ticket, used, failure, counted, sample);
    if (!relayed) return;
    // A relayed stream ends after its response was returned: the request ends with it.
    if (failure) record.errorCode = failure.kind === 'timeout' ? 'upstream_timeout' : 'upstream_unreachable';
    else if (!counted) record.errorCode = 'client_closed';
    finishRequest(deps, record);
  };
  // A streamed chunk keeps the lease alive (it is renewed only while the request shows progress).
  end.progress = () => deps.store.touch(ticket);
  if (flight.signal.aborted) {
    // The client left while the request waited for admission: nothing was sent, nothing is charged.
    end({ promptTokens: 0, completionTokens: 0 }, undefined, false);
    throw new GatewayError(499, 'client_closed', 'client closed the request');
  }
  const result = await forward(flight, route, deployment, end);
  // A failure is settled (and its cooldown decided) before anyone acts on it.
  if (result.failure) await pending;
  const answer = result.answer;
  if (!answer) return { result, response: undefined };
  let response: Response;
  try {
    response = respond(flight, deployment, admission, answer, fallbackDepth, use, numRetries);
  } catch (error) {
    // A stream nobody will read is ended here, so that it settles.
    if (answer.body instanceof ReadableStream) void answer.body.cancel().catch(() => {});
    throw error;
  }
  if (answer.body instanceof ReadableStream) relayed = true;
  return { result, response };
}

/**
 * latency-based-routing's sample of one attempt, as LiteLLM measures it: the attempt's latency per
 * output token (the whole latency when it produced none), and for a stream its time to first token.
 * A timeout counts as its whole wait, so a deployment that stops answering falls behind; other
 * failures and requests the client left are not samples.
 */
function latencySample(
  deps: ProxyDeps,
  record: RequestRecord,
  sentAt: number,
  usage: Usage | undefined,
  failure: AttemptFailure | undefined,
  counted: boolean,
): LatencySample | undefined {
  if (!counted || (failure && failure.kind !== 'timeout')) return undefined;
  const ms = performance.now() - sentAt;
  const tokens = usage?.completionTokens ?? 0;
  return {
    msPerToken: tokens > 0 ? ms / tokens : ms,
    ttftMs: record.stream ? (record.firstChunkMs ?? (failure ? ms : undefined)) : undefined,
    alpha: deps.config.routing.strategy.latencyAlpha,
  };
}

/**
 * How long an admitted request's lease is kept alive without progress: its own timeout (the longest
 * of the candidates', which one is chosen is not known yet). A stream renews it with every chunk.
 */
function holdMs(flight: Flight, candidates: readonly Deployment[]): number {
  let ms = 0;
  for (const d of candidates) ms = Math.max(ms, attemptTimeoutMs(flight, d));
  return ms;
}

/** The wait before retrying a group's only deployment (LiteLLM's backoff); a client that leaves ends it. */
async function backoff(flight: Flight, retry: number, failure: AttemptFailure | undefined): Promise<void> {
  const { deps } = flight;
  const ms = retryDelayMs({
    retry,
    retryAfterMs: failure?.retryAfterMs,
    minMs: deps.config.retryAfterMs,
    random: deps.random,
  });
  if (!(await waitUnlessGone(ms, flight.signal)))
    throw new GatewayError(499, 'client_closed', 'client closed the request');
}

/** The deployments whose `model_info.max_input_tokens` (when set) the prompt's estimate fits. */
function fitting(deployments: readonly Deployment[], promptTokens: number): readonly Deployment[] {
  if (deployments.every((d) => d.maxInputTokens === undefined || promptTokens <= d.maxInputTokens))
    return deployments;
  return deployments.filter((d) => d.maxInputTokens === undefined || promptTokens <= d.maxInputTokens);
}

function contextWindowFailure(group: string, promptTokens: number): GroupFailure {
  return {
    kind: 'failed',
    answer: undefined,
    failure: { kind: 'http', status: 400, reason: 'context_window' },
    error: new GatewayError(
      400,
      'context_window_exceeded',
      `litellm.ContextWindowExceededError: the prompt (about ${promptTokens} tokens) exceeds max_input_tokens of every deployment of model group ${group}`,
      { param: 'messages' },
    ),
  };
}

/** The upstream call, or the request's mock in its place. */
function forward(
  flight: Flight,
  route: Route,
  deployment: Deployment,
  end: Parameters<typeof attempt>[3],
): Promise<AttemptResult> {
  const mock = flight.controls.mock;
  // A mocked reply has no embeddings shape: embeddings are served for real.
  if (mock && !(mock.kind === 'reply' && flight.endpoint === 'embeddings')) {
    return mockAttempt(flight, mock, flight.model, attemptTimeoutMs(flight, deployment), end);
  }
  const upstreamModel = route.captures && fillPattern(deployment.upstreamModel, route.captures);
  return attempt(flight.deps, flight, deployment, end, upstreamModel);
}

/** A timeout says which timeout it was, as LiteLLM's `x-litellm-timeout` does (seconds, Python's float spelling). */
function withTimeoutHeader(error: GatewayError, flight: Flight, deployment: Deployment): GatewayError {
  if (error.code !== 'upstream_timeout') return error;
  const s = attemptTimeoutMs(flight, deployment) / 1000;
  return new GatewayError(error.status, error.code, error.message, {
    cause: error,
    headers: { ...error.headers, 'x-litellm-timeout': Number.isInteger(s) ? s.toFixed(1) : String(s) },
  });
}

/** Builds the client response with the gateway's headers (the caller finishes the request). */
function respond(
  flight: Flight,
  deployment: Deployment,
  admission: Extract<Admission, { admitted: true }>,
  answer: UpstreamAnswer,
  fallbackDepth: number,
  use: KeyUse | undefined,
  numRetries: number,
): Response {
  const { record, deps } = flight;
  const overheadMs = performance.now() - record.startedAt - record.upstreamMs;
  const headers: Record<string, string> = {
    'content-type': answer.contentType,
    'x-litellm-call-id': record.callId,
    'x-litellm-model-id': deployment.id,
    'x-litellm-model-group': deployment.modelGroup,
    'x-litellm-model-api-base': deployment.apiBaseLabel,
    'x-litellm-attempted-retries': String(record.retries),
    'x-litellm-attempted-fallbacks': String(fallbackDepth),
    'x-litellm-overhead-duration-ms': overheadMs.toFixed(3),
  };
  // LiteLLM says how many retries were allowed once one was made.
  if (record.retries > 0) headers['x-litellm-max-retries'] = String(numRetries);
  const states: readonly SubjectState[] = admission.states;
  addRateLimitHeaders(headers, use ? tightest(states) : states[0]);
  if (use) {
    // A non-stream answer's cost is known now; a stream's only when it ends (its spend header shows the reservation).
    const known = !(answer.body instanceof ReadableStream) && record.promptTokens !== undefined;
    const cost = known
      ? actualCost(deployment, {
          promptTokens: record.promptTokens!,
          completionTokens: record.completionTokens ?? 0,
        })
      : undefined;
    const reserved = admission.ticket.accounts?.[0]?.cost ?? 0;
    const spend = admission.spend === undefined ? undefined : admission.spend - reserved + (cost ?? reserved);
    addKeyHeaders(headers, use, states, spend, cost, deployment.modelGroup);
    if (use.modelGate >= 0) {
      const s = states[1 + use.modelGate];
      deps.metrics.keyModelRemaining(
        record,
        deployment.modelGroup,
        s?.requests?.remaining,
        s?.tokens?.remaining,
      );
    }
  }
  record.status = answer.status;
  record.errorCode = answer.status >= 400 ? (answer.code ?? 'upstream_error') : undefined;
  if (record.errorCode) headers[ERROR_CODE_HEADER] = record.errorCode;
  if (answer.body instanceof ReadableStream) {
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
  }
  return new Response(answer.body, { status: answer.status, headers });
}
