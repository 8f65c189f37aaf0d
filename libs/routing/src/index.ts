export { type AttemptFailure, isDeploymentFault, isRetryable } from './attempt.js';
export { type CooldownInput, type CooldownPolicy, decideCooldown } from './cooldown.js';
export type { RoutableDeployment } from './deployment.js';
export { type ClassPolicy, ERROR_CLASSES, type ErrorClass, errorClass, policyCount } from './error-class.js';
export {
  type FallbackKind,
  type FallbackPolicy,
  fallbackChain,
  fallbackKind,
  NO_FALLBACKS,
} from './fallbacks.js';
export {
  buildModelGroups,
  type GroupableDeployment,
  type GroupSettings,
  groupDeployments,
  type ModelGroup,
  type ModelGroups,
  type Route,
} from './model-groups.js';
export {
  compilePatterns,
  fillPattern,
  isPattern,
  type ModelPattern,
  matchPattern,
  type PatternMatch,
} from './model-pattern.js';
export { type RetryDelayInput, retryDelayMs } from './retry-delay.js';
export { orderByCost, type Random, shuffleByWeight } from './shuffle.js';
export {
  type FleetPick,
  routeOrder,
  type Strategy,
  type StrategyName,
  samplesLatency,
  tracksInFlight,
} from './strategy.js';
