import type { Admission } from '@fleetgate/ratelimit';
import { GatewayError } from '../errors.js';
import type { KeyUse, Owner } from './key-policy.js';
import { formatDuration, retryAfterSeconds } from './rate-headers.js';

type Refused = Extract<Admission, { admitted: false }>;

const invalidKey = () =>
  new GatewayError(401, 'auth_error', 'Authentication Error, Invalid proxy server token passed.');

/**
 * The client's error for an admission refused by a key, its team or its user, in LiteLLM's words
 * (its auth checks and its rate limiter): which account or window refused decides the message.
 */
export function keyRefusal(admission: Refused, use: KeyUse): GatewayError {
  if (admission.reason.startsWith('account_')) {
    const owner = use.owners[admission.accountIndex ?? 0] ?? use.owners[0]!;
    return owner.scope === 'api_key' ? keyAccountRefusal(admission) : ownerRefusal(admission, owner, use);
  }
  const gate = use.gates[admission.gateIndex];
  const scope = use.gateScopes[admission.gateIndex] ?? { scope: 'api_key', value: use.principal.hash };
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
  const seconds = retryAfterSeconds(admission.retryAfterMs);
  return new GatewayError(
    429,
    'rate_limited',
    `Rate limit exceeded for ${scope.scope}: ${scope.value}. Limit type: ${kind}. Current limit: ${limit ?? 0}, Remaining: 0. Retry in ${seconds} s.`,
    {
      headers: {
        'retry-after': seconds,
        'x-ratelimit-reset-requests': formatDuration(admission.retryAfterMs),
      },
    },
  );
}

function keyAccountRefusal(admission: Refused): GatewayError {
  switch (admission.reason) {
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
    default:
      return invalidKey();
  }
}

/** A team's, a user's or a member budget's refusal (its key exists and may spend). */
function ownerRefusal(admission: Refused, owner: Owner, use: KeyUse): GatewayError {
  const spend = admission.spend ?? 0;
  const budget = admission.limitValue ?? 0;
  if (owner.scope === 'team') {
    if (admission.reason === 'account_blocked') {
      return new GatewayError(
        401,
        'auth_error',
        `Authentication Error, Team=${owner.value} is blocked. Update via \`/team/unblock\` if you're an admin.`,
      );
    }
    if (admission.reason === 'account_budget') {
      return new GatewayError(
        400,
        'budget_exceeded',
        `Budget has been exceeded! Team=${owner.value} Current cost: ${spend}, Max budget: ${budget}`,
      );
    }
  }
  if (owner.scope === 'team_member' && admission.reason === 'account_budget') {
    // LiteLLM's _check_team_member_budget, word for word.
    return new GatewayError(
      400,
      'budget_exceeded',
      `Budget has been exceeded! User=${owner.value} in Team=${use.principal.key.doc.team_id} Current cost: ${spend}, Max budget: ${budget}`,
    );
  }
  if (owner.scope === 'user' && admission.reason === 'account_budget') {
    return new GatewayError(
      400,
      'budget_exceeded',
      `ExceededBudget: User=${owner.value} over budget. Spend=${spend}, Budget=${budget}`,
    );
  }
  // Deleted between this replica's read and the request (its keys went with it): the key is gone too.
  return invalidKey();
}
