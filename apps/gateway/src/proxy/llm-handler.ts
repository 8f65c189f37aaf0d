import { randomUUID } from 'node:crypto';
import { errorClass, type FallbackKind, fallbackChain, fallbackKind } from '@fleetgate/routing';
import type { Context } from 'hono';
import { GatewayError } from '../errors.js';
import type { Principal } from '../http/authenticate.js';
import { parseJsonObject, readBody } from '../http/body.js';
import { clientGoneSignal } from '../http/client-gone.js';
import { headerReader } from '../http/headers.js';
import { checkRequest } from '../http/openai-request.js';
import {
  type FallbackTarget,
  NO_CONTROLS,
  type RequestControls,
  readRequestControls,
} from '../http/request-controls.js';
import type { Endpoint } from '../providers/types.js';
import { unknownModel } from './admission-errors.js';
import type { ClientApi } from './client-api.js';
import type { GatewayEnv, ProxyDeps } from './context.js';
import { estimateTokens } from './estimate.js';
import { finishRequest } from './finish.js';
import { type Flight, type GroupFailure, tryGroup } from './group-attempts.js';
import { keyUse } from './key-policy.js';
import { newRequestRecord } from './request-record.js';

/** A client's `x-litellm-call-id` is echoed only when it is a plain token (it lands in a header and logs). */
const CALL_ID = /^[\w.:-]{1,128}$/;

let leaseSeq = 0;

/**
 * POST /chat/completions, /completions, /embeddings: authenticate, read and check the body once
 * (LiteLLM's own fields taken out: they steer the gateway and never reach a provider), then per model
 * group — the requested one, then its fallbacks — admit → forward → settle, retrying retryable
 * failures up to num_retries.
 */
export function createLlmHandler(endpoint: Endpoint, deps: ProxyDeps, client?: ClientApi) {
  return async (c: Context<GatewayEnv>): Promise<Response> => {
    const startedAt = performance.now();
    const header = headerReader(c);
    const given = header('x-litellm-call-id');
    const callId = given && CALL_ID.test(given) ? given : randomUUID();
    c.set('callId', callId);
    const record = newRequestRecord(callId, client?.route ?? endpoint, startedAt);
    c.set('record', record);
    const authenticated = deps.authenticate(header);
    const principal = authenticated instanceof Promise ? await authenticated : authenticated;
    if (principal.kind === 'virtual') {
      record.keyHash = principal.hash;
      record.keyAlias = principal.key.doc.key_alias ?? undefined;
      record.teamId = principal.key.team?.doc.team_id;
      record.teamAlias = principal.key.team?.doc.team_alias ?? undefined;
      record.userId = principal.key.user?.doc.user_id;
    }
    let raw = await readBody(
      c.env?.incoming,
      c.req.raw,
      header('content-length'),
      deps.config.maxRequestBytes,
    );
    const body = parseJsonObject(raw);
    // Another client API's body is its own: only the timeout header steers the gateway.
    const shape = client ? { ...client.check(body), litellmFields: false } : checkRequest(endpoint, body);
    const timeoutHeader = header('x-litellm-timeout');
    const controls =
      shape.litellmFields || timeoutHeader !== undefined
        ? readRequestControls(client ? {} : body, timeoutHeader, mayMock(principal))
        : NO_CONTROLS;
    // Fields were taken out: the bytes sent upstream are the body as it now is.
    if (shape.litellmFields) raw = Buffer.from(JSON.stringify(body));
    record.clientModel = shape.model;
    record.stream = shape.stream;
    // A key (or its team) may name models by its own aliases: the model is the alias's target.
    const model = (principal.kind === 'virtual' && principal.key.aliases?.get(shape.model)) || shape.model;
    const route = deps.router.resolve(model);
    if (!route) throw unknownModel(model, deps.router.publicNames);
    // Metrics label by the group for wildcard routes: a client must not mint label values.
    record.requestedModel = route.captures ? route.group.name : model;
    // The key must be allowed the requested model (403 if not); fallbacks it may not use are skipped.
    const primaryUse = principal.kind === 'virtual' ? keyUse(principal, model, route.group) : undefined;
    checkClientFallbacks(deps, controls);
    const streamOptions = body['stream_options'] as { include_usage?: unknown } | undefined;
    const flight: Flight = {
      deps,
      endpoint,
      body,
      raw,
      stream: shape.stream,
      clientWantsUsage: client !== undefined || streamOptions?.include_usage === true,
      translatorOf: client?.translatorOf,
      clientHeaders: client?.forwardHeaders && forwardedHeaders(client.forwardHeaders, header),
      tokens: estimateTokens(raw.length, body, completionReserve(deps, endpoint)),
      leaseId: `${deps.replicaId}:${++leaseSeq}`,
      signal: clientGoneSignal(c),
      record,
      principal,
      controls,
      model: shape.model,
      timeoutOverrideMs: timeoutOverrideMs(controls, shape.stream),
      queueUntil: deps.queue ? startedAt + deps.config.queue.waitMs : undefined,
      priority: controls.priority ?? deps.config.queue.defaultPriority,
    };
    const policy = deps.config.routing.fallbacks;
    const chainOf = (kind: FallbackKind): readonly FallbackTarget[] =>
      controls.disableFallbacks
        ? []
        : (controls.fallbacks ?? fallbackChain(policy, route.group.name, kind).map(asTarget));
    let failed: GroupFailure;
    if (controls.mockFailPrimary) failed = mockedPrimaryFailure(shape.model, chainOf('general'));
    else {
      const first = await tryGroup(flight, route, 0, primaryUse, chainOf('context_window').length > 0);
      if (first.kind === 'response') return first.response;
      failed = first;
    }
    // The primary group's last failure decides which fallbacks follow (context window, content policy, general).
    const chain = chainOf(fallbackKind(failed.failure));
    for (let depth = 1; depth <= chain.length; depth++) {
      const target = chain[depth - 1]!;
      const r = deps.router.resolve(target.model);
      if (!r) continue;
      let use = primaryUse;
      if (principal.kind === 'virtual') {
        try {
          use = keyUse(principal, target.model, r.group);
        } catch {
          continue;
        }
      }
      const result = await tryGroup(withOverrides(flight, target), r, depth, use, depth < chain.length);
      const ok = result.kind === 'response';
      deps.metrics.fallback(
        record,
        route.group.name,
        target.model,
        failed.failure?.status ?? failed.error?.status,
        failed.failure ? errorClass(failed.failure) : undefined,
        ok,
      );
      if (result.kind === 'response') return result.response;
    }
    if (failed.answer) {
      record.status = failed.answer.status;
      record.errorCode = 'upstream_error';
      finishRequest(deps, record);
      return failed.answer;
    }
    throw failed.error ?? new GatewayError(500, 'internal_error', 'no attempt was made');
  };
}

const asTarget = (model: string): FallbackTarget => ({ model, overrides: undefined });

/** The headers of `names` the client sent, or undefined when it sent none of them. */
function forwardedHeaders(
  names: readonly string[],
  header: (name: string) => string | undefined,
): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name of names) {
    const v = header(name);
    if (v === undefined) continue;
    out ??= {};
    out[name] = v;
  }
  return out;
}

/**
 * The request's own `fallbacks` must each name a model this gateway serves: a 400 naming the one that
 * does not, before anything is sent. (They replace the config's fallbacks for every kind of failure.)
 */
function checkClientFallbacks(deps: ProxyDeps, controls: RequestControls): void {
  controls.fallbacks?.forEach((target, i) => {
    if (!deps.router.resolve(target.model)) {
      const error = unknownModel(target.model, deps.router.publicNames);
      throw new GatewayError(400, 'model_not_found', `fallbacks[${i}]: ${error.message}`, {
        param: `fallbacks[${i}]`,
      });
    }
  });
}

/** A fallback with fields of its own (`{"model", "messages"}`) sends the request with them in place. */
function withOverrides(flight: Flight, target: FallbackTarget | undefined): Flight {
  if (!target?.overrides) return flight;
  const body = { ...flight.body, ...target.overrides, model: target.model };
  const raw = Buffer.from(JSON.stringify(body));
  return {
    ...flight,
    body,
    raw,
    tokens: estimateTokens(raw.length, body, completionReserve(flight.deps, flight.endpoint)),
  };
}

function timeoutOverrideMs(controls: RequestControls, stream: boolean): number | undefined {
  const s = stream ? (controls.streamTimeoutS ?? controls.timeoutS) : controls.timeoutS;
  return s === undefined ? undefined : s * 1000;
}

/**
 * Whether this caller may have its answer made up by `mock_response`: the master key (or an open
 * gateway), and virtual keys whose metadata says `allow_client_mock_response: true`, as LiteLLM
 * allows it; for anyone else the field is dropped and the request is served for real.
 */
function mayMock(principal: Principal): boolean {
  if (principal.kind !== 'virtual') return true;
  return principal.key.doc.metadata?.['allow_client_mock_response'] === true;
}

/** `mock_testing_fallbacks`: the requested group fails at once, as LiteLLM's mock does, so fallbacks answer. */
function mockedPrimaryFailure(model: string, fallbacks: readonly FallbackTarget[]): GroupFailure {
  return {
    kind: 'failed',
    answer: undefined,
    failure: { kind: 'http', status: 500 },
    error: new GatewayError(
      500,
      'upstream_error',
      `litellm.InternalServerError: This is a mock exception for model=${model}, to trigger a fallback. Fallbacks=${JSON.stringify(fallbacks.map((f) => f.model))}`,
    ),
  };
}

/** Completion tokens reserved when the request sets no budget: none for embeddings. */
function completionReserve(deps: ProxyDeps, endpoint: Endpoint): number {
  return endpoint === 'embeddings' ? 0 : deps.config.reserveCompletionTokens;
}
