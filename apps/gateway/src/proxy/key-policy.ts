import type { AccountCharge, Subject, SubjectState, WindowState } from '@fleetgate/ratelimit';
import type { Deployment } from '../config/deployments.js';
import { GatewayError } from '../errors.js';
import type { Principal } from '../http/authenticate.js';
import { type CachedKey, groupGate, type ZeroLimit, zeroModelLimit } from '../keys/key-cache.js';
import { listAllows, type ModelAccess } from '../keys/model-access.js';
import type { Usage } from '../providers/types.js';
import type { TokenEstimate } from './estimate.js';
import type { ModelGroup } from './model-router.js';

export type VirtualPrincipal = Extract<Principal, { kind: 'virtual' }>;

/** What a window or an account of a request stands for, in LiteLLM's words (its limiter's descriptors). */
export interface Scope {
  /** `team_member`: a user's budget inside the key's team (value: the user id). */
  readonly scope: 'api_key' | 'model_per_key' | 'team' | 'user' | 'team_member';
  readonly value: string;
}

/** What a virtual key adds to an admission: its windows (gates), and the accounts to check and charge. */
export interface KeyUse {
  readonly principal: VirtualPrincipal;
  readonly gates: readonly Subject[];
  /** Per gate, what it limits. */
  readonly gateScopes: readonly Scope[];
  /** Index in `gates` of the key's per-model window, for the x-litellm-key-remaining-* headers. */
  readonly modelGate: number;
  /** The key's account first, then its team's, its user's and its user's budget in the team. */
  readonly owners: readonly Owner[];
}

export interface Owner extends Scope {
  readonly accountId: string;
  /** A user's budget binds only its personal keys (LiteLLM); a team key answers to the team's. */
  readonly enforceBudget: boolean;
}

/** What a key's requests for one model are held to; built once per (cached key, requested model). */
type Plan = Omit<KeyUse, 'principal'>;
const plans = new WeakMap<CachedKey, Map<string, Plan | GatewayError>>();
const MAX_PLANS_PER_KEY = 256;

/**
 * Whether the key may use the model (its list, its team's, a personal key's user's — LiteLLM's
 * errors name which refused), then the windows and accounts its request is held to: the key's, its
 * per-model window, its team's, its user's — every one checked and reserved in the one admission.
 * Worked out once per cached key and model: a request only looks it up.
 */
export function keyUse(principal: VirtualPrincipal, requested: string, group: ModelGroup): KeyUse {
  const { key, hash } = principal;
  let byModel = plans.get(key);
  if (!byModel) {
    byModel = new Map();
    plans.set(key, byModel);
  }
  let plan = byModel.get(requested);
  if (!plan) {
    // Through a wildcard group a client can name any model: keep the cache from growing with them.
    if (byModel.size >= MAX_PLANS_PER_KEY) byModel.clear();
    try {
      plan = planFor(key, hash, requested, group);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      plan = error;
    }
    byModel.set(requested, plan);
  }
  if (plan instanceof GatewayError) throw plan;
  return {
    principal,
    gates: plan.gates,
    gateScopes: plan.gateScopes,
    modelGate: plan.modelGate,
    owners: plan.owners,
  };
}

function planFor(key: CachedKey, hash: string, requested: string, group: ModelGroup): Plan {
  checkModel(key, requested, group);
  const zero = key.zeroLimit ?? zeroModel(key, hash, requested, group.name);
  if (zero) throw zeroLimitRefusal(zero);
  const gates: Subject[] = [];
  const gateScopes: Scope[] = [];
  const add = (gate: Subject | undefined, scope: Scope) => {
    if (!gate) return;
    gates.push(gate);
    gateScopes.push(scope);
  };
  add(key.keyGate, { scope: 'api_key', value: hash });
  const perModel = groupGate(key, hash, requested, group.name);
  add(perModel, { scope: 'model_per_key', value: hash });
  const modelGate = perModel ? gates.length - 1 : -1;
  const owners: Owner[] = [{ scope: 'api_key', value: hash, accountId: hash, enforceBudget: true }];
  if (key.team) {
    const value = key.team.doc.team_id;
    add(key.team.gate, { scope: 'team', value });
    owners.push({ scope: 'team', value, accountId: key.team.accountId, enforceBudget: true });
  }
  if (key.user) {
    const value = key.user.doc.user_id;
    add(key.user.gate, { scope: 'user', value });
    owners.push({ scope: 'user', value, accountId: key.user.accountId, enforceBudget: !key.team });
  }
  if (key.memberAccountId && key.doc.user_id !== null) {
    // LiteLLM's max_budget_in_team: binds the keys of that team and that user, whatever else they have.
    owners.push({
      scope: 'team_member',
      value: key.doc.user_id,
      accountId: key.memberAccountId,
      enforceBudget: true,
    });
  }
  return { gates, gateScopes, modelGate, owners };
}

/**
 * The same use without its member budget: for an admission refused because that account is gone —
 * the budget was removed and this replica's copy of the key has not heard yet. No budget is what the
 * fleet says, so the request is admitted again without it.
 */
export function withoutMemberBudget(use: KeyUse): KeyUse {
  return { ...use, owners: use.owners.filter((o) => o.scope !== 'team_member') };
}

/** Whether the account at this index of an admission (its `accountIndex`) is the member budget. */
export function isMemberBudget(use: KeyUse, accountIndex: number | undefined): boolean {
  return accountIndex !== undefined && use.owners[accountIndex]?.scope === 'team_member';
}

/** The accounts of one admission, each reserving the request's estimated cost. */
export function charges(use: KeyUse, cost: number): AccountCharge[] {
  return use.owners.map((o) => ({ id: o.accountId, cost, enforceBudget: o.enforceBudget }));
}

/**
 * Whether one model list allows a group: by the name asked for or the group's (exactly or by a
 * wildcard), or through one of the group's access groups (`model_info.access_groups`).
 */
function allowsGroup(list: ModelAccess, requested: string, group: ModelGroup): boolean {
  if (listAllows(list, requested, group.name)) return true;
  if (list.none) return false;
  for (const name of group.accessGroups) if (list.names.has(name)) return true;
  return false;
}

/** Whether a key may use a model group: its own list and every list it answers to (team, user) allow it. */
export function mayUseGroup(principal: VirtualPrincipal, requested: string, group: ModelGroup): boolean {
  for (let a: ModelAccess | undefined = principal.key.modelAccess; a; a = a.also)
    if (!allowsGroup(a, requested, group)) return false;
  return true;
}

function checkModel(key: CachedKey, requested: string, group: ModelGroup): void {
  if (!allowsGroup(key.keyModels, requested, group)) {
    throw new GatewayError(
      403,
      'key_model_access_denied',
      `key not allowed to access model. This key can only access models=${JSON.stringify(key.doc.models)}. Tried to access ${requested}`,
      { param: 'model' },
    );
  }
  if (key.team && !allowsGroup(key.team.models, requested, group)) {
    const team = key.team.doc;
    throw new GatewayError(
      403,
      'team_model_access_denied',
      `Team not allowed to access model. Team=${team.team_id}, Model=${requested}. Allowed team models = ${JSON.stringify(team.models)}`,
      { param: 'model' },
    );
  }
  if (!key.team && key.user && !allowsGroup(key.user.models, requested, group)) {
    const user = key.user;
    const message = user.models.none
      ? `User not allowed to access model. No default model access, only team models allowed. Tried to access ${requested}`
      : `user not allowed to access model. This user can only access models=${JSON.stringify(user.doc.models)}. Tried to access ${requested}`;
    throw new GatewayError(403, 'key_model_access_denied', message, { param: 'model' });
  }
}

function zeroModel(key: CachedKey, hash: string, requested: string, group: string): ZeroLimit | undefined {
  const kind = zeroModelLimit(key, requested, group);
  return kind && { scope: 'api_key', value: `${hash}:${requested}`, kind };
}

/** A limit of 0 admits nothing: LiteLLM's 429 for it, without asking the fleet. */
function zeroLimitRefusal(zero: ZeroLimit): GatewayError {
  return new GatewayError(
    429,
    'rate_limited',
    `Rate limit exceeded for ${zero.scope}: ${zero.value}. Limit type: ${zero.kind}. Current limit: 0, Remaining: 0. A limit of 0 admits no request.`,
    { headers: { 'retry-after': '60' } },
  );
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
