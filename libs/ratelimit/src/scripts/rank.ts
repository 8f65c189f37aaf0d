import type { PickRule } from '../types.js';
import { flightsLua, hex12, stateLua } from './window.js';

/** Latency and time-to-first-token averages of a subject: its window hash's field 'l' (settle.lua). */
export const LATENCY_FMT = '<dddd';

/**
 * The pick rule as admit.lua reads it, appended to an admission's numbers after the subjects'
 * limits: a letter (U usage, B in flight, L latency per token, T time to first token), the latency
 * buffer × 10⁶ and the samples' TTL in ms as 12 hex digits each, then one hex digit per candidate:
 * its tier.
 */
export function pickArg(rule: PickRule, candidates: number): string {
  const code = rule.by === 'usage' ? 'U' : rule.by === 'in_flight' ? 'B' : rule.stream ? 'T' : 'L';
  let arg = code + hex12((rule.buffer ?? 0) * 1e6) + hex12(rule.ttlMs ?? 3_600_000);
  for (let j = 0; j < candidates; j++) arg += Math.min(15, Math.max(0, rule.tiers[j] ?? 0)).toString(16);
  return arg;
}

/**
 * The ranking block of admit.lua, for an admission whose numbers A carry a pick rule (pickArg) at
 * `base`: sets `ord`, the order in which the walk looks at the candidates (subject indices,
 * G + j), `kp`, the first key of every subject (its window; its in-flight set follows when it has
 * a parallel limit). Reads one thing per candidate: its in-flight count (leases not yet expired)
 * or its packed window state — both through the call's tables (`flights`, `states`; window.ts), so
 * the walk and the batch's later admissions do not read them again — or its latency averages.
 * Sorted by tier, then score, then the order given — a weighted shuffle, so ties are broken at
 * random — with an insertion sort (a handful of candidates; table.sort would call back into Lua for
 * every comparison). A block, not a function: a closure costs its upvalues. Uses the walk's locals
 * and the prelude's clock, geometry and formats (window.ts).
 */
export const RANK_LUA = `
do
  local by = sub(A, base, base)
  local buffer = tonumber(sub(A, base + 1, base + 12), 16) / 1000000
  local ttl = tonumber(sub(A, base + 13, base + 24), 16)
  kp = {}
  local k = kn
  for i = 1, G + C do
    kp[i] = k
    local at = 13 + 36 * i
    if tonumber(sub(A, at + 24, at + 35), 16) > 0 then k = k + 2 else k = k + 1 end
  end
  local score, tier = {}, {}
  ord = {}
  for j = 1, C do
    local i = G + j
    local at = 13 + 36 * i
    local s = 0
    if by == 'B' then
      if tonumber(sub(A, at + 24, at + 35), 16) > 0 then
        local fkey = KEYS[kp[i] + 1]
        ${flightsLua('fkey')}
        s = flights[fkey]
      end
    elseif by == 'U' then
      local wkey, v = KEYS[kp[i]], nil
      ${stateLua('wkey', 'v')}
      if v[10] then
        local tc, cb, cv, nc, cn, mm, calls = v[1], v[2], v[3], v[5], v[6], v[7], v[8]
        local r, t = tonumber(sub(A, at, at + 11), 16), tonumber(sub(A, at + 12, at + 23), 16)
        if r > 0 or t > 0 then
          if cur - cb <= K then
            if r > 0 then s = (nc + cn) / r end
            if t > 0 and (tc + cv) / t > s then s = (tc + cv) / t end
          end
        elseif mm == minute then
          s = calls / 1e12
        end
      end
    else
      local lb = call('HGET', KEYS[kp[i]], 'l')
      if lb then
        local lat, lat_at, ttft, ttft_at = sunpack('${LATENCY_FMT}', lb)
        if by == 'T' then
          if now - ttft_at <= ttl then s = ttft end
        elseif now - lat_at <= ttl then
          s = lat
        end
      end
    end
    score[i] = s
    tier[i] = tonumber(sub(A, base + 24 + j, base + 24 + j), 16)
    ord[j] = i
  end
  if buffer > 0 then
    -- Every candidate within (1 + buffer) x its tier's lowest score counts as the lowest.
    local low = {}
    for i = G + 1, G + C do
      if low[tier[i]] == nil or score[i] < low[tier[i]] then low[tier[i]] = score[i] end
    end
    for i = G + 1, G + C do
      if score[i] <= low[tier[i]] * (1 + buffer) then score[i] = low[tier[i]] end
    end
  end
  for j = 2, C do
    local x = ord[j]
    local n = j - 1
    while n >= 1 do
      local y = ord[n]
      if tier[y] < tier[x] or (tier[y] == tier[x] and score[y] <= score[x]) then break end
      ord[n + 1] = y
      n = n - 1
    end
    ord[n + 1] = x
  end
end
`;
