import type { Geometry } from '../options.js';
import { NEXT_RESET_LUA } from './accounts.js';
import { stateTtl } from './admit.js';

/**
 * settle.lua — the end of one or more requests, in one call: correct each TPM reservation to what
 * the upstream really used, release in-flight leases, and count failures in the chosen deployment's
 * minute (admission already counted the call).
 *
 * ARGV[1] T tickets; then per ticket: S subjects, bucket of the reservation, token delta
 *   (actual - reserved), lease id, failed (1/0), account ('' = none, else
 *   'reserved cost:actual cost:budget period'), and per subject: has tpm (1/0), has parallel (1/0).
 * KEYS, ticket after ticket: the account record when there is one, then subject after subject: the
 *   state HASH (see admit.lua), the ring HASH when the subject has a tpm limit, the in-flight ZSET
 *   when it has a parallel limit.
 * An account's spend moves from the reserved cost to the actual one; if its budget period turned
 * since the reservation (the reset zeroed it), the new period is charged the actual cost.
 * Returns {failures, calls} of each ticket's chosen candidate in the current minute, flattened
 * (zeros for tickets that did not fail).
 *
 * A reservation whose bucket already left the counted span is not corrected: it no longer counts.
 */
export function settleScript(geo: Geometry): string {
  return `
local B, K = ${geo.bucketMs}, ${geo.k}
local STATE_TTL, RING_TTL = ${stateTtl(geo)}, ${(geo.k + 2) * geo.bucketMs}
local call, tonumber = redis.call, tonumber
local time = call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local first = math.floor(now / B) - K
local minute = math.floor(now / 60000)
${NEXT_RESET_LUA.trim()}
local out = {}
local a, k = 2, 1
for t = 1, tonumber(ARGV[1]) do
  local S = tonumber(ARGV[a])
  local bucket = tonumber(ARGV[a + 1])
  local delta = tonumber(ARGV[a + 2])
  local lease = ARGV[a + 3]
  local failed = ARGV[a + 4] == '1'
  local account = ARGV[a + 5]
  a = a + 6
  if account ~= '' then
    local reserved, actual, period = string.match(account, '^([^:]+):([^:]+):(%d+)$')
    local akey = KEYS[k]
    k = k + 1
    local got = call('HMGET', akey, 'spend', 'reset_at', 'every_ms', 'every_mo')
    local spend = tonumber(got[1])
    if spend then
      local reset_at = tonumber(got[2])
      if reset_at and now >= reset_at then
        -- A reset fell due while the request ran: apply it first, as admission would.
        reset_at = next_reset(reset_at, tonumber(got[3]), tonumber(got[4]), now)
        spend = 0
        call('HSET', akey, 'spend', 0, 'reset_at', reset_at)
      end
      local d = tonumber(actual)
      if (reset_at or 0) == tonumber(period) then d = d - tonumber(reserved) end
      if spend + d < 0 then d = -spend end
      if d ~= 0 then call('HINCRBYFLOAT', akey, 'spend', d) end
    end
  end
  local fails, calls = 0, 0
  for s = 1, S do
    local state = KEYS[k]
    k = k + 1
    local has_tpm, has_par = ARGV[a] == '1', ARGV[a + 1] == '1'
    a = a + 2
    local ring = false
    if has_tpm then
      ring = KEYS[k]
      k = k + 1
    end
    if has_tpm and delta ~= 0 and bucket >= first then
      local got = call('HMGET', state, 'c', 't', 'cb', 'cv')
      local c, total, cb, cv = tonumber(got[1]), tonumber(got[2]) or 0, tonumber(got[3]), tonumber(got[4]) or 0
      if not c and delta > 0 then
        -- The state expired while the request ran (nothing else used the deployment): start again.
        call('HSET', state, 'c', first, 't', 0, 'cb', bucket, 'cv', 0)
        if call('PTTL', state) < STATE_TTL then call('PEXPIRE', state, STATE_TTL) end
        c, total, cb, cv = first, 0, bucket, 0
      end
      if c and bucket >= c then
        if cb == bucket then
          -- Still the state's own bucket.
          local d = delta
          if cv + d < 0 then d = -cv end
          if d ~= 0 then call('HSET', state, 'cv', cv + d, 't', total + d) end
        else
          local x = tonumber(call('HGET', ring, bucket)) or 0
          local d = delta
          if x + d < 0 then d = -x end
          if d ~= 0 then
            call('HSET', ring, bucket, x + d)
            if x == 0 then call('PEXPIRE', ring, RING_TTL) end
            call('HSET', state, 't', total + d)
          end
        end
      end
    end
    if has_par then
      call('ZREM', KEYS[k], lease)
      k = k + 1
    end
    if failed and s == 1 then
      local got = call('HMGET', state, 'm', 'calls')
      if tonumber(got[1]) == minute then
        fails = call('HINCRBY', state, 'fail', 1)
        calls = tonumber(got[2]) or 1
      else
        call('HSET', state, 'm', minute, 'calls', 1, 'fail', 1)
        fails, calls = 1, 1
      end
      if call('PTTL', state) < STATE_TTL then call('PEXPIRE', state, STATE_TTL) end
    end
  end
  out[#out + 1] = fails
  out[#out + 1] = calls
end
return out
`;
}
