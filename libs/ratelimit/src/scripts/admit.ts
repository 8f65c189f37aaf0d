/**
 * admit.lua — one atomic admission: check every gate and the candidates in order, reserve in all
 * gates and the first candidate that is not cooling down and has room.
 *
 * KEYS: four per subject, the C candidates first, then the G gates:
 *   KEYS[4i-3] rpm log     LIST of admission times (ms, Redis clock), newest at the head
 *   KEYS[4i-2] tpm ring    HASH bucket index → tokens, plus 't' (tokens counted) and 'c' (oldest counted bucket)
 *   KEYS[4i-1] in-flight   ZSET lease id → lease expiry (ms)
 *   KEYS[4i]   cooldown    STRING whose TTL is the cooldown left (only read for candidates)
 * ARGV[1] C  ARGV[2] G  ARGV[3] tokens to reserve  ARGV[4] lease id
 * ARGV[5] window (ms)  ARGV[6] TPM bucket (ms)  ARGV[7] lease (ms)
 * ARGV[8+3(i-1)], +1, +2: subject i's rpm, tpm, max parallel (0 = unlimited)
 *
 * Returns {1, chosen candidate (1-based), bucket, then for the chosen candidate and each gate:
 *          rpm limit, rpm remaining, rpm reset ms, tpm limit, tpm remaining, tpm reset ms}
 *      or {0, reason, gate (1-based, 0 = none), retry after ms}
 *         reason 1 gate rpm, 2 gate tpm, 3 gate parallel, 4 every candidate cooling down, 5 no room
 *
 * RPM is an exact log: a request is admitted when fewer than rpm admissions happened in the last
 * window, so no rolling window ever holds more than rpm. TPM counts tokens in buckets and looks at
 * the current bucket plus the K = window/bucket before it, which always covers the last window
 * (a span of window..window+bucket), so it never over-admits either.
 */
export const ADMIT_LUA = `
local C = tonumber(ARGV[1])
local G = tonumber(ARGV[2])
local tokens = tonumber(ARGV[3])
local lease = ARGV[4]
local W = tonumber(ARGV[5])
local B = tonumber(ARGV[6])
local L = tonumber(ARGV[7])
local K = math.ceil(W / B)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local cur = math.floor(now / B)
local first = cur - K

local function limits(i)
  local a = 8 + 3 * (i - 1)
  return tonumber(ARGV[a]), tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
end

-- Drops admissions that left the window (oldest at the tail) and returns how many remain.
local function rpm_used(key)
  while true do
    local oldest = redis.call('LINDEX', key, -1)
    if not oldest or tonumber(oldest) > now - W then break end
    redis.call('RPOP', key)
  end
  return redis.call('LLEN', key)
end

-- One more request fits once the admission at index rpm-1 (0 = newest) leaves the window.
local function rpm_wait(key, rpm)
  local e = redis.call('LINDEX', key, rpm - 1)
  if not e then return 0 end
  return tonumber(e) + W - now
end

-- Forgets buckets older than the counted span and returns the tokens still counted.
local function tpm_used(key)
  local c = tonumber(redis.call('HGET', key, 'c'))
  if not c then return 0 end
  if c >= first then return tonumber(redis.call('HGET', key, 't')) or 0 end
  if first - c > K then
    redis.call('DEL', key)
    return 0
  end
  local total = tonumber(redis.call('HGET', key, 't')) or 0
  for b = c, first - 1 do
    local v = redis.call('HGET', key, b)
    if v then
      total = total - tonumber(v)
      redis.call('HDEL', key, b)
    end
  end
  redis.call('HSET', key, 'c', first, 't', total)
  return total
end

-- Walks the counted buckets oldest first until enough tokens would have left the window.
local function tpm_wait(key, tpm, used)
  local need = used + tokens - tpm
  for b = first, cur do
    local v = tonumber(redis.call('HGET', key, b))
    if v then
      need = need - v
      if need <= 0 then return (b + K + 1) * B - now end
    end
  end
  -- Larger than the whole limit: it never fits; one window is an honest "not soon".
  return W
end

local function inflight(key)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  return redis.call('ZCARD', key)
end

local used = {}

-- 0 when subject i has room, else a reason (1 rpm, 2 tpm, 3 parallel, 4 cooldown) and a wait in ms.
local function check(i, candidate)
  local k = 4 * (i - 1)
  local rpm, tpm, par = limits(i)
  if candidate then
    local ttl = redis.call('PTTL', KEYS[k + 4])
    if ttl > 0 then return 4, ttl end
  end
  local r, t = 0, 0
  if rpm > 0 then
    r = rpm_used(KEYS[k + 1])
    if r >= rpm then return 1, rpm_wait(KEYS[k + 1], rpm) end
  end
  if tpm > 0 then
    t = tpm_used(KEYS[k + 2])
    if t + tokens > tpm then return 2, tpm_wait(KEYS[k + 2], tpm, t) end
  end
  if par > 0 and inflight(KEYS[k + 3]) >= par then return 3, 1000 end
  used[i] = { r, t }
  return 0, 0
end

local function reserve(i, out)
  local k = 4 * (i - 1)
  local rpm, tpm, par = limits(i)
  local u = used[i]
  if rpm > 0 then
    -- Keep the log ordered even if the Redis clock steps back.
    local newest = tonumber(redis.call('LINDEX', KEYS[k + 1], 0))
    local stamp = now
    if newest and newest > stamp then stamp = newest end
    redis.call('LPUSH', KEYS[k + 1], stamp)
    redis.call('PEXPIRE', KEYS[k + 1], W)
    out[#out + 1] = rpm
    out[#out + 1] = math.max(rpm - u[1] - 1, 0)
    out[#out + 1] = stamp + W - now
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
  if tpm > 0 then
    if tokens > 0 then
      redis.call('HSETNX', KEYS[k + 2], 'c', first)
      redis.call('HINCRBY', KEYS[k + 2], cur, tokens)
      redis.call('HINCRBY', KEYS[k + 2], 't', tokens)
      redis.call('PEXPIRE', KEYS[k + 2], (K + 2) * B)
    end
    out[#out + 1] = tpm
    out[#out + 1] = math.max(tpm - u[2] - tokens, 0)
    out[#out + 1] = (cur + K + 1) * B - now
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
  if par > 0 then
    redis.call('ZADD', KEYS[k + 3], now + L, lease)
    redis.call('PEXPIRE', KEYS[k + 3], L)
  end
end

for g = 1, G do
  local reason, wait = check(C + g, false)
  if reason ~= 0 then return { 0, reason, g, wait } end
end

local chosen = nil
local soonest = nil
local cooling = 0
for i = 1, C do
  local reason, wait = check(i, true)
  if reason == 0 then
    chosen = i
    break
  end
  if reason == 4 then cooling = cooling + 1 end
  if soonest == nil or wait < soonest then soonest = wait end
end
if not chosen then
  if C > 0 and cooling == C then return { 0, 4, 0, soonest } end
  return { 0, 5, 0, soonest or 0 }
end

local out = { 1, chosen, cur }
reserve(chosen, out)
for g = 1, G do reserve(C + g, out) end
return out
`;
