export { type AttemptFailure, isDeploymentFault, isRetryable } from './attempt.js';
export { type CooldownInput, type CooldownPolicy, decideCooldown } from './cooldown.js';
export type { RoutableDeployment } from './deployment.js';
export { type Random, shuffleByWeight } from './shuffle.js';
