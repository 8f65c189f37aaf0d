import { z } from 'zod';
import { badRequest } from '../errors.js';

/** A limit: a whole number, 0 or more (0 refuses every request, as in LiteLLM). */
export const count = z
  .number({ error: 'must be a number' })
  .int({ error: 'must be a whole number' })
  .min(0, { error: 'must be 0 or more' });
export const nullable = <T extends z.ZodType>(t: T) => t.nullable().optional();
export const usd = z.number({ error: 'must be a number' }).min(0, { error: 'must be 0 or more' });
function printable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 127) return false;
  }
  return true;
}

/** A team or user id: printable, one line (it names Redis keys and relations). */
export const accountName = z
  .string({ error: 'must be a string' })
  .min(1, { error: 'must not be empty' })
  .max(256, { error: 'must be at most 256 characters' })
  .refine(printable, { error: 'must not contain control characters' });
export const modelList = z
  .array(z.string({ error: 'must be a list of model names' }), { error: 'must be a list of model names' })
  .optional();
export const metadata = nullable(z.record(z.string(), z.unknown(), { error: 'must be an object' }));
const limits = z.record(z.string(), count, { error: 'must map model names to whole numbers' });

/**
 * LiteLLM's key fields that Fleetgate stores (in the document's `extra`) and shows, so LiteLLM's
 * clients (its CLI sends `aliases`, `config`, `budget_id`) keep working; of these only `aliases` is
 * acted on (the key may ask for a model by its alias). Anything else is refused by name.
 */
const INERT = {
  aliases: z
    .record(z.string(), z.string(), { error: 'must map aliases to model names' })
    .nullable()
    .optional(),
  config: z.unknown().optional(),
  permissions: z.unknown().optional(),
  tags: z.unknown().optional(),
  soft_budget: z.unknown().optional(),
  send_invite_email: z.unknown().optional(),
  key_type: z.unknown().optional(),
  allowed_routes: z.unknown().optional(),
  guardrails: z.unknown().optional(),
  budget_id: z.unknown().optional(),
  organization_id: z.unknown().optional(),
  allowed_cache_controls: z.unknown().optional(),
  enforced_params: z.unknown().optional(),
  model_max_budget: z.unknown().optional(),
  rpm_limit_type: z.unknown().optional(),
  tpm_limit_type: z.unknown().optional(),
} as const;
export const INERT_FIELDS: readonly string[] = Object.keys(INERT);

/** The fields a key is made of; every one optional (generate fills defaults, update changes only what is sent). */
export const keyFields = {
  key_alias: nullable(
    z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).max(256),
  ),
  duration: nullable(z.string({ error: 'must be a duration such as "30d"' })),
  models: modelList,
  rpm_limit: nullable(count),
  tpm_limit: nullable(count),
  max_parallel_requests: nullable(count),
  model_rpm_limit: nullable(limits),
  model_tpm_limit: nullable(limits),
  max_budget: nullable(usd),
  budget_duration: nullable(z.string({ error: 'must be a duration such as "30d"' })),
  metadata,
  user_id: nullable(accountName),
  team_id: nullable(accountName),
  blocked: nullable(z.boolean({ error: 'must be true or false' })),
  spend: usd.optional(),
  ...INERT,
};

const secret = z.string({ error: 'must be a string' }).regex(/^sk-[\x21-\x7e]{8,}$/, {
  error: 'must start with "sk-" and have at least 8 more printable characters',
});
const keyRef = z
  .string({ error: 'must be a key ("sk-…") or its hash' })
  .min(1, { error: 'must not be empty' });

export const generateSchema = z.strictObject({ ...keyFields, key: secret.optional() });
export const updateSchema = z.strictObject({ ...keyFields, key: keyRef });
export const regenerateSchema = z.strictObject({
  ...keyFields,
  key: keyRef.optional(),
  new_key: secret.optional(),
});
export const deleteSchema = z.strictObject({
  keys: z.array(keyRef, { error: 'must be a list of keys or hashes' }).optional(),
  key_aliases: z.array(z.string(), { error: 'must be a list of aliases' }).optional(),
});
export const blockSchema = z.strictObject({ key: keyRef });

export type KeyFields = z.output<typeof updateSchema>;

/** Parses an admin body, turning the first problem into a 400 that names the field. */
export function parseAdmin<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = issue.keys[0]!;
    throw badRequest(`unknown field "${field}"`, field);
  }
  const field = issue.path.map(String).join('.') || 'body';
  throw badRequest(`"${field}" ${issue.message}`, field);
}
