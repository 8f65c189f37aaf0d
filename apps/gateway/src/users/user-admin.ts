import { randomUUID } from 'node:crypto';
import type { BudgetPeriod, StoredAccount } from '@fleetgate/ratelimit';
import { badRequest, GatewayError } from '../errors.js';
import { applyBudgetDuration } from '../keys/budget-fields.js';
import {
  type Directory,
  isMemberAccount,
  memberAccountId,
  teamAccountId,
  userAccountId,
} from '../keys/directory.js';
import { type KeyAdmin, noSuchTeam } from '../keys/key-admin.js';
import { docOf, keyInfo, requiredParents } from '../keys/key-doc.js';
import { membershipInfo } from '../teams/member-budget.js';
import type { TeamAdmin } from '../teams/team-admin.js';
import { teamDocOf, teamInfo } from '../teams/team-doc.js';
import { toUserAccount, type UserDoc, userDocOf, userInfo } from './user-doc.js';
import type { NewUser, UpdateUser } from './user-schema.js';

const userNotFound = (userId: string) =>
  new GatewayError(404, 'not_found', `User ${userId} not found`, { param: 'user_id' });

/** What /user/new takes for the user; the rest of its body describes the key it issues. */
const USER_ONLY = [
  'user_email',
  'user_alias',
  'user_role',
  'sso_user_id',
  'organizations',
  'password',
  'teams',
  'auto_create_key',
  'max_budget',
  'budget_duration',
] as const;

/** The user's own fields of a /user/new or /user/update body. */
interface UserFields {
  readonly user_alias?: string | null | undefined;
  readonly user_email?: string | null | undefined;
  readonly user_role?: UserDoc['user_role'] | null | undefined;
  readonly tpm_limit?: number | null | undefined;
  readonly rpm_limit?: number | null | undefined;
  readonly max_parallel_requests?: number | null | undefined;
  readonly max_budget?: number | null | undefined;
  readonly models?: string[] | undefined;
  readonly metadata?: Record<string, unknown> | null | undefined;
  readonly budget_duration?: string | null | undefined;
  readonly sso_user_id?: unknown;
  readonly organizations?: unknown;
}

/**
 * LiteLLM's user admin API over the users' account store. What a user enforces, as LiteLLM does:
 * its rpm/tpm/parallel limits across all its keys; its models and its budget on its personal keys
 * (keys without a team — a team key answers to the team). Its spend counts every key's.
 */
export function createUserAdmin(
  dir: Directory,
  keys: KeyAdmin,
  teams: TeamAdmin,
  now: () => number = Date.now,
) {
  const { users } = dir;

  /** The ids of the teams whose members name the user (LiteLLM's `teams` of a user). */
  async function teamsOf(userId: string): Promise<StoredAccount[]> {
    const { ids } = await dir.teams.list(0, Number.MAX_SAFE_INTEGER);
    const all = await Promise.all(ids.map((id) => dir.teams.get(id)));
    return all.filter(
      (t): t is StoredAccount => !!t && teamDocOf(t).members_with_roles.some((m) => m.user_id === userId),
    );
  }
  const teamIds = async (userId: string) => (await teamsOf(userId)).map((t) => teamDocOf(t).team_id);

  async function byEmail(email: string): Promise<StoredAccount | undefined> {
    const { ids } = await users.list(0, Number.MAX_SAFE_INTEGER);
    for (const id of ids) {
      const u = await users.get(id);
      if (u && userDocOf(u).user_email === email) return u;
    }
    return undefined;
  }

  function apply(doc: UserDoc, body: UserFields, current: BudgetPeriod | undefined) {
    let budget = current;
    for (const field of [
      'user_alias',
      'user_email',
      'user_role',
      'tpm_limit',
      'rpm_limit',
      'max_parallel_requests',
    ] as const) {
      // As LiteLLM's user update: null leaves a field as it is (only max_budget can be cleared).
      const v = body[field];
      if (v !== undefined && v !== null) (doc as unknown as Record<string, unknown>)[field] = v;
    }
    if (body.max_budget !== undefined) doc.max_budget = body.max_budget;
    if (body.models !== undefined && body.models.length > 0) doc.models = body.models;
    if (body.metadata && Object.keys(body.metadata).length > 0) doc.metadata = body.metadata;
    if (body.budget_duration !== undefined && body.budget_duration !== null) {
      const b = applyBudgetDuration(body.budget_duration, { text: doc.budget_duration, budget }, now());
      budget = b.budget;
      doc.budget_duration = b.text;
    }
    for (const f of ['sso_user_id', 'organizations'] as const) {
      if (body[f] !== undefined) doc.extra = { ...doc.extra, [f]: body[f] };
    }
    doc.updated_at = new Date(now()).toISOString();
    return budget;
  }

  function blank(userId: string): UserDoc {
    const t = new Date(now()).toISOString();
    return {
      user_id: userId,
      user_alias: null,
      user_email: null,
      user_role: 'internal_user',
      models: [],
      max_budget: null,
      budget_duration: null,
      tpm_limit: null,
      rpm_limit: null,
      max_parallel_requests: null,
      metadata: {},
      created_at: t,
      updated_at: t,
    };
  }

  return {
    teamsOf,

    /** `/user/new`: the user and its first key, written together or not at all. */
    async create(body: NewUser) {
      const userId = body.user_id ?? randomUUID();
      if (await users.get(userAccountId(userId))) {
        throw new GatewayError(409, 'invalid_request', `User with id ${userId} already exists`, {
          param: 'user_id',
        });
      }
      if (body.user_email && (await byEmail(body.user_email))) {
        throw new GatewayError(409, 'invalid_request', `User with email ${body.user_email} already exists`, {
          param: 'user_email',
        });
      }
      const joins = [
        ...(body.team_id ? [{ team_id: body.team_id, role: 'user' as const, budget: null }] : []),
        ...(body.teams ?? []).map((t) =>
          typeof t === 'string'
            ? { team_id: t, role: 'user' as const, budget: null }
            : { team_id: t.team_id, role: t.user_role ?? 'user', budget: t.max_budget_in_team ?? null },
        ),
      ];
      for (const j of joins) {
        if (!(await dir.teams.get(teamAccountId(j.team_id)))) throw noSuchTeam(j.team_id);
      }
      const doc = blank(userId);
      const budget = apply(doc, body, undefined);
      const user = { record: toUserAccount(doc, budget, now()), spend: body.spend ?? 0 };
      const keyBody = Object.fromEntries(
        Object.entries(body).filter(([k]) => !(USER_ONLY as readonly string[]).includes(k)),
      ) as Parameters<KeyAdmin['prepare']>[0];
      const key = body.auto_create_key === false ? undefined : keys.prepare({ ...keyBody, user_id: userId });
      const written = await dir.users.createAll(
        key ? [user, { record: key.record, spend: key.spend }] : [user],
        key ? requiredParents(docOf(key.record)) : {},
      );
      if (written.result === 'parent_missing') throw noSuchTeam(body.team_id ?? null);
      if (written.result === 'alias_taken') {
        throw badRequest(`Key with alias '${body.key_alias}' already exists.`, 'key_alias');
      }
      if (written.result === 'exists') {
        throw new GatewayError(409, 'invalid_request', `User with id ${userId} already exists`, {
          param: 'user_id',
        });
      }
      for (const j of joins) {
        await teams
          .memberAdd(
            j.team_id,
            { role: j.role, user_id: userId, user_email: body.user_email ?? null },
            j.budget,
          )
          .catch((e: unknown) => {
            // Already a member is fine (LiteLLM ignores it too); a team deleted meanwhile took the key with it.
            if (!(e instanceof GatewayError && e.status < 500)) throw e;
          });
      }
      const issued = key ? keys.issued(key) : { key: null, expires: null };
      const { token: _t, token_id: _i, ...keyPart } = issued as Record<string, unknown>;
      return {
        ...keyPart,
        ...userInfo(
          { ...user.record, spend: user.spend },
          joins.map((j) => j.team_id),
        ),
        team_id: body.team_id ?? null,
      };
    },

    /** `/user/info?user_id=`: the user's row, its keys (hashes, never the keys) and its teams. */
    async info(userId: string) {
      const account = await users.get(userAccountId(userId));
      if (!account) throw userNotFound(userId);
      const memberships = await teamsOf(userId);
      // A user's members are its keys and its budgets in teams: only the keys here.
      const ids = (await dir.keys.members(userAccountId(userId))).filter((id) => !isMemberAccount(id));
      const found = (await Promise.all(ids.map((id) => dir.keys.get(id)))).filter(
        (k): k is StoredAccount => !!k,
      );
      return {
        user_id: userId,
        user_info: userInfo(
          account,
          memberships.map((t) => teamDocOf(t).team_id),
        ),
        keys: found.map(keyInfo),
        // LiteLLM's team_memberships of each team: the user's own, when it has a budget there.
        teams: await Promise.all(
          memberships.map(async (t) => {
            const budget = await dir.members.get(memberAccountId(teamDocOf(t).team_id, userId));
            return { ...teamInfo(t), team_memberships: budget ? [membershipInfo(budget)] : [] };
          }),
        ),
      };
    },

    /** `/user/update`, by user_id or user_email; an unknown user is created, as LiteLLM does. */
    async update(body: UpdateUser) {
      let account = body.user_id
        ? await users.get(userAccountId(body.user_id))
        : await byEmail(body.user_email!);
      const userId = body.user_id ?? (account ? userDocOf(account).user_id : randomUUID());
      if (!account) {
        const doc = blank(userId);
        const budget = apply(doc, body, undefined);
        const created = await users.create(toUserAccount(doc, budget, now()), body.spend ?? 0);
        if (created !== 'created' && created !== 'exists')
          throw badRequest(`could not create user ${userId}`);
        account = await users.get(userAccountId(userId));
        if (!account) throw userNotFound(userId);
        if (created === 'created') return { user_id: userId, data: userInfo(account, []) };
      }
      const doc = userDocOf(account);
      const budget = apply(doc, body, account.budget);
      const spend = body.spend === null ? undefined : body.spend;
      const result = await users.update(toUserAccount(doc, budget, account.createdAt), spend);
      if (result === 'missing') throw userNotFound(userId);
      const stored = (await users.get(account.id)) ?? account;
      return { user_id: userId, data: userInfo(stored, await teamIds(userId)) };
    },

    /** Deletes the users with their keys, and takes them out of their teams; all must exist. */
    async delete(userIds: readonly string[]) {
      for (const id of userIds) {
        if (!(await users.get(userAccountId(id)))) {
          throw new GatewayError(404, 'not_found', `User not found, passed user_id=${id}`, {
            param: 'user_ids',
          });
        }
      }
      for (const id of userIds) {
        for (const t of await teamsOf(id)) {
          await teams.memberDelete(teamDocOf(t).team_id, { user_id: id }).catch(() => {
            // Gone or changed meanwhile: nothing left to take the user out of.
          });
        }
      }
      await users.delete(userIds.map(userAccountId));
      return { deleted_users: userIds };
    },

    async list(query: {
      page: number;
      page_size: number;
      user_ids?: string[];
      role?: string;
      team?: string;
    }) {
      const { ids } = await users.list(0, Number.MAX_SAFE_INTEGER);
      const all = (await Promise.all(ids.map((id) => users.get(id)))).filter((u): u is StoredAccount => !!u);
      const inTeam =
        query.team === undefined ? undefined : new Set((await teamsOfTeam(dir, query.team)) ?? []);
      const match = all.filter((u) => {
        const d = userDocOf(u);
        return (
          (query.user_ids === undefined || query.user_ids.includes(d.user_id)) &&
          (query.role === undefined || d.user_role === query.role) &&
          (inTeam === undefined || inTeam.has(d.user_id))
        );
      });
      const page = match.slice((query.page - 1) * query.page_size, query.page * query.page_size);
      return {
        users: await Promise.all(
          page.map(async (u) => {
            const d = userDocOf(u);
            const keyCount = (await dir.keys.members(u.id)).filter((id) => !isMemberAccount(id)).length;
            return { ...userInfo(u, await teamIds(d.user_id)), key_count: keyCount };
          }),
        ),
        total: match.length,
        page: query.page,
        page_size: query.page_size,
        total_pages: Math.ceil(match.length / query.page_size),
      };
    },
  };
}

/** The user ids among a team's members, or undefined when the team does not exist. */
async function teamsOfTeam(dir: Directory, teamId: string): Promise<string[] | undefined> {
  const team = await dir.teams.get(teamAccountId(teamId));
  if (!team) return undefined;
  return teamDocOf(team)
    .members_with_roles.map((m) => m.user_id)
    .filter((id): id is string => id !== null);
}

export type UserAdmin = ReturnType<typeof createUserAdmin>;
