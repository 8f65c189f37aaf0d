export {
  type AccountRecord,
  type AccountStore,
  addMonths,
  type BudgetEvery,
  type BudgetPeriod,
  type CreateAllResult,
  type CreateResult,
  type NewAccount,
  nextReset,
  type RekeyResult,
  type StoredAccount,
  type UpdateResult,
  type WriteOptions,
} from './accounts.js';
export { type CallOutcome, StoreCallError } from './call-outcome.js';
export {
  createMemoryFleetView,
  createRedisFleetView,
  type FleetView,
  type MemorySubjectState,
  type ReplicaView,
  type SubjectView,
} from './fleet-view.js';
export { createKeyLayout, type KeyLayout } from './keys.js';
export { type AccountCheck, MemoryAccounts } from './memory-accounts.js';
export { createMemoryStore, type MemoryFleetStore, type MemoryStoreOptions } from './memory-store.js';
export type { WindowOptions } from './options.js';
export { createRedisAccounts, type RedisAccountsOptions } from './redis-accounts.js';
export {
  createRedisStore,
  type RedisClient,
  type RedisFleetStore,
  type RedisStoreOptions,
  type StoreEvent,
  type WriteBack,
} from './redis-store.js';
export {
  createResilientStore,
  type Episode,
  type ResilientStore,
  type ResilientStoreOptions,
  shareOf,
} from './resilient-store.js';
export { INCR_LUA } from './scripts/small.js';
export type {
  AccountCharge,
  Admission,
  AdmitRequest,
  BlockReason,
  ChargedAccount,
  FleetStore,
  LatencySample,
  Limits,
  Outcome,
  OutcomeCounts,
  PickRule,
  StoreMode,
  Subject,
  SubjectState,
  Ticket,
  WindowState,
} from './types.js';
