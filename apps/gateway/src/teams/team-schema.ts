import { z } from 'zod';
import { accountName, count, metadata, modelList, nullable, usd } from '../keys/admin-schema.js';

const member = z
  .strictObject({
    role: z.enum(['admin', 'user'], { error: 'must be "admin" or "user"' }),
    user_id: nullable(accountName),
    user_email: nullable(z.string({ error: 'must be a string' })),
  })
  .refine((m) => !!m.user_id || !!m.user_email, {
    error: 'Either user id or user email must be provided',
    path: ['user_id'],
  });
export type MemberInput = z.output<typeof member>;

/**
 * LiteLLM's team fields that Fleetgate stores (in the document's `extra`) and shows, so its clients
 * and UI keep working; of these only `model_aliases` is acted on (a team key may ask for a model by
 * its alias). Anything else is refused by name.
 */
const INERT = {
  organization_id: z.unknown().optional(),
  admins: z.unknown().optional(),
  members: z.unknown().optional(),
  tags: z.unknown().optional(),
  guardrails: z.unknown().optional(),
  model_aliases: z
    .record(z.string(), z.string(), { error: 'must map aliases to model names' })
    .nullable()
    .optional(),
  object_permission: z.unknown().optional(),
  team_member_permissions: z.unknown().optional(),
  team_member_budget: z.unknown().optional(),
  team_member_key_duration: z.unknown().optional(),
  soft_budget: z.unknown().optional(),
  router_settings: z.unknown().optional(),
  access_group_ids: z.unknown().optional(),
  default_team_member_models: z.unknown().optional(),
  model_max_budget: z.unknown().optional(),
  prompts: z.unknown().optional(),
  policies: z.unknown().optional(),
} as const;
export const TEAM_INERT_FIELDS: readonly string[] = Object.keys(INERT);

const teamFields = {
  team_alias: nullable(z.string({ error: 'must be a string' }).max(256)),
  models: modelList,
  rpm_limit: nullable(count),
  tpm_limit: nullable(count),
  max_parallel_requests: nullable(count),
  max_budget: nullable(usd),
  budget_duration: nullable(z.string({ error: 'must be a duration such as "30d"' })),
  metadata,
  blocked: nullable(z.boolean({ error: 'must be true or false' })),
  ...INERT,
};

export const newTeamSchema = z.strictObject({
  ...teamFields,
  team_id: nullable(accountName),
  members_with_roles: z.array(member, { error: 'must be a list of members' }).optional(),
});
export const updateTeamSchema = z.strictObject({ ...teamFields, team_id: accountName });
export const deleteTeamSchema = z.strictObject({
  team_ids: z
    .array(accountName, { error: 'must be a list of team ids' })
    .min(1, { error: 'must not be empty' }),
});
export const blockTeamSchema = z.strictObject({ team_id: accountName });
export const memberAddSchema = z.strictObject({
  team_id: accountName,
  member: z.union([member, z.array(member)], { error: 'must be a member or a list of members' }),
  /** Each added member's budget inside the team (null or absent: none). */
  max_budget_in_team: nullable(usd),
});

/** Member limits LiteLLM keeps in the same budget table; only the budget is acted on here. */
const notYet = z.null({ error: 'team member rate limits are not supported yet' }).optional();

/**
 * `/team/member_update`: the member's role and budget in the team. Merge-patch, as LiteLLM's: a
 * field sent changes, null clears, absent stays as it is.
 */
export const memberUpdateSchema = z
  .strictObject({
    team_id: accountName,
    user_id: nullable(accountName),
    user_email: nullable(z.string({ error: 'must be a string' })),
    role: nullable(z.enum(['admin', 'user'], { error: 'must be "admin" or "user"' })),
    max_budget_in_team: nullable(usd),
    budget_duration: nullable(z.string({ error: 'must be a duration such as "30d"' })),
    tpm_limit: notYet,
    rpm_limit: notYet,
  })
  .refine((m) => !!m.user_id || !!m.user_email, {
    error: 'Either user_id or user_email needs to be passed in',
    path: ['user_id'],
  });
export type MemberUpdate = z.output<typeof memberUpdateSchema>;
export const memberDeleteSchema = z
  .strictObject({
    team_id: accountName,
    user_id: nullable(accountName),
    user_email: nullable(z.string({ error: 'must be a string' })),
  })
  .refine((m) => !!m.user_id || !!m.user_email, {
    error: 'Either user_id or user_email needs to be passed in',
    path: ['user_id'],
  });

export type NewTeam = z.output<typeof newTeamSchema>;
export type UpdateTeam = z.output<typeof updateTeamSchema>;
