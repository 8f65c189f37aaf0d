import type { Geometry } from '../options.js';
import { ACCOUNT_FMT, ACCOUNT_LEGACY_LUA } from './account-state.js';
import { NEXT_RESET_LUA } from './accounts.js';
import { RANK_LUA } from './rank.js';
import { flightsLua, SLICE_FMT, stateLua, windowPrelude } from './window.js';

/** A reservation's lease in the in-flight set ikey, whose count the walk has read (flightsLua). */
const LEASE_LUA = `
flights[ikey] = flights[ikey] + 1
local l = added[ikey]
if not l then l = {}; added[ikey] = l; addedKeys[#addedKeys + 1] = ikey end
l[#l + 1] = now + L
l[#l + 1] = lease
`;

/**
 * admit.lua — a batch of admissions, each atomic and each seeing the ones before it: for each,
 * check every gate, then the candidates in order, and reserve in all gates and the first candidate
 * that is not cooling down and has room. The admissions of one event-loop tick share a call
 * (admit-batcher.ts), so Redis and ioredis pay their per-call costs once for many requests.
 *
 * ARGV from 2: three arguments per admission:
 *   its numbers, each as 12 hex digits (integers parse from hex with strtoul, far cheaper than
 *     strtod): how many KEYS it uses, C candidates, G gates, the tokens to reserve, then per
 *     subject (the G gates, then the C candidates) its limits rpm, tpm, parallel (0 = unlimited;
 *     the store caches each subject's 36 characters); then, only when a subject has a slice limit,
 *     'S' and per subject its slice (0 = none, else the slice's length in ms × 2^24 + the requests
 *     it may hold), so admissions without one pay nothing for it;
 *     and, when the admission has a pick rule (rank.ts), the rule after the limits;
 *   its lease id ('' when no subject has a parallel limit);
 *   its accounts' estimated costs, space-separated, one per account ('' = none); a cost prefixed
 *     with '~' charges an account whose budget may not refuse the request (a user's, through a
 *     team key).
 * KEYS[1] the records of this replica's calls in this second (keys.ts): a HASH, call → what the
 *   call answered. Read first — a call that already ran (resent, or late after its outcome was
 *   resolved) returns what it answered then, and a resolved call that never ran finds '' and
 *   changes nothing; written with the reply at the end when the call admitted anything (a call
 *   that only refused has nothing to give back) or gives the hash its TTL.
 * ARGV[1] the call, which is also its field in KEYS[1]: the number of admissions R (4 hex digits),
 *   then '!' when this call gives the hash its TTL (the record TTL: the first call of each second,
 *   and one after a failed call) else ':', then the call's id (call-records.ts).
 * KEYS from 2, admission after admission: its account records (a key, its team, its user; each must exist,
 *   not be blocked or expired, and be under budget — a due budget reset is applied first; on
 *   admission the cost is added to each one's spend; the state is the record's packed field 'a',
 *   see account-state.ts), then per subject its window HASH (see window.ts) and, when
 *   parallel > 0, its in-flight ZSET (lease id → lease expiry, ms).
 *
 * Returns, admission after admission, the count n of its reply's doubles (a double) and then the
 * reply: n little-endian doubles (bytes, like the arguments: a table reply costs Redis a conversion
 * per element):
 *         1, chosen candidate (1-based), bucket, then for the chosen candidate and each gate:
 *          rpm limit, rpm remaining, rpm reset ms, tpm limit, tpm remaining, tpm reset ms,
 *          and per account its spend after the reservation and its budget period (reset_at)
 *      or 0, reason, gate or account (1-based, 0 = none), retry after ms[, spend, budget or expiry]
 *         reason 1 gate rpm (or its slice), 2 gate tpm, 3 gate parallel, 4 every candidate cooling
 *         down, 5 no room,
 *         6 account missing, 7 blocked, 8 expired, 9 over budget
 *
 * Requests and tokens are both counted in buckets: the open one plus the K = ceil(window ÷ bucket)
 * before it, a span of window..window + bucket that always covers the last window, so neither
 * limit is ever exceeded in any rolling window. Each admission also counts a call in the chosen
 * candidate's minute, the denominator of LiteLLM's failure-ratio rule.
 *
 * With a pick rule, the candidates are first ranked by shared state (rank.ts: in-flight counts,
 * window fill or latency averages, within tiers) and walked in that order; the reply still names
 * the chosen candidate by its place in the arguments.
 *
 * Written for speed and measured with callgrind (bench/README.md): the walk stops at the first
 * candidate with room, so later candidates cost only their arguments. A subject's packed state (and
 * an account's) is read with one HGET the first time the call looks at it and written with one HSET
 * at the end, so the admissions of a batch that share a deployment, a key's window or an account
 * share those two commands — a redis.call's fixed cost was what an admission cost most; an
 * in-flight set is likewise counted once per call (flightsLua) and given the call's new leases in
 * one ZADD at its end. No number is turned into text on that path, and only the request's own
 * arguments are parsed from it. When the open bucket changes (twice a second at most, per subject)
 * the bucket joins the closed ones and those that left the span are forgotten. Retry-after is only
 * worked out, on the slow path, when nothing fits.
 */
export function admitScript(geo: Geometry, recordTtlMs: number): string {
  return `${windowPrelude(geo)}
local done = call('HGET', KEYS[1], ARGV[1])
if done then return done end
local sub = string.sub
local AF, QF = '${ACCOUNT_FMT}', '${SLICE_FMT}'
${NEXT_RESET_LUA.trim()}
${ACCOUNT_LEGACY_LUA.trim()}

-- The batch: each admission in turn (so each sees the ones before it), in a loop rather than a
-- function (a closure over the prelude would cost every call its upvalues); an admission ends by
-- setting its packed reply — how many doubles follow, then the doubles — and breaking out of its
-- repeat block. The replies are concatenated.
local replies = {}
local made = string.byte(ARGV[1], 5) == 33
-- The window and account states this call has read, by key (window.ts, stateLua; the account loop
-- below), and the keys whose state changed: each read once, written once at the end. Likewise the
-- in-flight sets: flights[key] the leases in it (expired ones removed when first counted), and the
-- leases this call added, per set, added with one ZADD at the end.
local states, accounts, changed = {}, nil, {}
local flights, added, addedKeys = nil, nil, nil
local k0, ai = 2, 2
for n = 1, tonumber(sub(ARGV[1], 1, 4), 16) do
  local A, lease, costarg = ARGV[ai], ARGV[ai + 1], ARGV[ai + 2]
  local reply
  repeat
    local C, G, tokens = tonumber(sub(A, 13, 24), 16), tonumber(sub(A, 25, 36), 16), tonumber(sub(A, 37, 48), 16)

    -- The accounts first: a key (or its team, or its user) that may not spend refuses the request
    -- before any window is touched. Each one's state (account-state.ts) is read once per call into
    -- accounts (key → the seven ACCOUNT_FMT fields, then whether the call changed it; false: no such
    -- account) and written once at the end; ac keeps, per account of this admission, its cost and
    -- its state, for the charge below.
    local na, ac = 0, nil
    if costarg ~= '' then
      ac = {}
      local pos = 1
      while pos do
        local sp = string.find(costarg, ' ', pos, true)
        local cost = sp and sub(costarg, pos, sp - 1) or sub(costarg, pos)
        pos = sp and sp + 1
        na = na + 1
        local enforce = true
        if sub(cost, 1, 1) == '~' then cost, enforce = sub(cost, 2), false end
        local akey = KEYS[k0 + na - 1]
        if not accounts then accounts = {} end
        local a = accounts[akey]
        if a == nil then
          local ab = call('HGET', akey, 'a')
          a = { false, false, false, false, false, false, false, false }
          if ab then
            a[1], a[2], a[3], a[4], a[5], a[6], a[7] = sunpack(AF, ab)
          else
            a[1], a[2], a[3], a[4], a[5], a[6], a[7] = legacy_account(akey)
            if not a[1] then a = false end
          end
          accounts[akey] = a
        end
        if not a then reply = spack('<ddddd', 4, 0, 6, na, 0) break end
        if a[2] == 1 then reply = spack('<ddddd', 4, 0, 7, na, 0) break end
        if a[3] > 0 and now >= a[3] then reply = spack('<ddddddd', 6, 0, 8, na, 0, 0, a[3]) break end
        if a[5] > 0 and now >= a[5] then
          a[5] = next_reset(a[5], a[6] > 0 and a[6] or nil, a[7] > 0 and a[7] or nil, now)
          a[1] = 0
          if not a[8] then a[8] = true; changed[#changed + 1] = akey end
        end
        if enforce and a[4] >= 0 and a[1] >= a[4] then reply = spack('<ddddddd', 6, 0, 9, na, 0, a[1], a[4]) break end
        ac[2 * na - 1], ac[2 * na] = tonumber(cost), a
      end
      if reply then break end
    end

    -- Walk: gates, then candidates, until a gate lacks room or a candidate has it. The subject being
    -- looked at lives in these locals (so the chosen candidate, always the last one looked at, needs
    -- no table, and a walk that meets no gate and refuses nothing makes none); seen[i] keeps what
    -- the rest of the admission needs of subject i: for a gate with room, key, in-flight key, rpm,
    -- tpm, parallel, its slice ring and its state (stateLua); for a refused one, key, in-flight key,
    -- rpm, tpm, parallel, the nine state fields, why (1 rpm, 2 tpm, 3 parallel, 4 cooling down, 6 its
    -- slice) and its slice ring (or, refused by its slice, when the slice frees).
    local key, ikey, r, t, p, tc, cb, cv, cool, nc, cn, m, calls, fail, q, st
    local seen = nil
    local chosen, refusing = nil, nil
    local kn = k0 + na
    local ord, kp = nil, nil
    -- Optional sections after the limits: 'S' and every subject's slice, then a pick rule.
    local slices = nil
    local base = 49 + 36 * (G + C)
    if #A >= base then
      if sub(A, base, base) == 'S' then slices, base = base - 11, base + 1 + 12 * (G + C) end
      if #A >= base then
        ${RANK_LUA.trim()}
      end
    end
    for i = 1, G + C do
      -- s: the subject looked at (its place in the arguments); i is its place in the walk.
      local s = i
      if ord and i > G then s = ord[i - G] end
      local at = 13 + 36 * s
      r, t, p = tonumber(sub(A, at, at + 11), 16), tonumber(sub(A, at + 12, at + 23), 16), tonumber(sub(A, at + 24, at + 35), 16)
      local sl = slices and tonumber(sub(A, slices + 12 * s, slices + 12 * s + 11), 16) or 0
      if kp then
        key, ikey = KEYS[kp[s]], p > 0 and KEYS[kp[s] + 1]
      else
        key, ikey = KEYS[kn], false
        if p > 0 then ikey = KEYS[kn + 1]; kn = kn + 2 else kn = kn + 1 end
      end
      local candidate = s > G
      q = false
      ${stateLua('key', 'st')}
      tc, cb, cv, cool, nc, cn, m, calls, fail = st[1], st[2], st[3], st[4], st[5], st[6], st[7], st[8], st[9]
      local why = 0
      if candidate and cool > now then
        why = 4
      else
        if cb ~= cur then
          -- The open bucket changed: forget the closed buckets that left the span, close the open
          -- one, and persist that at once (whether or not this subject is reserved in).
          local ring_name, ring_value = nil, nil
          if cur - cb > K then
            -- Everything counted has left the span (or there was nothing): start afresh.
            if st[10] then
              -- Keep the latency averages (field 'l'): they outlive the windows.
              local l = call('HGET', key, 'l')
              call('DEL', key)
              if l then call('HSET', key, 'l', l) end
            end
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
              ring_name, ring_value = spack(BF, cb % 4294967296), spack(RF, cv, cn)
              tc, nc = tc + cv, nc + cn
            end
            if tc < 0 then tc = 0 end
            if nc < 0 then nc = 0 end
          end
          cb, cv, cn = cur, 0, 0
          st[1], st[2], st[3], st[5], st[6], st[10] = tc, cb, cv, nc, cn, true
          local s = spack(SF, tc, cb, cv, cool, nc, cn, m, calls, fail)
          if ring_name then call('HSET', key, 's', s, ring_name, ring_value) else call('HSET', key, 's', s) end
          if cool - now > TTL then call('PEXPIRE', key, cool - now) else call('PEXPIRE', key, TTLS) end
        end
        if r > 0 and nc + cn >= r then
          why = 1
        elseif t > 0 and tc + cv + tokens > t then
          why = 2
        elseif p > 0 then
          ${flightsLua('ikey')}
          if flights[ikey] >= p then why = 3 end
        end
        if why == 0 and sl > 0 then
          -- Smoothing: the slice ring (field 'q', SLICE_FMT): the open sub-bucket (a tenth of the
          -- slice), then 11 counts, sub-bucket b at 2 + b % 11. The open one and the 10 before it
          -- span a slice and a tenth, so no rolling slice ever holds more than the slice's share.
          local sms, smax = floor(sl / 16777216), sl % 16777216
          local sb = floor(now * 10 / sms)
          local qb = call('HGET', key, 'q')
          if qb then q = { sunpack(QF, qb) } else q = { sb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 } end
          if sb - q[1] >= 11 then
            for x = 2, 12 do q[x] = 0 end
          else
            for b = q[1] + 1, sb do q[2 + b % 11] = 0 end
          end
          q[1] = sb
          local held = 0
          for x = 2, 12 do held = held + q[x] end
          if held >= smax then
            -- Refused until enough sub-buckets have left the span, oldest first.
            why = 6
            local need = held + 1 - smax
            for b = sb - 10, sb do
              need = need - q[2 + b % 11]
              if need <= 0 then q = math.ceil((b + 11) * sms / 10 - now) break end
            end
            if type(q) == 'table' then q = W end
          end
        end
      end
      if why == 0 and candidate then chosen = s; break end
      if not seen then seen = {} end
      if why == 0 then
        seen[s] = { key, ikey, r, t, p, q, st }
      else
        seen[s] = { key, ikey, r, t, p, tc, cb, cv, cool, nc, cn, m, calls, fail, why, q }
        if not candidate then refusing = s; break end
      end
    end

    if not chosen then
      -- Slow path: when may a slot free? For the refusing gate, or the soonest of all candidates.
      local function wait_for(i)
        local k, _, rl, tl, _, tcl, _, cvl, coolv, ncl, cnl, _, _, _, why, qw = tunpack(seen[i])
        if why == 4 then return coolv - now end
        if why == 3 then return 1000 end
        if why == 6 then return qw end
        -- Enough must leave: walk the closed buckets oldest first (a few per call), then the open one.
        local need = why == 1 and (ncl + cnl + 1 - rl) or (tcl + cvl + tokens - tl)
        local pick = why == 1 and 2 or 1
        local b = first
        while b < cur do
          local last = math.min(b + 15, cur - 1)
          local names = {}
          for x = b, last do names[#names + 1] = spack(BF, x % 4294967296) end
          local got = call('HMGET', k, tunpack(names))
          for j = 1, #names do
            if got[j] then
              need = need - select(pick, sunpack(RF, got[j]))
              if need <= 0 then return (b + j + K) * B - now end
            end
          end
          b = last + 1
        end
        need = need - (why == 1 and cnl or cvl)
        if need <= 0 then return (cur + K + 1) * B - now end
        -- Larger than the whole limit: it never fits; one window is an honest "not soon".
        return W
      end
      -- A gate out of its slice is out of requests (reason 6 would name an account).
      if refusing then reply = spack('<ddddd', 4, 0, seen[refusing][15] == 6 and 1 or seen[refusing][15], refusing, wait_for(refusing)) break end
      if C == 0 then reply = spack('<ddddd', 4, 0, 5, 0, 0) break end
      local soonest, cooling = nil, 0
      for i = G + 1, G + C do
        local w = wait_for(i)
        if seen[i][15] == 4 then cooling = cooling + 1 end
        if soonest == nil or w < soonest then soonest = w end
      end
      reply = spack('<ddddd', 4, 0, cooling == C and 4 or 5, 0, soonest)
      break
    end

    -- Reserve in the chosen candidate (still in the locals), then every gate: in the states read
    -- (written once, at the end of the call) and, with a slice limit, in the slice ring at once.
    -- Per subject the reply carries rpm limit, remaining, reset, tpm limit, remaining, reset.
    made = true
    local reset = (cur + K + 1) * B - now
    if t > 0 then cv = cv + tokens end
    if r > 0 or t > 0 then cn = cn + 1 end
    if m == minute then calls = calls + 1 else m, calls, fail = minute, 1, 0 end
    st[3], st[6], st[7], st[8], st[9] = cv, cn, m, calls, fail
    if not st[11] then st[11] = true; changed[#changed + 1] = key end
    if q then
      q[2 + q[1] % 11] = q[2 + q[1] % 11] + 1
      call('HSET', key, 'q', spack(QF, tunpack(q, 1, 12)))
    end
    if p > 0 then ${LEASE_LUA.trim()} end
    local rleft, rreset = r > 0 and math.max(r - nc - cn, 0) or 0, r > 0 and reset or 0
    local tleft, treset = t > 0 and math.max(t - tc - cv, 0) or 0, t > 0 and reset or 0
    if G == 0 and na == 0 then
      -- The common reply (one subject, no account) is packed straight from the locals.
      reply = spack('<dddddddddd', 9, 1, chosen, cur, r, rleft, rreset, t, tleft, treset)
      break
    end
    local out = { 0, 1, chosen - G, cur, r, rleft, rreset, t, tleft, treset }
    for g = 1, G do
      key, ikey, r, t, p, q, st = tunpack(seen[g])
      tc, cv, nc, cn = st[1], st[3], st[5], st[6]
      if t > 0 then cv = cv + tokens end
      if r > 0 or t > 0 then cn = cn + 1 end
      st[3], st[6] = cv, cn
      if not st[11] then st[11] = true; changed[#changed + 1] = key end
      if q then
        q[2 + q[1] % 11] = q[2 + q[1] % 11] + 1
        call('HSET', key, 'q', spack(QF, tunpack(q, 1, 12)))
      end
      if p > 0 then ${LEASE_LUA.trim()} end
      local o = #out
      out[o + 1], out[o + 2], out[o + 3] = r, r > 0 and math.max(r - nc - cn, 0) or 0, r > 0 and reset or 0
      out[o + 4], out[o + 5], out[o + 6] = t, t > 0 and math.max(t - tc - cv, 0) or 0, t > 0 and reset or 0
    end
    for j = 1, na do
      local a = ac[2 * j]
      a[1] = a[1] + ac[2 * j - 1]
      if not a[8] then a[8] = true; changed[#changed + 1] = KEYS[k0 + j - 1] end
      out[#out + 1] = a[1]
      out[#out + 1] = a[5]
    end
    out[1] = #out - 1
    reply = spack('<' .. string.rep('d', #out), tunpack(out))
  until true
  replies[n] = reply
  k0 = k0 + tonumber(sub(A, 1, 12), 16)
  ai = ai + 3
end
for i = 1, #changed do
  local key = changed[i]
  local v = states[key]
  if v then
    call('HSET', key, 's', spack(SF, v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9]))
  else
    v = accounts[key]
    call('HSET', key, 'a', spack(AF, v[1], v[2], v[3], v[4], v[5], v[6], v[7]))
  end
end
for i = 1, addedKeys and #addedKeys or 0 do
  local ik = addedKeys[i]
  call('ZADD', ik, tunpack(added[ik]))
  call('PEXPIRE', ik, LEASES)
end
local out = table.concat(replies)
if made then call('HSET', KEYS[1], ARGV[1], out) end
if string.byte(ARGV[1], 5) == 33 then call('PEXPIRE', KEYS[1], '${recordTtlMs}') end
return out
`;
}
