import type { Geometry } from '../options.js';
import { ACCOUNT_FMT, ACCOUNT_LEGACY_LUA } from './account-state.js';
import { NEXT_RESET_LUA } from './accounts.js';
import { LATENCY_FMT } from './rank.js';
import { DELTA_OFFSET, windowPrelude } from './window.js';

/**
 * settle.lua — the end of a batch of requests, summed per thing touched (settle-batcher.ts): correct
 * TPM reservations to what the upstreams really used, count failures in the chosen deployments'
 * minutes (admission already counted the calls), release in-flight leases, move accounts' spend
 * from the reserved estimates to the real costs.
 *
 * KEYS[1] the records of this replica's calls in this second (keys.ts): the call's field is set
 *   first with HSETNX, so a settlement sent again (its first send's outcome unknown) is applied
 *   once — a second run finds the field and changes nothing.
 * KEYS from 2: W window HASHes (see window.ts), then I in-flight ZSETs, then A account records.
 * ARGV[1] the call's id, prefixed with '!' when this call gives KEYS[1] its TTL (see admit.lua).
 * ARGV[2] W, I, A as 12 hex digits each; then
 *   per window: one argument of 12-hex-digit numbers: failures, n, m, then n pairs of bucket and
 *     token delta (actual − reserved, summed over the batch) plus 2^47, then m pairs of bucket and
 *     requests to give back (admissions that were never used: their outcome came too late), then
 *     optionally latency samples: how many latencies per output token and their sum (µs), how many
 *     times to first token and their sum (µs), and the moving average's alpha × 10⁶;
 *   per in-flight set: the number of leases, then the lease ids;
 *   per account: 'reserved:actual:period;' for each budget period the batch reserved in (period -1:
 *     an adopted ticket, nothing reserved in Redis — the actual cost is charged in full).
 * Returns {failures, calls} of each window's current minute (zeros for windows without failures);
 * {} when the call had already run.
 *
 * A correction lands where the reservation lies: in the open bucket, or in a closed bucket's field
 * and the closed total; one whose bucket already left the counted span is dropped (it no longer
 * counts). Settling never moves the open bucket; the next admission does that. An account's spend
 * moves from the reserved cost to the actual one; if its budget period turned since the
 * reservation (the reset zeroed it), the new period is charged the actual cost. An account's spend
 * is in its packed state, field 'a' (account-state.ts).
 *
 * Latency samples move the window's field 'l' (LATENCY_FMT: latency per token, when, time to first
 * token, when): an exponential moving average, n samples of mean x at once as
 * avg + (1 − (1 − alpha)^n)(x − avg); the first sample sets it. admit.lua's pick rule reads it.
 */
export function settleScript(geo: Geometry, recordTtlMs: number): string {
  return `${windowPrelude(geo)}
if call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return {} end
if string.byte(ARGV[1], 1) == 33 then call('PEXPIRE', KEYS[1], '${recordTtlMs}') end
local AF = '${ACCOUNT_FMT}'
${NEXT_RESET_LUA.trim()}
${ACCOUNT_LEGACY_LUA.trim()}
local sub = string.sub
local head = ARGV[2]
local nw, ni, na = tonumber(sub(head, 1, 12), 16), tonumber(sub(head, 13, 24), 16), tonumber(sub(head, 25, 36), 16)
local out = {}
local a = 3
for w = 1, nw do
  local key, n = KEYS[w + 1], ARGV[a]
  a = a + 1
  local failures, fixes, gives = tonumber(sub(n, 1, 12), 16), tonumber(sub(n, 13, 24), 16), tonumber(sub(n, 25, 36), 16)
  local blob = call('HGET', key, 's')
  local tc, cb, cv, cool, nc, cn, m, calls, fail = 0, 0, 0, 0, 0, 0, 0, 0, 0
  if blob then tc, cb, cv, cool, nc, cn, m, calls, fail = sunpack(SF, blob) end
  if blob then
    for j = 0, fixes - 1 do
      local at = 37 + 24 * j
      local bucket = tonumber(sub(n, at, at + 11), 16)
      local delta = tonumber(sub(n, at + 12, at + 23), 16) - ${DELTA_OFFSET}
      if bucket >= first then
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
    end
    -- Requests given back: admissions whose reply came after their request was refused.
    for j = 0, gives - 1 do
      local at = 37 + 24 * fixes + 24 * j
      local bucket, count = tonumber(sub(n, at, at + 11), 16), tonumber(sub(n, at + 12, at + 23), 16)
      if bucket == cb then
        cn = cn > count and cn - count or 0
      elseif bucket < cb and bucket >= cb - K and bucket >= first then
        local name = spack(BF, bucket % 4294967296)
        local x = call('HGET', key, name)
        if x then
          local tk, rq = sunpack(RF, x)
          local c = rq > count and count or rq
          call('HSET', key, name, spack(RF, tk, rq - c))
          nc = nc > c and nc - c or 0
        end
      end
    end
  end
  local tail = 37 + 24 * fixes + 24 * gives
  if #n > tail then
    local nl, sl, nt, st = tonumber(sub(n, tail, tail + 11), 16), tonumber(sub(n, tail + 12, tail + 23), 16), tonumber(sub(n, tail + 24, tail + 35), 16), tonumber(sub(n, tail + 36, tail + 47), 16)
    local alpha = tonumber(sub(n, tail + 48, tail + 59), 16) / 1000000
    local lb = call('HGET', key, 'l')
    local lat, lat_at, ttft, ttft_at = 0, 0, 0, 0
    if lb then lat, lat_at, ttft, ttft_at = sunpack('${LATENCY_FMT}', lb) end
    if nl > 0 then
      local x = sl / nl / 1000
      if lat_at == 0 then lat = x else lat = lat + (1 - (1 - alpha) ^ nl) * (x - lat) end
      lat_at = now
    end
    if nt > 0 then
      local x = st / nt / 1000
      if ttft_at == 0 then ttft = x else ttft = ttft + (1 - (1 - alpha) ^ nt) * (x - ttft) end
      ttft_at = now
    end
    call('HSET', key, 'l', spack('${LATENCY_FMT}', lat, lat_at, ttft, ttft_at))
    if not blob and failures == 0 then call('PEXPIRE', key, TTLS) end
  end
  if failures > 0 then
    if m == minute then
      fail = fail + failures
    else
      -- The calls were counted in a minute that has passed; these failures open the new one.
      m, calls, fail = minute, 0, failures
    end
    -- A failed call is a call, even one admitted in the minute before.
    if calls < fail then calls = fail end
    out[2 * w - 1], out[2 * w] = fail, calls
  else
    out[2 * w - 1], out[2 * w] = 0, 0
  end
  if blob or failures > 0 then
    call('HSET', key, 's', spack(SF, tc, cb, cv, cool, nc, cn, m, calls, fail))
    -- Failures must outlive their minute, even in a hash that has had no admission for a while.
    if failures > 0 and call('PTTL', key) < TTL then call('PEXPIRE', key, TTLS) end
  end
end
for i = 1, ni do
  local count = tonumber(ARGV[a])
  call('ZREM', KEYS[1 + nw + i], unpack(ARGV, a + 1, a + count))
  a = a + 1 + count
end
for i = 1, na do
  local akey = KEYS[1 + nw + ni + i]
  local groups = ARGV[a]
  a = a + 1
  local ab = call('HGET', akey, 'a')
  local spend, blocked, expires, budget, reset_at, every_ms, every_mo
  if ab then
    spend, blocked, expires, budget, reset_at, every_ms, every_mo = sunpack(AF, ab)
  else
    spend, blocked, expires, budget, reset_at, every_ms, every_mo = legacy_account(akey)
  end
  if spend then
    if reset_at > 0 and now >= reset_at then
      -- A reset fell due while the requests ran: apply it first, as admission would.
      reset_at = next_reset(reset_at, every_ms > 0 and every_ms or nil, every_mo > 0 and every_mo or nil, now)
      spend = 0
    end
    local d = 0
    -- A period of -1 (a ticket adopted after a local episode: nothing reserved in Redis) never
    -- matches: the actual cost is charged in full.
    for reserved, actual, period in string.gmatch(groups, '([^:;]+):([^:;]+):([^:;]+);') do
      d = d + tonumber(actual)
      if reset_at == tonumber(period) then d = d - tonumber(reserved) end
    end
    if spend + d < 0 then d = -spend end
    call('HSET', akey, 'a', spack(AF, spend + d, blocked, expires, budget, reset_at, every_ms, every_mo))
  end
end
return out
`;
}
