import type { Admission, Subject, SubjectState, WindowState } from '@fleetgate/ratelimit';
import type { Deployment } from '../config/deployments.js';
import { GatewayError } from '../errors.js';
import type { Principal } from '../http/authenticate.js';
import { groupGate } from '../keys/key-cache.js';
import { modelAllowed } from '../keys/model-access.js';
import type { Usage } from '../providers/types.js';
import type { TokenEstimate } from './estimate.js';
import type { ModelGroup } from './model-router.js';
import { formatDuration, retryAfterSeconds } from './rate-headers.js';

export type VirtualPrincipal = Extract<Principal, { kind: 'virtual' }>;

/** What a virtual key adds to an admission: its windows (gates) and its account. */
export interface KeyUse {
  readonly principal: VirtualPrincipal;
  readonly gates: readonly Subject[];
  /** Index in `gates` of the key's per-model window, for the x-litellm-key-remaining-* headers. */
  readonly modelGate: number;
}

/**
 * Whether a key may use a model group: by the name it asked for or the group's (exactly or by a
 * wildcard), or through one of the group's access groups (`model_info.access_groups`).
 */
export function mayUseGroup(principal: VirtualPrincipal, requested: string, group: ModelGroup): boolean {
  const access = principal.key.modelAccess;
  if (modelAllowed(access, requested, group.name)) return true;
  for (const name of group.accessGroups) if (access.names.has(name)) return true;
  return false;
}

export function keyUse(principal: VirtualPrincipal, requested: string, group: ModelGroup): KeyUse {
  const { key, hash } = principal;
  if (!mayUseGroup(principal, requested, group)) {
    throw new GatewayError(
      403,
      'key_model_access_denied',
      `key not allowed to access model. This key can only access models=${JSON.stringify(key.doc.models)}. Tried to access ${requested}`,
      { param: 'model' },
    );
  }
  const gates: Subject[] = [];
  if (key.keyGate) gates.push(key.keyGate);
  const perModel = groupGate(key, hash, requested, group.name);
  if (perModel) gates.push(perModel);
  return { principal, gates, modelGate: perModel ? gates.length - 1 : -1 };
}

/** USD per token of a deployment, 0 when the config gives none (startup warns once). */
export function prices(d: Deployment): { input: number; output: number } {
  return { input: d.inputCostPerToken ?? 0, output: d.outputCostPerToken ?? 0 };
}

/** The reservation: the estimate at the dearest deployment of the group (the one chosen is not known yet). */
export function estimatedCost(group: ModelGroup, tokens: TokenEstimate): number {
  return tokens.prompt * group.maxInputCost + tokens.completion * group.maxOutputCost;
}

export function actualCost(d: Deployment, usage: Usage): number {
  const p = prices(d);
  return usage.promptTokens * p.input + usage.completionTokens * p.output;
}

/** The client's error for an admission the key refused. */
export function keyRefusal(admission: Extract<Admission, { admitted: false }>, use: KeyUse): GatewayError {
  switch (admission.reason) {
    case 'account_missing':
      return new GatewayError(401, 'auth_error', 'Authentication Error, Invalid proxy server token passed.');
    case 'account_blocked':
      return new GatewayError(
        401,
        'auth_error',
        "Authentication Error, Key is blocked. Update via `/key/unblock` if you're an admin.",
      );
    case 'account_expired': {
      const at = admission.limitValue ?? Date.now();
      return new GatewayError(
        400,
        'expired_key',
        `Authentication Error - Expired Key. Key Expiry time ${new Date(at).toISOString()} and current time ${new Date().toISOString()}`,
      );
    }
    case 'account_budget':
      return new GatewayError(
        400,
        'budget_exceeded',
        `Budget has been exceeded! Current cost: ${admission.spend ?? 0}, Max budget: ${admission.limitValue ?? 0}`,
      );
    default: {
      const gate = use.gates[admission.gateIndex];
      const kind =
        admission.reason === 'gate_tpm'
          ? 'tokens'
          : admission.reason === 'gate_parallel'
            ? 'max_parallel_requests'
            : 'requests';
      const limit =
        admission.reason === 'gate_tpm'
          ? gate?.limits.tpm
          : admission.reason === 'gate_parallel'
            ? gate?.limits.maxParallel
            : gate?.limits.rpm;
      const scope = admission.gateIndex === use.modelGate ? 'model_per_key' : 'api_key';
      const seconds = retryAfterSeconds(admission.retryAfterMs);
      return new GatewayError(
        429,
        'rate_limited',
        `Rate limit exceeded for ${scope}: ${use.principal.hash}. Limit type: ${kind}. Current limit: ${limit ?? 0}, Remaining: 0. Retry in ${seconds} s.`,
        {
          headers: {
            'retry-after': seconds,
            'x-ratelimit-reset-requests': formatDuration(admission.retryAfterMs),
          },
        },
      );
    }
  }
}

/**
 * The headers of a response a virtual key got: its spend (this response's cost included), its
 * limits, what is left of its per-model windows, and — as `x-ratelimit-*` — the tightest window
 * among the deployment's and the key's.
 */
export function addKeyHeaders(
  headers: Record<string, string>,
  use: KeyUse,
  states: readonly SubjectState[],
  spend: number | undefined,
  cost: number | undefined,
  group: string,
): void {
  const doc = use.principal.key.doc;
  if (spend !== undefined) headers['x-litellm-key-spend'] = String(spend);
  if (cost !== undefined) headers['x-litellm-response-cost'] = String(cost);
  if (doc.max_budget !== null) headers['x-litellm-key-max-budget'] = String(doc.max_budget);
  if (doc.rpm_limit !== null) headers['x-litellm-key-rpm-limit'] = String(doc.rpm_limit);
  if (doc.tpm_limit !== null) headers['x-litellm-key-tpm-limit'] = String(doc.tpm_limit);
  if (use.modelGate >= 0) {
    const s = states[1 + use.modelGate];
    const name = group.replace(/[/:]/g, '-');
    if (s?.requests) headers[`x-litellm-key-remaining-requests-${name}`] = String(s.requests.remaining);
    if (s?.tokens) headers[`x-litellm-key-remaining-tokens-${name}`] = String(s.tokens.remaining);
  }
}

/** For each unit, the window with the least left across the deployment's and the key's. */
export function tightest(states: readonly SubjectState[]): SubjectState {
  let requests: WindowState | undefined;
  let tokens: WindowState | undefined;
  for (const s of states) {
    if (s.requests && (!requests || s.requests.remaining < requests.remaining)) requests = s.requests;
    if (s.tokens && (!tokens || s.tokens.remaining < tokens.remaining)) tokens = s.tokens;
  }
  return { requests, tokens };
}
