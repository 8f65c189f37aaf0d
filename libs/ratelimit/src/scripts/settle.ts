import type { Geometry } from '../options.js';
import { NEXT_RESET_LUA } from './accounts.js';
import { windowPrelude } from './window.js';

/**
 * settle.lua — the end of one or more requests, in one call: correct each TPM reservation to what
 * the upstream really used, release in-flight leases, and count failures in the chosen deployment's
 * minute (admission already counted the call).
 *
 * ARGV[1] T tickets; then per ticket: S subjects, bucket of the reservation, token delta
 *   (actual - reserved), lease id, failed (1/0), account ('' = none, else
 *   'reserved cost:actual cost:budget period'), and per subject: has tpm (1/0), has parallel (1/0).
 * KEYS, ticket after ticket: the account record when there is one, then subject after subject: its
 *   window HASH (see window.ts), and its in-flight ZSET when it has a parallel limit.
 * An account's spend moves from the reserved cost to the actual one; if its budget period turned
 * since the reservation (the reset zeroed it), the new period is charged the actual cost.
 * Returns {failures, calls} of each ticket's chosen candidate in the current minute, flattened
 * (zeros for tickets that did not fail).
 *
 * The reservation is corrected where it lies: in the open bucket, or in a closed bucket's field
 * and the closed total. One whose bucket already left the counted span is not corrected: it no
 * longer counts. Settling never moves the open bucket; the next admission does that.
 */
export function settleScript(geo: Geometry): string {
  return `${windowPrelude(geo)}
${NEXT_RESET_LUA.trim()}
local out = {}
local a, k = 2, 1
for _ = 1, tonumber(ARGV[1]) do
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
  local fails, calls_now = 0, 0
  for s = 1, S do
    local key = KEYS[k]
    k = k + 1
    local has_tpm, has_par = ARGV[a] == '1', ARGV[a + 1] == '1'
    a = a + 2
    local fix = has_tpm and delta ~= 0 and bucket >= first
    local count = failed and s == 1
    if fix or count then
      local blob = call('HGET', key, 's')
      local tc, cb, cv, cool, nc, cn, m, calls, fail = 0, 0, 0, 0, 0, 0, 0, 0, 0
      if blob then tc, cb, cv, cool, nc, cn, m, calls, fail = sunpack(SF, blob) end
      if fix and blob then
        if bucket == cb then
          if cv + delta < 0 then cv = 0 else cv = cv + delta end
        elseif bucket < cb and bucket >= cb - K then
          local name = spack(BF, bucket % 4294967296)
          local x = call('HGET', key, name)
          local tk, rq = 0, 0
          if x then tk, rq = sunpack(RF, x) end
          local d = delta
          if tk + d < 0 then d = -tk end
          if d ~= 0 then
            call('HSET', key, name, spack(RF, tk + d, rq))
            tc = tc + d
            if tc < 0 then tc = 0 end
          end
        end
      end
      if count then
        if m == minute then
          fail = fail + 1
        else
          -- The call was counted in a minute that has passed; this failure opens the new one.
          m, calls, fail = minute, 1, 1
        end
        fails, calls_now = fail, calls
      end
      if blob or count then
        call('HSET', key, 's', spack(SF, tc, cb, cv, cool, nc, cn, m, calls, fail))
        if not blob then call('PEXPIRE', key, TTLS) end
      end
    end
    if has_par then
      call('ZREM', KEYS[k], lease)
      k = k + 1
    end
  end
  out[#out + 1] = fails
  out[#out + 1] = calls_now
end
return out
`;
}
