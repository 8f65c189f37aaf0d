export { createKeyLayout, type KeyLayout } from './keys.js';
export { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
export type { WindowOptions } from './options.js';
export {
  createRedisStore,
  type RedisClient,
  type RedisFleetStore,
  type RedisStoreOptions,
} from './redis-store.js';
export {
  createResilientStore,
  type ResilientStore,
  type ResilientStoreOptions,
  shareOf,
} from './resilient-store.js';
export { INCR_LUA } from './scripts/small.js';
export type {
  Admission,
  AdmitRequest,
  BlockReason,
  FleetStore,
  Limits,
  Outcome,
  OutcomeCounts,
  StoreMode,
  Subject,
  SubjectState,
  Ticket,
  WindowState,
} from './types.js';
