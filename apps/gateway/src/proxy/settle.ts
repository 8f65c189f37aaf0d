import type { LatencySample, Ticket } from '@fleetgate/ratelimit';
import { type AttemptFailure, decideCooldown, isDeploymentFault } from '@fleetgate/routing';
import type { Deployment } from '../config/deployments.js';
import type { Usage } from '../providers/types.js';
import type { ProxyDeps } from './context.js';
import { actualCost } from './key-policy.js';
import type { RequestRecord } from './request-record.js';

/**
 * Gives back what admission reserved and counts the outcome (and, for latency-based-routing, the
 * attempt's latency sample). A success is settled off the critical
 * path (the promise is not awaited). A failure also decides the cooldown, and callers await it before
 * answering, so once a client has seen a failure every replica's next admission sees the cooldown.
 */
export function settleAttempt(
  deps: ProxyDeps,
  record: RequestRecord,
  deployment: Deployment,
  ticket: Ticket,
  usage: Usage | undefined,
  failure: AttemptFailure | undefined,
  counted: boolean,
  sample?: LatencySample,
): Promise<void> {
  deps.metrics.released(deployment);
  if (usage) {
    record.promptTokens = usage.promptTokens;
    record.completionTokens = usage.completionTokens;
  }
  const tokens = usage ? usage.promptTokens + usage.completionTokens : failure ? 0 : ticket.tokens;
  const outcome = !counted ? 'none' : failure ? (isDeploymentFault(failure) ? 'failure' : 'none') : 'success';
  if (counted)
    deps.metrics.attempt(record, deployment, failure ? (failure.status ?? 502) : undefined, failure?.kind);
  // Spend: the real cost when the upstream said what it used; nothing for a failed call; the
  // reserved estimate otherwise (a stream the client left, an upstream that reports no usage).
  const cost = !ticket.accounts ? undefined : usage ? actualCost(deployment, usage) : failure ? 0 : undefined;
  if (
    ticket.accounts &&
    deployment.inputCostPerToken === undefined &&
    deployment.outputCostPerToken === undefined
  ) {
    warnUnpriced(deps, deployment);
  }
  const settled = deps.store.settle(ticket, tokens, outcome, cost, sample);
  // Once the slot is given back, the first request waiting for this group on this replica asks again.
  if (deps.queue) {
    const queue = deps.queue;
    settled.then(
      () => queue.notify(deployment.modelGroup),
      () => {},
    );
  }
  if (outcome !== 'failure' || !failure) {
    settled.catch((error: unknown) => deps.logger.debug({ msg: 'settle failed', err: String(error) }));
    return Promise.resolve();
  }
  // The cooldown decision waits for the minute's counts at most the Redis timeout: a settlement
  // Redis does not answer is sent again in the background, and the request does not wait for that.
  return within(settled, deps.config.redisCommandTimeoutMs)
    .then(async (counts) => {
      // Without counts (the store could not count it), the rules that need none still apply.
      const { failures, total } = counts ?? { failures: 1, total: 1 };
      const ms = decideCooldown(deps.cooldown, {
        failure,
        groupSize: deps.router.group(deployment.modelGroup)?.deployments.length ?? 1,
        failures,
        total,
        deploymentCooldownMs: deployment.cooldownTimeMs,
      });
      if (ms <= 0) return;
      await deps.store.coolDown(deps.router.subject(deployment).id, ms);
      deps.metrics.cooledDown(deployment, failure.status, ms);
      deps.logger.info({
        msg: 'deployment cooled down',
        model_id: deployment.id,
        model_group: deployment.modelGroup,
        status: failure.status,
        cooldown_ms: ms,
      });
    })
    .catch((error: unknown) => deps.logger.warn({ msg: 'failure bookkeeping failed', err: String(error) }));
}

/** The promise's value, or undefined if it takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

const unpriced = new Set<string>();

/** Once per deployment: spend cannot count what has no price. */
function warnUnpriced(deps: ProxyDeps, deployment: Deployment): void {
  if (unpriced.has(deployment.id)) return;
  unpriced.add(deployment.id);
  deps.logger.warn({
    msg: 'deployment has no input_cost_per_token/output_cost_per_token: virtual keys spend 0 on it',
    model_id: deployment.id,
    model_group: deployment.modelGroup,
  });
}
