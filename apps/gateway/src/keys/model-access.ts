/**
 * Which model groups a key may use, compiled once per cached key record (a request only looks it
 * up). LiteLLM's rules: no models (or `*`, `all-proxy-models`) means every model; otherwise the
 * name the client sent or the group it resolves to must be listed, exactly or by a `*` wildcard
 * (`openai/*`).
 */
export interface ModelAccess {
  readonly any: boolean;
  readonly names: ReadonlySet<string>;
  readonly patterns: readonly RegExp[];
}

export function modelAccess(models: readonly string[]): ModelAccess {
  const any = models.length === 0 || models.some((m) => m === '*' || m === 'all-proxy-models');
  const patterns = models
    .filter((m) => m.includes('*'))
    .map((m) => new RegExp(`^${m.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`));
  return { any, names: new Set(models), patterns };
}

export function modelAllowed(access: ModelAccess, requested: string, group: string): boolean {
  if (access.any || access.names.has(requested) || access.names.has(group)) return true;
  return access.patterns.some((p) => p.test(requested) || p.test(group));
}
