import type { BudgetPeriod } from '@fleetgate/ratelimit';
import { badRequest } from '../errors.js';
import { after, firstReset, parseDuration } from './duration.js';

/**
 * A `budget_duration` sent to the admin API, applied: null clears the schedule; a new duration
 * starts one aligned as LiteLLM aligns it (next midnight, Monday, first of the month); the same
 * duration keeps the schedule running. Keys, teams and users share this.
 */
export function applyBudgetDuration(
  value: string | null,
  current: { readonly text: string | null; readonly budget: BudgetPeriod | undefined },
  now: number,
): { text: string | null; budget: BudgetPeriod | undefined } {
  if (value === null) return { text: null, budget: undefined };
  const every = parseDuration(value);
  if (!every) {
    throw badRequest(
      `"budget_duration" must be a duration such as 30s, 30m, 30h, 30d or 1mo, got "${value}"`,
      'budget_duration',
    );
  }
  if (value === current.text && current.budget) return { text: value, budget: current.budget };
  return { text: value, budget: { resetAt: firstReset(now, value, every), every } };
}

/** A key's `duration`: null or "-1" (LiteLLM's spelling on update) never expires. */
export function applyDuration(
  value: string | null,
  now: number,
): { text: string | null; expires: string | null } {
  if (value === null || value === '-1') return { text: null, expires: null };
  const every = parseDuration(value);
  if (!every)
    throw badRequest(
      `"duration" must be a duration such as 30s, 30m, 30h, 30d or 1mo, got "${value}"`,
      'duration',
    );
  return { text: value, expires: new Date(after(now, every)).toISOString() };
}
