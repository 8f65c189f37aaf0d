/**
 * Account (virtual key) records: HASH fleetgate:v1:{ns}:account:<id> with fields
 *   spend, blocked ('1'/'0'), expires (ms), max_budget, reset_at (ms), every_ms | every_mo, alias,
 *   created (ms), doc (the gateway's JSON)
 * plus STRING fleetgate:v1:{ns}:alias:<alias> → id (aliases are unique), ZSET
 * fleetgate:v1:{ns}:accounts id → created (listing), and STRING fleetgate:v1:{ns}:accounts:version,
 * bumped by every change so replicas know to drop cached records. No TTLs: these are the users'
 * keys, kept until deleted (expired keys stay readable, as in LiteLLM).
 */

/**
 * KEYS[1] record  KEYS[2] alias key (unused without an alias)  KEYS[3] index  KEYS[4] version
 * ARGV[1] id  ARGV[2] alias ('' = none)  ARGV[3] created (ms)  ARGV[4..] field, value, …
 * Returns 'created', 'exists' or 'alias_taken'.
 */
export const ACCOUNT_CREATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'exists' end
if ARGV[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then return 'alias_taken' end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
if ARGV[2] ~= '' then redis.call('SET', KEYS[2], ARGV[1]) end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('INCR', KEYS[4])
return 'created'
`;

/**
 * KEYS[1] record  KEYS[2] current alias key  KEYS[3] new alias key  KEYS[4] version
 * ARGV[1] current alias as read ('' = none)  ARGV[2] new alias ('' = none)
 * ARGV[3] spend ('' = keep)  ARGV[4] budget: 'keep', 'none', or 'reset_at:every_ms:every_mo'
 * ARGV[5..] field, value, … (the fields below are replaced; absent ones are removed)
 * Returns 'updated', 'missing', 'alias_taken', or 'retry' when the alias changed since it was read.
 */
export const ACCOUNT_UPDATE_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local current = redis.call('HGET', KEYS[1], 'alias') or ''
if current ~= ARGV[1] then return 'retry' end
if ARGV[2] ~= '' and ARGV[2] ~= ARGV[1] and redis.call('EXISTS', KEYS[3]) == 1 then return 'alias_taken' end
redis.call('HDEL', KEYS[1], 'blocked', 'expires', 'max_budget', 'alias', 'doc')
if ARGV[4] ~= 'keep' then
  redis.call('HDEL', KEYS[1], 'reset_at', 'every_ms', 'every_mo')
  if ARGV[4] ~= 'none' then
    local at, ms, mo = string.match(ARGV[4], '^(%d+):(%d*):(%d*)$')
    redis.call('HSET', KEYS[1], 'reset_at', at)
    if ms ~= '' then redis.call('HSET', KEYS[1], 'every_ms', ms) else redis.call('HSET', KEYS[1], 'every_mo', mo) end
  end
end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'spend', ARGV[3]) end
local fields = {}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
if #fields > 0 then redis.call('HSET', KEYS[1], unpack(fields)) end
if ARGV[1] ~= ARGV[2] then
  if ARGV[1] ~= '' then redis.call('DEL', KEYS[2]) end
  if ARGV[2] ~= '' then redis.call('SET', KEYS[3], redis.call('HGET', KEYS[1], 'id') or '') end
end
redis.call('INCR', KEYS[4])
return 'updated'
`;

/**
 * KEYS[1] record  KEYS[2] alias key  KEYS[3] index  KEYS[4] version
 * ARGV[1] id  ARGV[2] alias as read ('' = none)
 * Returns 1 when the record existed and is gone, else 0.
 */
export const ACCOUNT_DELETE_LUA = `
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('INCR', KEYS[4])
return 1
`;

/**
 * KEYS[1] old record  KEYS[2] new record  KEYS[3] alias key  KEYS[4] index  KEYS[5] version
 * ARGV[1] old id  ARGV[2] new id  ARGV[3] alias ('' = none)
 * Returns 'rekeyed', 'missing' or 'exists'. Spend, limits and alias carry over; the old id is gone.
 */
export const ACCOUNT_REKEY_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'exists' end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[2], 'id', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[2]) end
local created = redis.call('ZSCORE', KEYS[4], ARGV[1]) or '0'
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZADD', KEYS[4], created, ARGV[2])
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
