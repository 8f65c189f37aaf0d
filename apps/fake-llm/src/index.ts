export type { BehaviourDescription } from './behaviour-table.js';
export type { ConfigDescription } from './core.js';
export { converseEvent, eventMessage } from './event-stream.js';
export {
  type Behaviour,
  ConfigError,
  type ConfigurePatch,
  DEFAULT_BEHAVIOUR,
  type FakeLlmOptions,
  type QuotaRule,
} from './options.js';
export { maxInAnyWindow, type PrefixCounts } from './quota.js';
export { createFakeLlm, type FakeLlm, type ListenAddress } from './server.js';
export type { FakeLlmStats, RecordedRequest } from './stats.js';
export { completionText, estimateTokens, VOCABULARY } from './tokens.js';
