import { ACCOUNT_FMT, ACCOUNT_LEGACY_LUA } from './account-state.js';

/**
 * Account records — virtual keys, teams, users: HASH fleetgate:v1:{ns}:account:<id> with fields
 *   a (the packed state admission enforces: spend, blocked, expiry, budget and its reset schedule;
 *   see account-state.ts), alias, created (ms), doc (the gateway's JSON), id, index (its
 *   collection's list, e.g. 'accounts'), parents (the ids of the accounts it belongs to, one per
 *   line)
 * plus STRING fleetgate:v1:{ns}:alias:<alias> → id (aliases are unique), a ZSET per collection
 * (fleetgate:v1:{ns}:accounts for keys, …:list:<name> for the others) id → created, SET
 * fleetgate:v1:{ns}:members:<id> of the ids that belong to an account (a team's or a user's keys),
 * and STRING fleetgate:v1:{ns}:accounts:version, bumped by every change so replicas know to drop
 * cached records. No TTLs: these are the users' keys and teams, kept until deleted (expired keys
 * stay readable, as in LiteLLM).
 */

/**
 * Creates one or more records, all or none (a user and its first key).
 * KEYS[1] version; then per record: its HASH, its alias STRING (unused without an alias), its
 *   collection's ZSET; then per parent of the record: the parent's HASH and the parent's members SET
 * ARGV[1] the number of records; then per record: id, alias ('' = none), created (ms), its index
 *   (the ZSET's name after the prefix, kept in the record for cascades), the number of parents P,
 *   P pairs (parent id, '1' when it must exist — or be created in this call — else '0'), the
 *   number of field/value arguments F, and those F arguments
 * Returns {'created'}, or {reason, id} with nothing written: 'exists' (that record), 'alias_taken'
 * (that record), 'parent_missing' (that parent).
 */
export const ACCOUNT_CREATE_LUA = `
local recs, creating, aliases = {}, {}, {}
local k, a = 2, 2
for r = 1, tonumber(ARGV[1]) do
  local rec = { key = KEYS[k], akey = KEYS[k + 1], index = KEYS[k + 2], id = ARGV[a], alias = ARGV[a + 1],
    created = ARGV[a + 2], iname = ARGV[a + 3], parents = {} }
  local np = tonumber(ARGV[a + 4])
  k, a = k + 3, a + 5
  for p = 1, np do
    rec.parents[p] = { key = KEYS[k], members = KEYS[k + 1], id = ARGV[a], must = ARGV[a + 1] == '1' }
    k, a = k + 2, a + 2
  end
  local nf = tonumber(ARGV[a])
  rec.fields = { unpack(ARGV, a + 1, a + nf) }
  a = a + 1 + nf
  if creating[rec.key] then return { 'exists', rec.id } end
  recs[r], creating[rec.key] = rec, true
end
for _, rec in ipairs(recs) do
  if redis.call('EXISTS', rec.key) == 1 then return { 'exists', rec.id } end
  if rec.alias ~= '' then
    if aliases[rec.alias] or redis.call('EXISTS', rec.akey) == 1 then return { 'alias_taken', rec.id } end
    aliases[rec.alias] = true
  end
  for _, p in ipairs(rec.parents) do
    if p.must and not creating[p.key] and redis.call('EXISTS', p.key) == 0 then return { 'parent_missing', p.id } end
  end
end
for _, rec in ipairs(recs) do
  redis.call('HSET', rec.key, 'index', rec.iname, unpack(rec.fields))
  if #rec.parents > 0 then
    local ids = {}
    for i, p in ipairs(rec.parents) do
      ids[i] = p.id
      redis.call('SADD', p.members, rec.id)
    end
    redis.call('HSET', rec.key, 'parents', table.concat(ids, '\\n'))
  end
  if rec.alias ~= '' then redis.call('SET', rec.akey, rec.id) end
  redis.call('ZADD', rec.index, rec.created, rec.id)
end
redis.call('INCR', KEYS[1])
return { 'created' }
`;

/**
 * KEYS[1] record  KEYS[2] current alias key  KEYS[3] new alias key  KEYS[4] version
 * KEYS[5..] the members SET of each current parent (as read), then per new parent its HASH and its
 *   members SET
 * ARGV[1] current alias as read ('' = none)  ARGV[2] new alias ('' = none)
 * ARGV[3] spend ('' = keep)  ARGV[4] budget: 'keep', 'none', or 'reset_at:every_ms:every_mo'
 * ARGV[5] current parents as read (one per line, '' = none)  ARGV[6] new parents (the same)
 * ARGV[7] per new parent '1' when it must exist, else '0'
 * ARGV[8] blocked ('1'/'0')  ARGV[9] expires (ms, '' = never)  ARGV[10] max_budget ('' = none)
 * ARGV[11..] field, value, … (alias and doc are replaced; absent ones are removed)
 * Returns 'updated', 'missing', 'alias_taken', 'parent_missing' (nothing written), or 'retry' when
 * the alias or the parents changed since they were read. A budget reset that is due is applied
 * first (spend 0), as admission would, so a new schedule never carries a finished period's spend.
 */
export const ACCOUNT_UPDATE_LUA = `
local call, spack, sunpack = redis.call, struct.pack, struct.unpack
local AF = '${ACCOUNT_FMT}'
${ACCOUNT_LEGACY_LUA.trim()}
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local current = redis.call('HGET', KEYS[1], 'alias') or ''
if current ~= ARGV[1] then return 'retry' end
if (redis.call('HGET', KEYS[1], 'parents') or '') ~= ARGV[5] then return 'retry' end
if ARGV[2] ~= '' and ARGV[2] ~= ARGV[1] and redis.call('EXISTS', KEYS[3]) == 1 then return 'alias_taken' end
local old, new, k = {}, {}, 5
for id in string.gmatch(ARGV[5], '[^\\n]+') do
  old[#old + 1] = { id = id, members = KEYS[k] }
  k = k + 1
end
for id in string.gmatch(ARGV[6], '[^\\n]+') do
  local j = #new + 1
  new[j] = { id = id, key = KEYS[k], members = KEYS[k + 1], must = string.sub(ARGV[7], j, j) == '1' }
  k = k + 2
end
for _, p in ipairs(new) do
  if p.must and redis.call('EXISTS', p.key) == 0 then return 'parent_missing' end
end
local id = redis.call('HGET', KEYS[1], 'id') or ''
local spend, reset_at, every_ms, every_mo, _
local ab = redis.call('HGET', KEYS[1], 'a')
if ab then
  spend, _, _, _, reset_at, every_ms, every_mo = sunpack(AF, ab)
else
  spend, _, _, _, reset_at, every_ms, every_mo = legacy_account(KEYS[1])
end
local t = redis.call('TIME')
if reset_at > 0 and t[1] * 1000 + math.floor(t[2] / 1000) >= reset_at then spend = 0 end
if ARGV[4] == 'none' then
  reset_at, every_ms, every_mo = 0, 0, 0
elseif ARGV[4] ~= 'keep' then
  local at, ms, mo = string.match(ARGV[4], '^(%d+):(%d*):(%d*)$')
  reset_at, every_ms, every_mo = tonumber(at), tonumber(ms) or 0, tonumber(mo) or 0
end
if ARGV[3] ~= '' then spend = tonumber(ARGV[3]) end
redis.call('HSET', KEYS[1], 'a', spack(AF, spend, ARGV[8] == '1' and 1 or 0, tonumber(ARGV[9]) or 0,
  tonumber(ARGV[10]) or -1, reset_at, every_ms, every_mo))
redis.call('HDEL', KEYS[1], 'alias', 'doc', 'parents')
local fields = {}
for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'parents', ARGV[6]) end
local staying = {}
for _, p in ipairs(new) do
  staying[p.id] = true
  redis.call('SADD', p.members, id)
end
for _, p in ipairs(old) do
  if not staying[p.id] then redis.call('SREM', p.members, id) end
end
if ARGV[1] ~= ARGV[2] then
  if ARGV[1] ~= '' then redis.call('DEL', KEYS[2]) end
  if ARGV[2] ~= '' then redis.call('SET', KEYS[3], id) end
end
redis.call('INCR', KEYS[4])
return 'updated'
`;

/**
 * Deletes an account and every account that belongs to it (a team and its keys), atomically.
 * KEYS[1] record  KEYS[2] its alias key (as read)  KEYS[3] its collection's ZSET  KEYS[4] version
 * KEYS[5] its members SET  KEYS[6..] the members SET of each of its parents (as read)
 * ARGV[1] id  ARGV[2] alias as read ('' = none)  ARGV[3] parents as read (one per line)
 * ARGV[4] the namespace's key prefix (fleetgate:v1:{ns}:)
 * Returns how many member accounts went with it, -1 when it did not exist, -2 to retry (its alias or
 * parents changed since they were read). The members' own keys are not known in advance, so the
 * script builds them from ARGV[4]: they share the namespace's {hash tag}, so on Redis Cluster the call
 * stays on one slot. One level: members of members are not followed (keys have none).
 */
export const ACCOUNT_DELETE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if (redis.call('HGET', KEYS[1], 'alias') or '') ~= ARGV[2] then return -2 end
if (redis.call('HGET', KEYS[1], 'parents') or '') ~= ARGV[3] then return -2 end
local P, id = ARGV[4], ARGV[1]
local gone = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  local rec = P .. 'account:' .. m
  local f = redis.call('HMGET', rec, 'alias', 'parents', 'index')
  if redis.call('DEL', rec) == 1 then
    gone = gone + 1
    if f[1] and redis.call('GET', P .. 'alias:' .. f[1]) == m then redis.call('DEL', P .. 'alias:' .. f[1]) end
    for p in string.gmatch(f[2] or '', '[^\\n]+') do
      if p ~= id then redis.call('SREM', P .. 'members:' .. p, m) end
    end
    redis.call('ZREM', P .. (f[3] or 'accounts'), m)
  end
end
redis.call('DEL', KEYS[1], KEYS[5])
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == id then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], id)
for i = 6, #KEYS do redis.call('SREM', KEYS[i], id) end
redis.call('INCR', KEYS[4])
return gone
`;

/**
 * Gives a record a new id (a regenerated key); for accounts without members.
 * KEYS[1] old record  KEYS[2] new record  KEYS[3] alias key  KEYS[4] its collection's ZSET
 * KEYS[5] version  KEYS[6..] the members SET of each of its parents (as read)
 * ARGV[1] old id  ARGV[2] new id  ARGV[3] alias ('' = none)  ARGV[4] parents as read (one per line)
 * Returns 'rekeyed', 'missing', 'exists', or 'retry' (its parents changed since they were read).
 * Spend, limits, alias and parents carry over; the old id is gone.
 */
export const ACCOUNT_REKEY_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'exists' end
if (redis.call('HGET', KEYS[1], 'parents') or '') ~= ARGV[4] then return 'retry' end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'id', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[2]) end
local created = redis.call('ZSCORE', KEYS[4], ARGV[1]) or '0'
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[4], created, ARGV[2])
for i = 6, #KEYS do
  redis.call('SREM', KEYS[i], ARGV[1])
  redis.call('SADD', KEYS[i], ARGV[2])
end
redis.call('INCR', KEYS[5])
return 'rekeyed'
`;

/**
 * The budget reset admission applies when a period is over, as a Lua function source: the next
 * reset after \`now\` from \`at\`, stepping every \`ms\` milliseconds or \`mo\` calendar months (UTC;
 * the day of month is clamped to the month's length; Howard Hinnant's civil-date arithmetic).
 */
export const NEXT_RESET_LUA = `
local function next_reset(at, ms, mo, now)
  local floor = math.floor
  if ms then return at + (floor((now - at) / ms) + 1) * ms end
  local DAY = 86400000
  while at <= now do
    local days = floor(at / DAY)
    local rem = at - days * DAY
    local z = days + 719468
    local era = floor(z / 146097)
    local doe = z - era * 146097
    local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
    local y = yoe + era * 400
    local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
    local mp = floor((5 * doy + 2) / 153)
    local d = doy - floor((153 * mp + 2) / 5) + 1
    local m = mp < 10 and mp + 3 or mp - 9
    if m <= 2 then y = y + 1 end
    local total = y * 12 + (m - 1) + mo
    y = floor(total / 12)
    m = total - y * 12 + 1
    local last = ({ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
    if m == 2 and ((y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0) then last = 29 end
    if d > last then d = last end
    local yy = m <= 2 and y - 1 or y
    local era2 = floor(yy / 400)
    local yoe2 = yy - era2 * 400
    local mp2 = m > 2 and m - 3 or m + 9
    local doe2 = yoe2 * 365 + floor(yoe2 / 4) - floor(yoe2 / 100) + floor((153 * mp2 + 2) / 5) + d - 1
    at = (era2 * 146097 + doe2 - 719468) * DAY + rem
  end
  return at
end
`;
