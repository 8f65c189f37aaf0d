import type { z } from 'zod';
import type { ConfigPath } from './yaml-source.js';

interface Def {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly shape?: Record<string, z.ZodType>;
  readonly element?: z.ZodType;
  readonly valueType?: z.ZodType;
  readonly options?: readonly z.ZodType[];
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * Whether the schema reads the value at `path` (a key it acts on), as opposed to one it strips or
 * merely keeps (a loose object's extra keys). Decides which `os.environ/` references must be set:
 * only those Fleetgate uses.
 */
export function schemaReads(schema: z.ZodType, path: ConfigPath): boolean {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return schemaReads(def.innerType!, path);
    case 'pipe':
      // z.preprocess(fn, schema) is a pipe from a transform into the schema that reads the value.
      return schemaReads(defOf(def.in!).type === 'transform' ? def.out! : def.in!, path);
    case 'union':
      return def.options!.some((option) => schemaReads(option, path));
    default:
      break;
  }
  if (path.length === 0) return true;
  const [key, ...rest] = path;
  switch (def.type) {
    case 'object': {
      const child = def.shape![String(key)];
      return child !== undefined && schemaReads(child, rest);
    }
    case 'array':
      return typeof key === 'number' && schemaReads(def.element!, rest);
    case 'record':
      return schemaReads(def.valueType!, rest);
    default:
      return false;
  }
}

/**
 * The keys the schema knows in the mapping at `path` (array indexes step into the element schema),
 * read from the schema itself; empty where it has no fixed keys (records, unions, loose extras).
 * What "did you mean" suggests from (unknown-keys.ts).
 */
export function knownKeysAt(schema: z.ZodType, path: ConfigPath): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
      return knownKeysAt(def.innerType!, path);
    case 'pipe':
      return knownKeysAt(defOf(def.in!).type === 'transform' ? def.out! : def.in!, path);
    default:
      break;
  }
  if (path.length === 0) return def.type === 'object' ? Object.keys(def.shape ?? {}) : [];
  const [key, ...rest] = path;
  if (def.type === 'object' && typeof key === 'string') {
    const child = def.shape?.[key];
    return child ? knownKeysAt(child, rest) : [];
  }
  if (def.type === 'array' && typeof key === 'number') return knownKeysAt(def.element!, rest);
  return [];
}
