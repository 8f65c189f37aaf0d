import type { Geometry } from '../options.js';
import { ACCOUNT_FMT, ACCOUNT_LEGACY_LUA } from './account-state.js';
import { NEXT_RESET_LUA } from './accounts.js';
import { windowPrelude } from './window.js';

/**
 * writeback.lua — what a replica admitted while Redis was away (or, when Redis lost its data, all it
 * admitted in the last window), added into the shared state when Redis answers again: requests and
 * tokens into the windows' buckets where they were admitted (buckets that have left the span are
 * skipped: they no longer count), the leases of those requests still in flight, and their spend.
 *
 * KEYS[1] the records of this replica's calls in this second, ARGV[1] the call's id (a write-back
 *   sent twice is applied once: the second finds its record and returns what the first answered).
 * KEYS from 2: W window HASHes (window.ts), then I in-flight ZSETs, then A account records.
 * ARGV[2] W, I, A as 12 hex digits each; then
 *   per window: 12-hex-digit numbers: n, then n triples bucket, requests, tokens;
 *   per in-flight set: the number of leases, then the lease ids;
 *   per account: the spend to add (USD, decimal).
 * Returns Redis's clock (ms), then each account's budget period (its reset_at, 0 = none, -1 = no
 * such account), as little-endian doubles.
 *
 * The open-bucket step is the admission's (admit.lua), written as a function here: write-backs are
 * rare, and admission keeps it inline because a function call costs every admission.
 */
export function writebackScript(geo: Geometry, recordTtlMs: number): string {
  return `${windowPrelude(geo)}
local done = call('HGET', KEYS[1], ARGV[1])
if done then return done end
local AF = '${ACCOUNT_FMT}'
${NEXT_RESET_LUA.trim()}
${ACCOUNT_LEGACY_LUA.trim()}
local sub = string.sub

-- A window's state with its open bucket moved to now (closing the old one, forgetting what left).
local function opened(key)
  local blob = call('HGET', key, 's')
  local tc, cb, cv, cool, nc, cn, m, calls, fail = 0, 0, 0, 0, 0, 0, 0, 0, 0
  if blob then tc, cb, cv, cool, nc, cn, m, calls, fail = sunpack(SF, blob) end
  if cb ~= cur then
    if cur - cb > K then
      if blob then call('DEL', key) end
      tc, nc = 0, 0
    else
      if first > cb - K then
        local names = {}
        for b = cb - K, first - 1 do names[#names + 1] = spack(BF, b % 4294967296) end
        local got = call('HMGET', key, tunpack(names))
        for j = 1, #names do
          if got[j] then
            local x, y = sunpack(RF, got[j])
            tc, nc = tc - x, nc - y
          end
        end
        call('HDEL', key, tunpack(names))
      end
      if cv > 0 or cn > 0 then
        call('HSET', key, spack(BF, cb % 4294967296), spack(RF, cv, cn))
        tc, nc = tc + cv, nc + cn
      end
      if tc < 0 then tc = 0 end
      if nc < 0 then nc = 0 end
    end
    cb, cv, cn = cur, 0, 0
  end
  return tc, cb, cv, cool, nc, cn, m, calls, fail
end

local head = ARGV[2]
local nw, ni, na = tonumber(sub(head, 1, 12), 16), tonumber(sub(head, 13, 24), 16), tonumber(sub(head, 25, 36), 16)
local a = 3
for w = 1, nw do
  local key, n = KEYS[1 + w], ARGV[a]
  a = a + 1
  local tc, cb, cv, cool, nc, cn, m, calls, fail = opened(key)
  for j = 0, tonumber(sub(n, 1, 12), 16) - 1 do
    local at = 13 + 36 * j
    local b = tonumber(sub(n, at, at + 11), 16)
    local r, t = tonumber(sub(n, at + 12, at + 23), 16), tonumber(sub(n, at + 24, at + 35), 16)
    if b >= cur then
      cv, cn = cv + t, cn + r
    elseif b >= first then
      local name = spack(BF, b % 4294967296)
      local x = call('HGET', key, name)
      local tk, rq = 0, 0
      if x then tk, rq = sunpack(RF, x) end
      call('HSET', key, name, spack(RF, tk + t, rq + r))
      tc, nc = tc + t, nc + r
    end
  end
  call('HSET', key, 's', spack(SF, tc, cb, cv, cool, nc, cn, m, calls, fail))
  if cool - now > TTL then call('PEXPIRE', key, cool - now) else call('PEXPIRE', key, TTLS) end
end
for i = 1, ni do
  local key, count = KEYS[1 + nw + i], tonumber(ARGV[a])
  for j = 1, count do call('ZADD', key, now + L, ARGV[a + j]) end
  call('PEXPIRE', key, LEASES)
  a = a + 1 + count
end
local out = { spack('<d', now) }
for i = 1, na do
  local akey = KEYS[1 + nw + ni + i]
  local add = tonumber(ARGV[a])
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
      reset_at = next_reset(reset_at, every_ms > 0 and every_ms or nil, every_mo > 0 and every_mo or nil, now)
      spend = 0
    end
    call('HSET', akey, 'a', spack(AF, spend + add, blocked, expires, budget, reset_at, every_ms, every_mo))
    out[#out + 1] = spack('<d', reset_at)
  else
    out[#out + 1] = spack('<d', -1)
  end
end
local reply = table.concat(out)
call('HSET', KEYS[1], ARGV[1], reply)
call('PEXPIRE', KEYS[1], '${recordTtlMs}')
return reply
`;
}
