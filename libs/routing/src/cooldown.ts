import { type AttemptFailure, isDeploymentFault } from './attempt.js';
import { type ClassPolicy, errorClass, policyCount } from './error-class.js';

/** The router's cooldown settings (`router_settings`). */
export interface CooldownPolicy {
  /** `cooldown_time` in ms. @default 5000 */
  readonly cooldownMs: number;
  /** `allowed_fails`, when the config sets it: failures a minute before cooling down. */
  readonly allowedFails?: number | undefined;
  /** `disable_cooldowns`. @default false */
  readonly disabled: boolean;
  /** `allowed_fails_policy`: per error class, the failures a minute before cooling down. */
  readonly allowedFailsPolicy?: ClassPolicy | undefined;
}

export interface CooldownInput {
  readonly failure: AttemptFailure;
  /** Deployments in the model group (LiteLLM spares single-deployment groups from most rules). */
  readonly groupSize: number;
  /** The deployment's failures and calls this minute, including this failure. */
  readonly failures: number;
  readonly total: number;
  /** The deployment's own `cooldown_time` in ms, if set. */
  readonly deploymentCooldownMs?: number | undefined;
}

/** LiteLLM's DEFAULT_FAILURE_THRESHOLD_PERCENT and its minimum number of calls. */
const FAILURE_RATIO = 0.5;
const MIN_CALLS = 5;
/** LiteLLM's SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD: a lone deployment failing every one of this many calls. */
const SINGLE_DEPLOYMENT_ALL_FAILED = 1000;

/**
 * How long to cool a deployment down after a failure, in ms (0: not at all). LiteLLM's rules:
 * 429 at once when the group has another deployment; 401 and 404 at once; 408, 5xx, timeouts and
 * connection failures when more than half of the minute's calls (at least 5) failed. With
 * `allowed_fails` set, any counted failure beyond that many in a minute cools down instead.
 * Two deliberate differences from LiteLLM: an explicit `allowed_fails: 3` is honoured (LiteLLM ignores
 * it because it equals the default), and connection failures count (LiteLLM never cools a deployment
 * it cannot reach). An upstream `retry-after` longer than the cooldown wins. With
 * `allowed_fails_policy`, a failure whose class it names cools down past that class's count.
 */
export function decideCooldown(policy: CooldownPolicy, input: CooldownInput): number {
  const { failure } = input;
  if (policy.disabled || !isDeploymentFault(failure)) return 0;
  let ms = input.deploymentCooldownMs ?? policy.cooldownMs;
  if (ms <= 0) return 0;
  if (failure.retryAfterMs !== undefined && failure.retryAfterMs > ms) ms = failure.retryAfterMs;
  // allowed_fails_policy for this failure's class, then allowed_fails, replace the default rules. The
  // minute's count is of every failure (the fleet counts them together), not of this class alone.
  const allowed = policyCount(policy.allowedFailsPolicy, errorClass(failure)) ?? policy.allowedFails;
  if (allowed !== undefined) return input.failures > allowed ? ms : 0;
  const shared = input.groupSize > 1;
  if (failure.status === 429 && failure.kind === 'http' && shared) return ms;
  if (failure.status === 401 || failure.status === 404) return ms;
  if (input.total >= SINGLE_DEPLOYMENT_ALL_FAILED && input.failures === input.total) return ms;
  if (shared && input.total >= MIN_CALLS && input.failures / input.total > FAILURE_RATIO) return ms;
  return 0;
}
