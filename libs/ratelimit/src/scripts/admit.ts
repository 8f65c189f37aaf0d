import type { Geometry } from '../options.js';
import { NEXT_RESET_LUA } from './accounts.js';

/**
 * admit.lua — one atomic admission: check every gate and the candidates in order, reserve in all
 * gates and the first candidate that is not cooling down and has room.
 *
 * Subjects are the C candidates, then the G gates. ARGV[5+i] gives subject i's limits as
 * 'rpm:tpm:parallel' (0 = unlimited), and KEYS holds (after the account record, when there is an
 * account) subject after subject only the keys those limits use:
 *   state     HASH  (always) 't' tokens counted, 'c' oldest counted bucket, 'cb' current bucket and
 *                   'cv' its tokens; 'm' minute, 'calls', 'fail' (cooldown decisions); 'cool'
 *                   cooldown end (ms)
 *   ring      HASH  (when tpm > 0) closed buckets: bucket index → tokens
 *   rpm log   LIST  (when rpm > 0) admission times (ms, Redis clock), newest at the head
 *   in-flight ZSET  (when parallel > 0) lease id → lease expiry (ms)
 * ARGV[1] C  ARGV[2] G  ARGV[3] tokens to reserve  ARGV[4] lease id
 * ARGV[5] the account's estimated cost ('' = no account); its record is KEYS[1] (see accounts.ts):
 *   it must exist, not be blocked or expired, and be under budget (a due budget reset is applied
 *   first); on admission the cost is added to its spend.
 * Window W, bucket B, lease L and K = ceil(W/B) are compiled into the script (see admitScript).
 *
 * Returns {1, chosen candidate (1-based), bucket, then for the chosen candidate and each gate:
 *          rpm limit, rpm remaining, rpm reset ms, tpm limit, tpm remaining, tpm reset ms}
 *          and, with an account, its spend after the reservation (string) and budget period (reset_at)
 *      or {0, reason, gate (1-based, 0 = none), retry after ms, spend, budget or expiry}
 *         reason 1 gate rpm, 2 gate tpm, 3 gate parallel, 4 every candidate cooling down, 5 no room,
 *         6 account missing, 7 blocked, 8 expired, 9 over budget
 *
 * RPM is an exact log: a request is admitted when fewer than rpm admissions happened in the last
 * window, so no rolling window ever holds more than rpm. TPM counts tokens in buckets and looks at
 * the current bucket plus the K before it, which always covers the last window (a span of
 * W..W+B), so it never over-admits either. Each admission also counts a call in the chosen
 * candidate's minute, the denominator of LiteLLM's failure-ratio rule.
 *
 * Written for speed, measured with INFO commandstats: the fast path (a subject with room) is
 * straight-line code that allocates a handful of tables and no closures (Lua garbage is much of
 * what a script call pays for), reads each hash once and writes it once. Retry-after is only worked
 * out, by a function defined on that slow path, when nothing fits.
 */
export function admitScript(geo: Geometry): string {
  return `
local W, B, L, K = ${geo.windowMs}, ${geo.bucketMs}, ${geo.leaseMs}, ${geo.k}
local STATE_TTL, RING_TTL = ${stateTtl(geo)}, ${(geo.k + 2) * geo.bucketMs}
local call, tonumber, floor = redis.call, tonumber, math.floor
local C, G, tokens = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local time = call('TIME')
local now = tonumber(time[1]) * 1000 + floor(tonumber(time[2]) / 1000)
local cur = floor(now / B)
local first = cur - K
local minute = floor(now / 60000)
local N = C + G
local cost = ARGV[5] ~= '' and tonumber(ARGV[5]) or nil

-- The account first: a key that may not spend refuses the request before any window is touched.
local period = 0
if cost then
  local a = call('HMGET', KEYS[1], 'spend', 'blocked', 'expires', 'max_budget', 'reset_at', 'every_ms', 'every_mo')
  local spend = tonumber(a[1])
  if not spend then return { 0, 6, 0, 0 } end
  if a[2] == '1' then return { 0, 7, 0, 0 } end
  local expires = tonumber(a[3])
  if expires and now >= expires then return { 0, 8, 0, 0, '0', tostring(expires) } end
  local reset_at = tonumber(a[5])
  if reset_at and now >= reset_at then
    ${NEXT_RESET_LUA.trim()}
    reset_at = next_reset(reset_at, tonumber(a[6]), tonumber(a[7]), now)
    spend = 0
    call('HSET', KEYS[1], 'spend', 0, 'reset_at', reset_at)
  end
  period = reset_at or 0
  local budget = tonumber(a[4])
  if budget and spend >= budget then return { 0, 9, 0, 0, tostring(spend), tostring(budget) } end
end

-- Per subject i, flat: v[10i-9..10i] = rpm limit, tpm limit, parallel limit, rpm used, tpm used,
-- oldest counted bucket (false: none), outcome minute, calls, tokens already in bucket cur, and
-- the closed bucket the state still holds (false: none) whose tokens are v[10i+...]: see closing.
-- keys[4i-3..4i] = state, ring, rpm log, in-flight (false when not passed).
local v, keys, cool, closing = {}, {}, {}, {}
local kn = cost and 2 or 1
for i = 1, N do
  local r, t, p = string.match(ARGV[5 + i], '^(%d+):(%d+):(%d+)$')
  r, t, p = tonumber(r), tonumber(t), tonumber(p)
  local o = 10 * (i - 1)
  v[o + 1], v[o + 2], v[o + 3], v[o + 4], v[o + 5] = r, t, p, 0, 0
  v[o + 6], v[o + 7], v[o + 8], v[o + 9], v[o + 10] = false, false, 0, 0, false
  local q = 4 * (i - 1)
  keys[q + 1] = KEYS[kn]
  kn = kn + 1
  if t > 0 then keys[q + 2] = KEYS[kn]; kn = kn + 1 else keys[q + 2] = false end
  if r > 0 then keys[q + 3] = KEYS[kn]; kn = kn + 1 else keys[q + 3] = false end
  if p > 0 then keys[q + 4] = KEYS[kn]; kn = kn + 1 else keys[q + 4] = false end
end

-- Checks gates first, then candidates, until a gate lacks room or a candidate has it.
-- why[i] records the first limit that refused subject i.
local why = {}
local chosen = nil
for n = 1, N do
  local i = n <= G and (C + n) or (n - G)
  local candidate = i <= C
  local o, q = 10 * (i - 1), 4 * (i - 1)
  local room = true
  if v[o + 2] > 0 or candidate then
    local skey = keys[q + 1]
    local s = call('HMGET', skey, 'c', 't', 'cb', 'cv', 'm', 'calls', 'cool')
    local e = tonumber(s[7])
    if candidate and e and e > now then
      room = false
      why[i] = 4
      cool[i] = e
    else
      local c, total = tonumber(s[1]), tonumber(s[2]) or 0
      local cb, cv = tonumber(s[3]), tonumber(s[4]) or 0
      v[o + 7], v[o + 8] = tonumber(s[5]) or false, tonumber(s[6]) or 0
      if c and c < first then
        -- Forget buckets that left the counted span, and persist it at once (the ring loses them
        -- now, whether or not this subject is reserved in). Amortised: each bucket once.
        if cb and cb < first then total, cb, cv = total - cv, cur, 0 end
        local ring = keys[q + 2]
        if ring and first - c > K then
          call('DEL', ring)
          total = 0
        elseif ring then
          for b = c, first - 1 do
            local x = call('HGET', ring, b)
            if x then total = total - tonumber(x); call('HDEL', ring, b) end
          end
        end
        if total < 0 then total = 0 end
        c = first
        call('HSET', skey, 'c', c, 't', total, 'cb', cb or cur, 'cv', cv)
      end
      if cb == cur then v[o + 9] = cv
      elseif cb and cv > 0 then closing[i] = { cb, cv } end
      v[o + 5], v[o + 6] = total, c or false
      if v[o + 2] > 0 and total + tokens > v[o + 2] then room = false; why[i] = 2 end
    end
  end
  if room and v[o + 1] > 0 then
    local key = keys[q + 3]
    while true do
      local oldest = call('LINDEX', key, -1)
      if not oldest or tonumber(oldest) > now - W then break end
      call('RPOP', key)
    end
    v[o + 4] = call('LLEN', key)
    if v[o + 4] >= v[o + 1] then room = false; why[i] = 1 end
  end
  if room and v[o + 3] > 0 then
    call('ZREMRANGEBYSCORE', keys[q + 4], '-inf', now)
    if call('ZCARD', keys[q + 4]) >= v[o + 3] then room = false; why[i] = 3 end
  end
  if not candidate and not room then
    -- A gate without room refuses the request whatever the candidates.
    chosen = -(i - C)
    break
  end
  if candidate and room then
    chosen = i
    break
  end
end

if not chosen or chosen < 0 then
  -- Slow path: when may a slot free? For the refusing gate, or the soonest of all candidates.
  local function wait_for(i)
    local o, q = 10 * (i - 1), 4 * (i - 1)
    local reason = why[i]
    if reason == 4 then return cool[i] - now end
    if reason == 1 then
      -- One more fits once the admission rpm-1 places after the newest leaves the window; from
      -- the tail that is index -(used-rpm+1), the tail itself in the usual case used == rpm.
      local e = call('LINDEX', keys[q + 3], -(v[o + 4] - v[o + 1] + 1))
      return e and (tonumber(e) + W - now) or 0
    end
    if reason == 2 then
      local need = v[o + 5] + tokens - v[o + 2]
      local names = {}
      for b = first, cur do names[#names + 1] = b end
      local buckets = call('HMGET', keys[q + 2], unpack(names))
      local held = closing[i]
      for j = 1, #buckets do
        local b = first + j - 1
        local x = tonumber(buckets[j]) or 0
        if held and held[1] == b then x = x + held[2] end
        if b == cur then x = x + v[o + 9] end
        if x > 0 then
          need = need - x
          if need <= 0 then return (b + K + 1) * B - now end
        end
      end
      -- Larger than the whole limit: it never fits; one window is an honest "not soon".
      return W
    end
    return 1000
  end
  if chosen then
    local g = -chosen
    return { 0, why[C + g], g, wait_for(C + g) }
  end
  if C == 0 then return { 0, 5, 0, 0 } end
  local soonest, cooling = nil, 0
  for i = 1, C do
    local w = wait_for(i)
    if why[i] == 4 then cooling = cooling + 1 end
    if soonest == nil or w < soonest then soonest = w end
  end
  return { 0, cooling == C and 4 or 5, 0, soonest }
end

-- Reserve in the chosen candidate, then every gate.
local out = { 1, chosen, cur }
for n = 0, G do
  local i = n == 0 and chosen or (C + n)
  local candidate = n == 0
  local o, q = 10 * (i - 1), 4 * (i - 1)
  local rpm, tpm = v[o + 1], v[o + 2]
  if rpm > 0 then
    call('LPUSH', keys[q + 3], now)
    call('PEXPIRE', keys[q + 3], W)
    out[#out + 1] = rpm
    out[#out + 1] = math.max(rpm - v[o + 4] - 1, 0)
    out[#out + 1] = W
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
  -- One HSET writes the reservation and the call count from what was read; the TTL is renewed
  -- when the minute turns (never shortening one a long cooldown set).
  local f = {}
  if tpm > 0 and tokens > 0 then
    local held = closing[i]
    if held then
      -- The state's bucket closed: it joins the ring, and the state starts the current one.
      call('HSET', keys[q + 2], held[1], held[2])
      call('PEXPIRE', keys[q + 2], RING_TTL)
    end
    f[1], f[2], f[3], f[4] = 'c', v[o + 6] or first, 't', v[o + 5] + tokens
    f[5], f[6], f[7], f[8] = 'cb', cur, 'cv', v[o + 9] + tokens
  end
  local new_minute = v[o + 7] ~= minute
  if candidate then
    f[#f + 1] = 'calls'; f[#f + 1] = new_minute and 1 or v[o + 8] + 1
    if new_minute then f[#f + 1] = 'fail'; f[#f + 1] = 0 end
  end
  if #f > 0 then
    if new_minute then f[#f + 1] = 'm'; f[#f + 1] = minute end
    call('HSET', keys[q + 1], unpack(f))
    if new_minute and call('PTTL', keys[q + 1]) < STATE_TTL then call('PEXPIRE', keys[q + 1], STATE_TTL) end
  end
  if tpm > 0 then
    out[#out + 1] = tpm
    out[#out + 1] = math.max(tpm - v[o + 5] - tokens, 0)
    out[#out + 1] = (cur + K + 1) * B - now
  else
    out[#out + 1] = 0
    out[#out + 1] = 0
    out[#out + 1] = 0
  end
  if v[o + 3] > 0 then
    call('ZADD', keys[q + 4], now + L, ARGV[4])
    call('PEXPIRE', keys[q + 4], L)
  end
end
if cost then
  out[#out + 1] = call('HINCRBYFLOAT', KEYS[1], 'spend', cost)
  out[#out + 1] = period
end
return out
`;
}

/**
 * The state hash's TTL, renewed when its minute turns: long enough for a reservation made late in
 * the minute to stay counted for a whole window, plus the minute itself and a margin.
 */
export function stateTtl(geo: Geometry): number {
  return (geo.k + 2) * geo.bucketMs + 120_000;
}
