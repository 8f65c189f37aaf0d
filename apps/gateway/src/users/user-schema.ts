import { z } from 'zod';
import { accountName, count, keyFields, metadata, modelList, nullable, usd } from '../keys/admin-schema.js';
import { USER_ROLES } from './user-doc.js';

const role = z.enum(USER_ROLES, { error: `must be one of ${USER_ROLES.join(', ')}` });
const teamRef = z.union(
  [
    accountName,
    z.strictObject({
      team_id: accountName,
      user_role: z.enum(['admin', 'user']).optional(),
      max_budget_in_team: nullable(usd),
    }),
  ],
  { error: 'must be a team id or {"team_id": …}' },
);
const refused = (why: string) => z.undefined({ error: why }).optional();

/** Fields only a user has (the key fields of /user/new go to the key it issues). */
const userFields = {
  user_email: nullable(z.string({ error: 'must be a string' })),
  user_alias: nullable(z.string({ error: 'must be a string' })),
  user_role: nullable(role),
  sso_user_id: z.unknown().optional(),
  organizations: z.unknown().optional(),
  password: refused('passwords are not stored: Fleetgate has no UI login'),
};

/**
 * `/user/new`: a user and, unless `auto_create_key` is false, its first key. `max_budget` and
 * `budget_duration` are the user's; the limits and models go to both, as LiteLLM gives them.
 */
export const newUserSchema = z.strictObject({
  ...keyFields,
  ...userFields,
  teams: z.array(teamRef, { error: 'must be a list of team ids' }).nullable().optional(),
  auto_create_key: z.boolean({ error: 'must be true or false' }).optional(),
});

/** `/user/update`, by user_id or user_email (LiteLLM upserts: an unknown user is created). */
export const updateUserSchema = z
  .strictObject({
    ...userFields,
    user_id: nullable(accountName),
    models: modelList,
    max_budget: nullable(usd),
    budget_duration: nullable(z.string({ error: 'must be a duration such as "30d"' })),
    tpm_limit: nullable(count),
    rpm_limit: nullable(count),
    max_parallel_requests: nullable(count),
    metadata,
    spend: nullable(usd),
  })
  .refine((u) => !!u.user_id || !!u.user_email, {
    error: 'Either user_id or user_email must be provided',
    path: ['user_id'],
  });

export const deleteUserSchema = z.strictObject({
  user_ids: z
    .array(accountName, { error: 'must be a list of user ids' })
    .min(1, { error: 'must not be empty' }),
});

export type NewUser = z.output<typeof newUserSchema>;
export type UpdateUser = z.output<typeof updateUserSchema>;
