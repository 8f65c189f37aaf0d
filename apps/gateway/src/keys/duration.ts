import { addMonths, type BudgetEvery } from '@fleetgate/ratelimit';

const UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * LiteLLM's duration strings: a whole number and a unit — `30s`, `30m`, `30h`, `30d`, `2w`, `1mo`
 * (calendar months). Stricter than LiteLLM, which matches only a prefix (`30min` is 30 minutes there,
 * `1y` an error): here anything else is refused, so a typo cannot become a different duration.
 */
export function parseDuration(text: string): BudgetEvery | undefined {
  const m = /^(\d+)(s|m|h|d|w|mo)$/.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (n <= 0) return undefined;
  return m[2] === 'mo' ? { months: n } : { ms: n * UNITS[m[2]!]! };
}

/** `t` moved on by one duration (calendar months in UTC, the day clamped to the month's length). */
export function after(t: number, every: BudgetEvery): number {
  return 'ms' in every ? t + every.ms : addMonths(t, every.months);
}

const DAY = 86_400_000;

/**
 * The first budget reset, aligned to the calendar as LiteLLM aligns it: `1d` at the next midnight
 * (UTC), `7d`/`1w` on the next Monday, `30d` and months on the first of the next month, hours and
 * minutes at the next multiple of the duration. Later resets step by the duration from there
 * (LiteLLM's reset job steps from "now" instead, so its resets drift; these stay aligned).
 */
export function firstReset(now: number, text: string, every: BudgetEvery): number {
  const midnight = Math.floor(now / DAY) * DAY;
  if ('months' in every || text === '30d') {
    const d = new Date(now);
    return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  }
  const ms = every.ms;
  if (ms === 7 * DAY) {
    const weekday = (new Date(now).getUTCDay() + 6) % 7; // Monday = 0
    return midnight + (7 - weekday) * DAY;
  }
  if (ms % DAY === 0) return midnight + ms;
  return Math.floor(now / ms) * ms + ms;
}
