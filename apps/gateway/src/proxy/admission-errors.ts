import type { Admission } from '@fleetgate/ratelimit';
import { GatewayError } from '../errors.js';
import type { ModelGroup } from './model-router.js';
import { formatDuration, retryAfterSeconds } from './rate-headers.js';

/** 429 when no deployment of the group can take the request now: when one may, and the joint quota. */
export function noDeployment(
  group: ModelGroup,
  admission: Extract<Admission, { admitted: false }>,
): GatewayError {
  const wait = admission.retryAfterMs;
  const seconds = retryAfterSeconds(wait);
  const headers: Record<string, string> = { 'retry-after': seconds };
  if (group.jointRpm !== undefined) {
    headers['x-ratelimit-limit-requests'] = String(group.jointRpm);
    headers['x-ratelimit-remaining-requests'] = '0';
    headers['x-ratelimit-reset-requests'] = formatDuration(wait);
  }
  const why =
    admission.reason === 'cooldown'
      ? 'All deployments are cooling down after failures.'
      : 'Every deployment is at its rpm/tpm/parallel limit.';
  return new GatewayError(
    429,
    admission.reason === 'cooldown' ? 'no_deployment_available' : 'rate_limited',
    `No deployments available for selected model, Try again in ${seconds} seconds. Passed model=${group.name}. ${why}`,
    { headers },
  );
}

/**
 * 503 when Redis did not answer the admission in time: whether the fleet admitted the request is
 * unknown, so it is not sent (a guess could put the fleet over a provider's quota) and whatever
 * Redis admitted for it is given back. Retry at once: the next admission usually answers.
 */
export function unknownAdmission(group: ModelGroup): GatewayError {
  return new GatewayError(
    503,
    'fleet_state_unknown',
    `The fleet's rate-limit state did not answer in time; the request was not sent. Passed model=${group.name}. Retry.`,
    { headers: { 'retry-after': '1' } },
  );
}

/** LiteLLM's 400 for a model no group or alias answers to, listing those that do. */
export function unknownModel(model: string, available: readonly string[]): GatewayError {
  return new GatewayError(
    400,
    'model_not_found',
    `Invalid model name passed in model=${model}. Available models: ${available.join(', ') || '(none)'}. Call \`/v1/models\` to view available models for your key.`,
    { param: 'model' },
  );
}
