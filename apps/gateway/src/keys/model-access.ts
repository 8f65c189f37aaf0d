/**
 * Which model groups a key may use, compiled once per cached key record (a request only looks it
 * up). LiteLLM's rules: no models (or `*`, `all-proxy-models`) means every model; otherwise the
 * name the client sent or the group it resolves to must be listed, exactly or by a `*` wildcard
 * (`openai/*`). A key's team (and, for a personal key, its user) narrows it further: `also` holds
 * the next list that must allow the model too.
 */
export interface ModelAccess {
  readonly any: boolean;
  /** `no-default-models` on a user: its personal keys may use no model at all. */
  readonly none: boolean;
  readonly names: ReadonlySet<string>;
  readonly patterns: readonly RegExp[];
  readonly also?: ModelAccess | undefined;
}

export function modelAccess(models: readonly string[], also?: ModelAccess): ModelAccess {
  // `all-team-models` on a key defers to its team's list (`also`).
  const any =
    models.length === 0 ||
    models.some((m) => m === '*' || m === 'all-proxy-models' || m === 'all-team-models');
  const patterns = models
    .filter((m) => m.includes('*'))
    .map((m) => new RegExp(`^${m.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`));
  return { any, none: models.includes('no-default-models'), names: new Set(models), patterns, also };
}

/** Whether this list alone allows the model (not the lists it defers to). */
export function listAllows(access: ModelAccess, requested: string, group: string): boolean {
  if (access.none) return false;
  if (access.any || access.names.has(requested) || access.names.has(group)) return true;
  return access.patterns.some((p) => p.test(requested) || p.test(group));
}

/** Whether the key may use the model: its own list and every list it defers to allow it. */
export function modelAllowed(access: ModelAccess, requested: string, group: string): boolean {
  for (let a: ModelAccess | undefined = access; a; a = a.also)
    if (!listAllows(a, requested, group)) return false;
  return true;
}
