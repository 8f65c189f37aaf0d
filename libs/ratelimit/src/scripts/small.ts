import { STATE_FMT } from './window.js';

/**
 * cooldown.lua — cools a deployment down, never shortening a cooldown already running.
 * KEYS[1] the deployment's window HASH (see window.ts): the state's 'cool' = when the cooldown ends
 *   (ms, Redis clock); the hash's TTL is stretched to outlive it. A state this script creates has
 *   open bucket 0, so the next admission starts its windows afresh.
 * ARGV[1] cooldown (ms)
 * Returns the cooldown left afterwards (ms).
 */
export const COOLDOWN_LUA = `
local SF = '${STATE_FMT}'
local ms = tonumber(ARGV[1])
local time = redis.call('TIME')
local now = time[1] * 1000 + math.floor(time[2] / 1000)
local blob = redis.call('HGET', KEYS[1], 's')
local tc, cb, cv, cool, nc, cn, m, calls, fail = 0, 0, 0, 0, 0, 0, 0, 0, 0
if blob then tc, cb, cv, cool, nc, cn, m, calls, fail = struct.unpack(SF, blob) end
if cool >= now + ms then return cool - now end
redis.call('HSET', KEYS[1], 's', struct.pack(SF, tc, cb, cv, now + ms, nc, cn, m, calls, fail))
if redis.call('PTTL', KEYS[1]) < ms then redis.call('PEXPIRE', KEYS[1], ms) end
return ms
`;

/**
 * heartbeat.lua — a replica announces itself; returns how many replicas are alive, this Redis's
 * epoch and its clock.
 * KEYS[1] replicas ZSET replica id → expiry (ms, Redis clock)
 * KEYS[2] epoch STRING: set once by the first caller (ARGV[3]) and kept; a Redis that restarted
 *   without its data has none, so the next heartbeat sets a new one and every replica learns that
 *   the windows it remembers are gone from Redis.
 * ARGV[1] replica id   ARGV[2] time to live (ms)   ARGV[3] an epoch to set when there is none
 * Returns {live replicas, epoch, now (ms)}.
 */
export const HEARTBEAT_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[2], epoch)
end
return { redis.call('ZCARD', KEYS[1]), epoch, now }
`;

/**
 * resolve.lua — what became of a call whose reply never came (its connection closed, or it outlived
 * the client's patience): its record if it ran; if it did not, a tombstone ('') so that it never
 * will (a copy still in flight finds the record and changes nothing).
 * KEYS[1] the records of the call's second   ARGV[1] the call's id   ARGV[2] record TTL (ms)
 * Returns the record, or nil when the call had not run.
 */
export const RESOLVE_LUA = `
local done = redis.call('HGET', KEYS[1], ARGV[1])
if done then return done end
redis.call('HSET', KEYS[1], ARGV[1], '')
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return false
`;
/**
 * renew.lua — extends the leases of requests still in flight, so only a dead replica's leases expire.
 * KEYS[i] in-flight ZSET   ARGV[1] lease (ms)   ARGV[i+1] lease id held in KEYS[i]
 * Returns how many leases were still there to renew.
 */
export const RENEW_LUA = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local L = tonumber(ARGV[1])
local renewed = 0
for i = 1, #KEYS do
  renewed = renewed + redis.call('ZADD', KEYS[i], 'XX', 'CH', now + L, ARGV[i + 1])
  redis.call('PEXPIRE', KEYS[i], L)
end
return renewed
`;

/** A trivial INCR + PEXPIRE script: the yardstick the admission benchmark compares against. */
export const INCR_LUA = `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return n
`;
