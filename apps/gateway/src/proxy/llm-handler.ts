import { randomUUID } from 'node:crypto';
import type { Admission, SubjectState } from '@fleetgate/ratelimit';
import { shuffleByWeight } from '@fleetgate/routing';
import type { Context } from 'hono';
import type { Deployment } from '../config/deployments.js';
import { ERROR_CODE_HEADER, GatewayError } from '../errors.js';
import type { Principal } from '../http/authenticate.js';
import { parseJsonObject, readBody } from '../http/body.js';
import { type ClientGoneSignal, clientGoneSignal } from '../http/client-gone.js';
import { headerReader } from '../http/headers.js';
import { checkRequest } from '../http/openai-request.js';
import type { Endpoint } from '../providers/types.js';
import { noDeployment, unknownModel } from './admission-errors.js';
import { attempt, type UpstreamAnswer } from './attempt.js';
import type { GatewayEnv, ProxyDeps } from './context.js';
import { estimateTokens, type TokenEstimate } from './estimate.js';
import { finishRequest } from './finish.js';
import {
  actualCost,
  addKeyHeaders,
  estimatedCost,
  type KeyUse,
  keyRefusal,
  keyUse,
  tightest,
} from './key-policy.js';
import type { ModelGroup } from './model-router.js';
import { addRateLimitHeaders } from './rate-headers.js';
import { newRequestRecord, type RequestRecord } from './request-record.js';
import { settleAttempt } from './settle.js';

/** A client's `x-litellm-call-id` is echoed only when it is a plain token (it lands in a header and logs). */
const CALL_ID = /^[\w.:-]{1,128}$/;

/** The per-request state the attempt loop shares. */
interface Flight {
  readonly deps: ProxyDeps;
  readonly endpoint: Endpoint;
  readonly body: Record<string, unknown>;
  readonly raw: Buffer;
  readonly stream: boolean;
  readonly clientWantsUsage: boolean;
  readonly tokens: TokenEstimate;
  readonly leaseId: string;
  readonly signal: ClientGoneSignal;
  readonly record: RequestRecord;
  readonly principal: Principal;
}

/** The answer of one model group: a response to send, or the error to send if no fallback helps. */
type GroupResult =
  | { readonly kind: 'response'; readonly response: Response }
  | {
      readonly kind: 'failed';
      readonly error: GatewayError | undefined;
      readonly answer: Response | undefined;
    };

let leaseSeq = 0;

/**
 * POST /chat/completions, /completions, /embeddings: authenticate, read and check the body once,
 * then per model group (the requested one, then its fallbacks): admit → forward → settle, retrying
 * retryable failures on the group's other deployments up to num_retries.
 */
export function createLlmHandler(endpoint: Endpoint, deps: ProxyDeps) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const startedAt = performance.now();
    const header = headerReader(c);
    const given = header('x-litellm-call-id');
    const callId = given && CALL_ID.test(given) ? given : randomUUID();
    c.set('callId', callId);
    const record = newRequestRecord(callId, endpoint, startedAt);
    c.set('record', record);
    const authenticated = deps.authenticate(header);
    const principal = authenticated instanceof Promise ? await authenticated : authenticated;
    if (principal.kind === 'virtual') {
      record.keyHash = principal.hash;
      record.keyAlias = principal.key.doc.key_alias ?? undefined;
    }
    const raw = await readBody(
      c.env?.incoming,
      c.req.raw,
      header('content-length'),
      deps.config.maxRequestBytes,
    );
    const body = parseJsonObject(raw);
    const shape = checkRequest(endpoint, body);
    record.requestedModel = shape.model;
    record.stream = shape.stream;
    const group = deps.router.resolve(shape.model);
    if (!group) throw unknownModel(shape.model, deps.router.publicNames);
    const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
    const flight: Flight = {
      deps,
      endpoint,
      body,
      raw,
      stream: shape.stream,
      clientWantsUsage: streamOptions?.include_usage === true,
      tokens: estimateTokens(raw.length, body),
      leaseId: `${deps.replicaId}:${++leaseSeq}`,
      signal: clientGoneSignal(c),
      record,
      principal,
    };
    // The key must be allowed the requested model (401 if not); fallbacks it may not use are skipped.
    const primaryUse = principal.kind === 'virtual' ? keyUse(principal, shape.model, group) : undefined;
    let failed: Extract<GroupResult, { kind: 'failed' }> | undefined;
    const groups = [group, ...group.fallbacks.map((name) => deps.router.resolve(name)!)];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      let use = primaryUse;
      if (i > 0 && principal.kind === 'virtual') {
        try {
          use = keyUse(principal, g.name, g);
        } catch {
          continue;
        }
      }
      const result = await tryGroup(flight, g, i, use);
      if (result.kind === 'response') return result.response;
      failed ??= result;
    }
    if (failed?.answer) {
      record.status = failed.answer.status;
      record.errorCode = 'upstream_error';
      finishRequest(deps, record);
      return failed.answer;
    }
    throw failed?.error ?? new GatewayError(500, 'internal_error', 'no attempt was made');
  };
}

async function tryGroup(
  flight: Flight,
  group: ModelGroup,
  fallbackDepth: number,
  use: KeyUse | undefined,
): Promise<GroupResult> {
  const { deps, record } = flight;
  record.modelGroup = group.name;
  let excluded: Set<string> | undefined;
  let lastError: GatewayError | undefined;
  let lastAnswer: Response | undefined;
  for (let n = 0; n <= deps.config.numRetries; n++) {
    const pool = excluded ? group.deployments.filter((d) => !excluded!.has(d.id)) : group.deployments;
    if (pool.length === 0) break;
    const ordered = pool.length === 1 ? pool : shuffleByWeight(pool, deps.random);
    const admission = await deps.store.admit({
      candidates: ordered.map((d) => deps.router.subject(d)),
      gates: use?.gates,
      tokens: flight.tokens.total,
      leaseId: flight.leaseId,
      account: use ? { id: use.principal.hash, cost: estimatedCost(group, flight.tokens) } : undefined,
    });
    if (!admission.admitted) {
      // A key that may not spend is refused outright; a key out of its windows, like a group out of
      // room, is a 429 fallbacks may still avoid.
      if (use && admission.reason.startsWith('account_')) throw keyRefusal(admission, use);
      deps.metrics.admission(
        group.name,
        admission.reason === 'cooldown' ? 'no_deployment_available' : 'rate_limited',
      );
      // After a failed attempt, the client learns what the upstream said rather than "no room".
      if (lastAnswer || lastError) break;
      const error =
        use && admission.reason.startsWith('gate_')
          ? keyRefusal(admission, use)
          : noDeployment(group, admission);
      return { kind: 'failed', error, answer: undefined };
    }
    deps.metrics.admission(group.name, 'admitted');
    if (n > 0) record.retries = n;
    const deployment = ordered[admission.index]!;
    record.deployment = deployment;
    const state = admission.states[0];
    deps.metrics.remaining(deployment, state?.requests?.remaining, state?.tokens?.remaining);
    const ticket = admission.ticket;
    let pending: Promise<void> = Promise.resolve();
    let relayed = false;
    const result = await attempt(deps, flight, deployment, (usage, failure, counted) => {
      pending = settleAttempt(deps, record, deployment, ticket, usage, failure, counted);
      if (!relayed) return;
      // A relayed stream ends after its response was returned: the request ends with it.
      if (failure)
        record.errorCode = failure.kind === 'timeout' ? 'upstream_timeout' : 'upstream_unreachable';
      else if (!counted) record.errorCode = 'client_closed';
      finishRequest(deps, record);
    });
    if (result.kind === 'answer') {
      if (result.failure) await pending;
      const response = respond(flight, deployment, admission, result.answer, fallbackDepth, use);
      if (result.answer.body instanceof ReadableStream) relayed = true;
      else finishRequest(deps, record);
      return { kind: 'response', response };
    }
    await pending;
    excluded ??= new Set();
    excluded.add(deployment.id);
    lastError = result.error;
    lastAnswer = result.answer
      ? respond(flight, deployment, admission, result.answer, fallbackDepth, use)
      : undefined;
  }
  if (lastAnswer) return { kind: 'failed', error: undefined, answer: lastAnswer };
  return { kind: 'failed', error: lastError, answer: undefined };
}

/** Builds the client response with the gateway's headers (the caller finishes the request). */
function respond(
  flight: Flight,
  deployment: Deployment,
  admission: Extract<Admission, { admitted: true }>,
  answer: UpstreamAnswer,
  fallbackDepth: number,
  use: KeyUse | undefined,
): Response {
  const { record } = flight;
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
    const reserved = admission.ticket.account?.cost ?? 0;
    const spend = admission.spend === undefined ? undefined : admission.spend - reserved + (cost ?? reserved);
    addKeyHeaders(headers, use, states, spend, cost, deployment.modelGroup);
  }
  record.status = answer.status;
  record.errorCode = answer.status >= 400 ? 'upstream_error' : undefined;
  if (record.errorCode) headers[ERROR_CODE_HEADER] = record.errorCode;
  if (answer.body instanceof ReadableStream) {
    headers['cache-control'] = 'no-cache';
    headers['x-accel-buffering'] = 'no';
  }
  return new Response(answer.body, { status: answer.status, headers });
}
