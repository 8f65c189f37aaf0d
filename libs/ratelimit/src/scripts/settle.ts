/**
 * settle.lua — the end of a request: correct the TPM reservation to what the upstream really used,
 * release the in-flight lease, and count the outcome of the chosen deployment in this minute.
 *
 * KEYS: two per reserved subject (chosen candidate first, then gates), then one:
 *   KEYS[2i-1] tpm ring (HASH, see admit.lua)   KEYS[2i] in-flight (ZSET)
 *   KEYS[2S+1] outcomes of the chosen candidate: HASH m (minute index), ok, fail
 * ARGV[1] S subjects  ARGV[2] bucket of the reservation  ARGV[3] token delta (actual - reserved)
 * ARGV[4] lease id  ARGV[5] window (ms)  ARGV[6] TPM bucket (ms)
 * ARGV[7] outcome: 1 success, 0 failure, -1 not counted (the client went away)
 * ARGV[8+2(i-1)], +1: subject i has a tpm limit (1/0), has a parallel limit (1/0)
 *
 * Returns {failures, calls} of the chosen candidate in the current minute.
 *
 * A reservation whose bucket already left the counted span is not corrected: it no longer counts.
 */
export const SETTLE_LUA = `
local S = tonumber(ARGV[1])
local bucket = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local lease = ARGV[4]
local W = tonumber(ARGV[5])
local B = tonumber(ARGV[6])
local outcome = tonumber(ARGV[7])
local K = math.ceil(W / B)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local first = math.floor(now / B) - K

for i = 1, S do
  local tpm_key = KEYS[2 * i - 1]
  local has_tpm = ARGV[8 + 2 * (i - 1)] == '1'
  local has_par = ARGV[9 + 2 * (i - 1)] == '1'
  if has_tpm and delta ~= 0 and bucket >= first then
    local c = tonumber(redis.call('HGET', tpm_key, 'c'))
    if not c and delta > 0 then
      -- The ring expired while the request ran (nothing else used the deployment); start it again.
      c = first
      redis.call('HSET', tpm_key, 'c', c)
    end
    if c and bucket >= c then
      local v = tonumber(redis.call('HGET', tpm_key, bucket)) or 0
      local d = delta
      if v + d < 0 then d = -v end
      if d ~= 0 then
        redis.call('HINCRBY', tpm_key, bucket, d)
        redis.call('HINCRBY', tpm_key, 't', d)
      end
      if redis.call('PTTL', tpm_key) < 0 then redis.call('PEXPIRE', tpm_key, (K + 2) * B) end
    end
  end
  if has_par then redis.call('ZREM', KEYS[2 * i], lease) end
end

local okey = KEYS[2 * S + 1]
local minute = math.floor(now / 60000)
if tonumber(redis.call('HGET', okey, 'm')) ~= minute then
  if outcome < 0 then return { 0, 0 } end
  redis.call('DEL', okey)
  redis.call('HSET', okey, 'm', minute)
end
if outcome >= 0 then
  redis.call('HINCRBY', okey, outcome == 1 and 'ok' or 'fail', 1)
  redis.call('PEXPIRE', okey, 120000)
end
local fail = tonumber(redis.call('HGET', okey, 'fail')) or 0
local ok = tonumber(redis.call('HGET', okey, 'ok')) or 0
return { fail, fail + ok }
`;
