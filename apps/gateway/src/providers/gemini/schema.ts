import { badRequest } from '../../errors.js';

/**
 * The OpenAPI-subset Schema fields Gemini accepts (Vertex AI's `Schema` message); anything else in
 * a JSON schema (`additionalProperties`, `$schema`, `examples`, …) makes Gemini refuse the request.
 */
const KEPT = new Set([
  'type',
  'format',
  'title',
  'description',
  'nullable',
  'enum',
  'maxItems',
  'minItems',
  'properties',
  'required',
  'minProperties',
  'maxProperties',
  'minLength',
  'maxLength',
  'pattern',
  'example',
  'anyOf',
  'propertyOrdering',
  'default',
  'items',
  'minimum',
  'maximum',
]);

const MAX_DEPTH = 32;

/**
 * A JSON schema (tool parameters, response_format) in the shape Gemini takes, as LiteLLM's
 * `_build_vertex_schema` prepares it: `$ref`s into `$defs`/`definitions` inlined, `anyOf [X, null]`
 * and `type: [X, "null"]` turned into `nullable`, `const` into a one-value enum, unknown keys
 * dropped, and (for response schemas) `propertyOrdering` set so fields come back in the order given.
 * `param` names the schema in the request for the 400 a recursive schema gets.
 */
export function geminiSchema(
  schema: Record<string, unknown>,
  param: string,
  options: { propertyOrdering?: boolean } = {},
): Record<string, unknown> {
  const defs = { ...(asObject(schema['definitions']) ?? {}), ...(asObject(schema['$defs']) ?? {}) };
  return convert(schema, defs, 0, param, options.propertyOrdering === true);
}

function convert(
  node: Record<string, unknown>,
  defs: Record<string, unknown>,
  depth: number,
  param: string,
  ordering: boolean,
): Record<string, unknown> {
  if (depth > MAX_DEPTH) {
    throw badRequest(
      `"${param}" nests deeper than ${MAX_DEPTH} levels (or refers to itself), which Gemini cannot take`,
      param,
    );
  }
  const ref = node['$ref'];
  if (typeof ref === 'string') {
    const target = asObject(defs[ref.slice(ref.lastIndexOf('/') + 1)]);
    if (!target) throw badRequest(`"${param}" refers to ${ref}, which it does not define`, param);
    return convert(target, defs, depth + 1, param, ordering);
  }
  const out: Record<string, unknown> = {};
  let type = node['type'];
  if (Array.isArray(type)) {
    const rest = type.filter((t) => t !== 'null');
    if (rest.length < type.length) out['nullable'] = true;
    type = rest.length === 1 ? rest[0] : undefined;
    if (rest.length > 1) out['anyOf'] = rest.map((t) => ({ type: t }));
  }
  if (typeof type === 'string' && type !== 'null') out['type'] = type;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'type' || !KEPT.has(key)) continue;
    if (key === 'properties') {
      const props: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(asObject(value) ?? {})) {
        props[name] = convert(asObject(sub) ?? {}, defs, depth + 1, param, ordering);
      }
      out['properties'] = props;
      if (ordering && node['propertyOrdering'] === undefined) out['propertyOrdering'] = Object.keys(props);
    } else if (key === 'items') {
      const items = asObject(value);
      out['items'] =
        items && Object.keys(items).length > 0
          ? convert(items, defs, depth + 1, param, ordering)
          : { type: 'object' };
    } else if (key === 'anyOf' && Array.isArray(value)) {
      const options = value.map((v) => asObject(v) ?? {});
      const nonNull = options.filter((o) => o['type'] !== 'null');
      if (nonNull.length < options.length) out['nullable'] = true;
      if (nonNull.length === 1)
        Object.assign(
          out,
          convert(nonNull[0]!, defs, depth + 1, param, ordering),
          out['nullable'] ? { nullable: true } : {},
        );
      else out['anyOf'] = nonNull.map((o) => convert(o, defs, depth + 1, param, ordering));
    } else if (key === 'format') {
      if (value === 'enum' || value === 'date-time') out['format'] = value;
    } else out[key] = value;
  }
  if (node['const'] !== undefined && out['enum'] === undefined) out['enum'] = [node['const']];
  if (out['type'] === undefined && out['properties'] !== undefined) out['type'] = 'object';
  return out;
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}
