import type { ConfigPath } from './yaml-source.js';

const PREFIX = 'os.environ/';

/** A reference `os.environ/NAME` whose variable is not set. */
export interface MissingEnv {
  readonly path: ConfigPath;
  readonly name: string;
}

/**
 * Replaces every string value `os.environ/NAME` with the variable's value, anywhere in the tree,
 * as LiteLLM does. Missing variables are collected rather than thrown so startup names them all.
 * `env` is injected: only the config loader reads the process environment.
 */
export function resolveEnvRefs(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  missing: MissingEnv[],
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith(PREFIX)) return value;
    const name = value.slice(PREFIX.length);
    const resolved = env[name];
    // Set but empty is a value (LiteLLM reads it as ""), e.g. REDIS_PASSWORD= for a Redis without one.
    if (resolved === undefined) {
      missing.push({ path: path.slice(), name });
      return value;
    }
    return resolved;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveEnvRefs(item, env, missing, [...path, i]));
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = resolveEnvRefs(v, env, missing, [...path, k]);
    return out;
  }
  return value;
}
