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
