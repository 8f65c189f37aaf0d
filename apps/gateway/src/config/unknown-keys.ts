import type { ConfigPath } from './yaml-source.js';

/**
 * Lists the keys present in the raw config but absent from the validated result. The schema's
 * objects strip what they do not act on, so this diff is exactly "what Fleetgate ignores" — no second
 * list of known keys to keep in sync with the schema.
 */
export function droppedKeys(raw: unknown, parsed: unknown, path: PropertyKey[] = []): ConfigPath[] {
  const out: ConfigPath[] = [];
  walk(raw, parsed, path, out);
  return out;
}

function walk(raw: unknown, parsed: unknown, path: PropertyKey[], out: ConfigPath[]): void {
  if (Array.isArray(raw)) {
    if (!Array.isArray(parsed)) return;
    raw.forEach((item, i) => {
      walk(item, parsed[i], [...path, i], out);
    });
    return;
  }
  if (!isPlainObject(raw) || !isPlainObject(parsed)) return;
  for (const key of Object.keys(raw)) {
    if (!(key in parsed)) out.push([...path, key]);
    else walk(raw[key], parsed[key], [...path, key], out);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * The known key an unknown one was probably meant to be: within two edits (a swap counts as one),
 * and closer than half the key's length, so short keys are not "corrected" into unrelated ones.
 * `rmp` → `rpm`, `router_setings` → `router_settings`; `drop_params` → nothing.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const needle = unknown.toLowerCase();
  for (const k of known) {
    const d = editDistance(needle, k.toLowerCase());
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = Math.min(2, Math.floor(unknown.length / 2));
  return bestDistance <= limit && bestDistance > 0 ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number) => d[i * cols + j]!;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, at(i - 2, j - 2) + 1);
      d[i * cols + j] = v;
    }
  }
  return at(a.length, b.length);
}
