/**
 * An account's enforced state — what admission checks and charges on every request — packed in one
 * binary field 'a' of its record (see accounts.ts), as the windows' state is (window.ts): Lua's
 * `struct` reads and writes it as a copy of bytes, where text fields cost a number conversion each
 * way (strtod, printf) per field per request. ACCOUNT_FMT, 7 little-endian doubles (56 bytes):
 *   spend       USD in the current budget period (reservations included until they settle)
 *   blocked     1 or 0
 *   expires     ms (Redis clock), 0 = never
 *   max_budget  USD, -1 = none
 *   reset_at    the next budget reset, ms, 0 = none
 *   every_ms    the reset step in ms, 0 when stepping by months (or no reset)
 *   every_mo    the reset step in calendar months, 0 when stepping by ms (or no reset)
 * Records written before the packed state kept these as text fields; a script that meets one
 * converts it on the spot (ACCOUNT_LEGACY_LUA), so nothing needs migrating by hand.
 */
export const ACCOUNT_FMT = '<ddddddd';

export interface AccountState {
  readonly spend: number;
  readonly blocked: boolean;
  readonly expiresAt: number | undefined;
  readonly maxBudget: number | undefined;
  readonly resetAt: number | undefined;
  readonly everyMs: number | undefined;
  readonly everyMonths: number | undefined;
}

export function packAccount(s: AccountState): Buffer {
  const b = Buffer.alloc(56);
  const values = [
    s.spend,
    s.blocked ? 1 : 0,
    s.expiresAt ?? 0,
    s.maxBudget ?? -1,
    s.resetAt ?? 0,
    s.everyMs ?? 0,
    s.everyMonths ?? 0,
  ];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    b.writeDoubleLE(Number.isFinite(v) ? v : 0, 8 * i);
  }
  return b;
}

export function unpackAccount(b: Buffer): AccountState {
  const at = (i: number) => b.readDoubleLE(8 * i);
  const positive = (v: number) => (v > 0 ? v : undefined);
  return {
    spend: at(0),
    blocked: at(1) === 1,
    expiresAt: positive(at(2)),
    maxBudget: at(3) >= 0 ? at(3) : undefined,
    resetAt: positive(at(4)),
    everyMs: positive(at(5)),
    everyMonths: positive(at(6)),
  };
}

/**
 * Lua: `legacy_account(key)` — the state of a record written before the packed field, converted
 * (the packed field written, the text fields removed); nothing when the record does not exist.
 * Needs the prelude's `call`, `spack` and `AF` (= ACCOUNT_FMT).
 */
export const ACCOUNT_LEGACY_LUA = `
local function legacy_account(key)
  local f = call('HMGET', key, 'spend', 'blocked', 'expires', 'max_budget', 'reset_at', 'every_ms', 'every_mo')
  if not f[1] then return nil end
  local s = { tonumber(f[1]) or 0, f[2] == '1' and 1 or 0, tonumber(f[3]) or 0, tonumber(f[4]) or -1,
    tonumber(f[5]) or 0, tonumber(f[6]) or 0, tonumber(f[7]) or 0 }
  call('HSET', key, 'a', spack(AF, unpack(s)))
  call('HDEL', key, 'spend', 'blocked', 'expires', 'max_budget', 'reset_at', 'every_ms', 'every_mo')
  return unpack(s)
end
`;
